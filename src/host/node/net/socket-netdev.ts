/**
 * `-netdev socket,listen=[HOST]:PORT` and `-netdev socket,connect=HOST:PORT` on Node: the
 * StreamNetBackend (src/net, QEMU's length-prefixed stream framing) over real TCP sockets.
 */
import type { HostSockets } from '../../../net/host-sockets.js';
import type { Schedule } from '../../../net/net-backend.js';
import { StreamNetBackend, type StreamNetdevMode } from '../../../net/stream-netdev.js';
import { NodeHostSockets } from './node-host-sockets.js';

export type { StreamNetdevMode } from '../../../net/stream-netdev.js';
export { NetdevError } from '../../../net/errors.js';

export interface SocketNetdevOptions {
  /** Default setImmediate; map it to a main-loop bottom half. */
  schedule?: Schedule;
  host?: HostSockets;
  /** The netdev id, for messages (`-netdev socket,id=n0,listen=:1234: ...`). */
  id?: string;
  log?: (message: string) => void;
}

/** How the option reads on the command line, for messages. */
export function socketNetdevLabel(mode: StreamNetdevMode, id?: string): string {
  const where = mode.kind === 'listen' ? `listen=${mode.addr}:${mode.port}` : `connect=${mode.addr}:${mode.port}`;
  return `-netdev socket,${id !== undefined ? `id=${id},` : ''}${where}`;
}

/**
 * Opens the backend: resolves once listening (listen) or connected (connect); rejects with a
 * NetdevError when the port is in use or the connection fails. A listen backend does not wait
 * for its peer: frames the guest sends before one connects are dropped, as in QEMU.
 */
export function createSocketNetdev(mode: StreamNetdevMode, options: SocketNetdevOptions = {}): Promise<StreamNetBackend> {
  const backend = new StreamNetBackend({
    host: options.host ?? new NodeHostSockets(),
    schedule: options.schedule ?? ((fn) => void setImmediate(fn)),
    mode,
    label: socketNetdevLabel(mode, options.id),
    log: options.log,
  });
  return new Promise((resolve, reject) => {
    backend.whenReady((error) => {
      if (error === null) return resolve(backend);
      backend.close();
      reject(error);
    });
  });
}
