/**
 * Bottom halves (QEMU's QEMUBH, util/async.c): callbacks that device code schedules to run soon
 * from the main loop rather than inline. Scheduling is idempotent; pending halves run in the
 * order they were scheduled, and ones scheduled while a poll runs wait for the next poll.
 */

/** A bottom half; create it with BottomHalves.create. */
export class BottomHalf {
  /** @internal whether it is queued. */
  scheduled = false;
  private readonly owner: BottomHalves;
  readonly callback: () => void;

  /** Use BottomHalves.create. */
  constructor(owner: BottomHalves, callback: () => void) {
    this.owner = owner;
    this.callback = callback;
  }

  /** Queues the callback; does nothing when already queued (QEMU's qemu_bh_schedule). */
  schedule(): void {
    this.owner.schedule(this);
  }

  /** Removes it from the queue if queued (QEMU's qemu_bh_cancel). */
  cancel(): void {
    this.owner.cancel(this);
  }

  /** Whether it is queued. */
  get pending(): boolean {
    return this.scheduled;
  }
}

/** The bottom halves of one main loop. */
export class BottomHalves {
  private queue: BottomHalf[] = [];

  /**
   * @param onSchedule called when a half is queued (not when it was queued already): the main
   *   loop uses it to wake up (QEMU's aio_notify).
   */
  constructor(private readonly onSchedule?: () => void) {}

  /** A new, unscheduled bottom half (QEMU's qemu_bh_new). */
  create(callback: () => void): BottomHalf {
    return new BottomHalf(this, callback);
  }

  /** See BottomHalf.schedule. */
  schedule(bh: BottomHalf): void {
    if (bh.scheduled) return;
    bh.scheduled = true;
    this.queue.push(bh);
    this.onSchedule?.();
  }

  /** See BottomHalf.cancel. */
  cancel(bh: BottomHalf): void {
    if (!bh.scheduled) return;
    bh.scheduled = false;
    this.queue = this.queue.filter((b) => b !== bh);
  }

  /** Whether any bottom half is queued (the main loop must not sleep). */
  get hasPending(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Runs the bottom halves queued when called, in FIFO order (QEMU's aio_bh_poll); a half
   * cancelled by an earlier callback is skipped. Returns how many ran.
   */
  poll(): number {
    const batch = this.queue;
    this.queue = [];
    let ran = 0;
    for (const bh of batch) {
      if (!bh.scheduled) continue;
      bh.scheduled = false;
      bh.callback();
      ran++;
    }
    return ran;
  }
}
