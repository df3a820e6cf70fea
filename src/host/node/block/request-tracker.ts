/**
 * What every host block backend does around its I/O: counts the requests in flight, turns a
 * promise into a callback (run on the main loop, never from inside the request call), and lets
 * `close` wait until nothing is in flight.
 */
export class RequestTracker {
  private pending = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  /** Whether `close` was called: new requests must fail. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** How many requests are in flight. */
  get inFlight(): number {
    return this.pending;
  }

  /** Runs `work`, then `finish` with its error (undefined on success) and its value. */
  track<T>(work: Promise<T>, finish: (e: unknown, value: T | undefined) => void): void {
    this.pending++;
    const settle = (e: unknown, value: T | undefined): void => {
      this.pending--;
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      finish(e, value);
    };
    // A throwing `finish` is the caller's bug: it surfaces as an unhandled rejection.
    work.then((value) => settle(undefined, value), (e: unknown) => settle(e ?? new Error('failed'), undefined));
  }

  /** Waits for the requests in flight, then runs `release` once; later calls return the same promise. */
  close(release: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      await release();
    })();
    return this.closing;
  }
}
