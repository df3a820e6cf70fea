/** Errors the network backends raise for bad configuration. */

/**
 * A netdev that cannot be set up. The message is one line naming the option, e.g.
 * `-netdev user: hostfwd tcp::5555: port 5555 already in use`.
 */
export class NetdevError extends Error {
  override name = 'NetdevError';
}
