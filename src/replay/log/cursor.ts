/**
 * A pull cursor over a log's events for the replayer: `peek()` shows the next event without
 * consuming it (the replayer runs the guest up to `peek().icount`), `next()` consumes it. Reads
 * one chunk at a time.
 */
import type { LogChunk } from './chunk.js';
import type { ReplayEvent } from './events.js';
import type { LogReader, LogReport } from './log-reader.js';

export class LogCursor {
  private readonly it: Generator<LogChunk, LogReport, undefined>;
  private events: readonly ReplayEvent[] = [];
  private index = 0;
  private done: LogReport | undefined;
  private chunk: LogChunk | undefined;

  constructor(reader: LogReader) {
    this.it = reader.chunks();
  }

  private fill(): void {
    while (this.index >= this.events.length && this.done === undefined) {
      const n = this.it.next();
      if (n.done === true) {
        this.done = n.value;
        return;
      }
      this.chunk = n.value;
      this.events = n.value.events;
      this.index = 0;
    }
  }

  /** The next event, not consumed; undefined at the end of the readable events. */
  peek(): ReplayEvent | undefined {
    this.fill();
    return this.events[this.index];
  }

  /** The next event, consumed; undefined at the end of the readable events. */
  next(): ReplayEvent | undefined {
    this.fill();
    const e = this.events[this.index];
    if (e !== undefined) this.index++;
    return e;
  }

  /** The chunk the last peeked/consumed event came from. */
  get currentChunk(): LogChunk | undefined {
    return this.chunk;
  }

  /** How the log ends: available once `peek()`/`next()` returned undefined. */
  get report(): LogReport | undefined {
    return this.done;
  }
}
