/**
 * `-netdev user,id=...,hostfwd=...` on Node: the UserNetwork (src/net) over real host sockets.
 * The CLI parses the options; this takes them typed.
 */
import type { HostSockets } from '../../../net/host-sockets.js';
import type { Schedule } from '../../../net/net-backend.js';
import { UserNetwork, type HostForward } from '../../../net/user-network.js';
import { NodeHostSockets, type NodeHostSocketsOptions } from './node-host-sockets.js';

export type { HostForward } from '../../../net/user-network.js';
export { NetdevError } from '../../../net/errors.js';

export interface UserNetdevOptions {
  hostfwd?: readonly HostForward[];
  /**
   * Runs frame delivery into the guest on the main loop (map it to a bottom half under the BQL).
   * Default: setImmediate.
   */
  schedule?: Schedule;
  /** The host side; default NodeHostSockets with `hostOptions`. */
  host?: HostSockets;
  hostOptions?: NodeHostSocketsOptions;
  log?: (message: string) => void;
}

/**
 * Creates the user network and waits until every hostfwd port is listening. Rejects with a
 * NetdevError (`-netdev user: hostfwd tcp::5555: port 5555 already in use`) after releasing
 * whatever it had opened. `close()` on the result releases all host sockets.
 */
export function createUserNetdev(options: UserNetdevOptions = {}): Promise<UserNetwork> {
  const net = new UserNetwork({
    host: options.host ?? new NodeHostSockets(options.hostOptions),
    schedule: options.schedule ?? ((fn) => void setImmediate(fn)),
    hostfwd: options.hostfwd,
    log: options.log,
  });
  return new Promise((resolve, reject) => {
    net.whenReady((errors) => {
      if (errors.length === 0) return resolve(net);
      net.close();
      reject(errors[0]!);
    });
  });
}
