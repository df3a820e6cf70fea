/** Opens the network backend a `-netdev` names (user or socket), for a virtio-net device. */
import type { VirtioDevicePlan } from '../virtio-plan.js';
import type { HostNetBackend } from '../virtio-host.js';
import { createSocketNetdev } from './socket-netdev.js';
import { createUserNetdev } from './user-netdev.js';

/** The backend of a net plan; rejects with a one-line NetdevError naming the option. */
export async function openNetdev(plan: Extract<VirtioDevicePlan, { kind: 'net' }>, log: (line: string) => void): Promise<HostNetBackend> {
  const n = plan.netdev;
  if (n.type === 'user') {
    return createUserNetdev({
      hostfwd: n.hostfwd.map((f) => ({
        proto: f.protocol,
        hostAddr: f.hostAddr,
        hostPort: f.hostPort,
        guestPort: f.guestPort,
        ...(f.guestAddr !== undefined ? { guestAddr: f.guestAddr } : {}),
      })),
      log,
    });
  }
  return createSocketNetdev({ kind: n.mode, addr: n.host, port: n.port }, { id: n.id, log });
}
