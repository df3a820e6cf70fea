/**
 * Console input on its way into the machine: bytes the user typed wait here until the machine's
 * input ring takes them (`Machine.receiveConsoleInput`, always under the locks), and are offered
 * again when the guest makes room (the console backend's `acceptInput`). Every byte the machine
 * takes goes through `deliver`, the one place record/replay observes console input.
 */

/** Hands bytes to the machine under the locks; returns how many it took. */
export type ConsoleDeliver = (bytes: Uint8Array) => number;

/** Host-side backlog of console input. */
export class ConsoleFeed {
  private backlog: Uint8Array[] = [];
  private queued = 0;

  constructor(private readonly deliver: ConsoleDeliver) {}

  /** Bytes typed and not yet taken by the machine. */
  get pending(): number {
    return this.queued;
  }

  /** Queues `bytes` and offers the backlog to the machine. */
  push(bytes: Uint8Array): void {
    if (bytes.length > 0) {
      this.backlog.push(bytes.slice());
      this.queued += bytes.length;
    }
    this.pump();
  }

  /** Offers the backlog to the machine (after the guest made room). */
  pump(): void {
    while (this.backlog.length > 0) {
      const head = this.backlog[0]!;
      const n = this.deliver(head);
      this.queued -= n;
      if (n < head.length) {
        this.backlog[0] = head.subarray(n);
        return;
      }
      this.backlog.shift();
    }
  }
}
