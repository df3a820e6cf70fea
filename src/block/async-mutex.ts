/**
 * A FIFO async mutex: `lock()` resolves with a release function once every earlier holder has
 * released. Used to serialize an image's metadata updates across overlapping requests.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve();
  private held = false;

  /** Whether someone holds the lock now. */
  get locked(): boolean {
    return this.held;
  }

  /** Waits for the lock; call the returned function (once) to release it. */
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => next);
    await previous;
    this.held = true;
    let released = false;
    return () => {
      if (released) throw new Error('AsyncMutex: released twice');
      released = true;
      this.held = false;
      release();
    };
  }

  /** Runs `fn` holding the lock. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.lock();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
