/**
 * The recording side of the engine. Everything from outside that changes the machine passes
 * through here, on the main thread, under the replay mutex and the BQL: the vCPU thread is then
 * between execution sections, so the machine's instruction count is exact, and each event is
 * logged with the count at which it applied (QEMU's replay_put_event family). Each method hands
 * over to its source's record half (src/replay/sources/), with the Recorder as its context.
 */
import type { Machine } from '../../board/machine-api.js';
import type { EndEvent, ReplayEvent } from '../log/events.js';
import {
  recordBlockComplete, recordConsoleInput, recordDigest, recordEnd, recordEntropy, recordNetReceive, recordShiftChange,
  recordVirtioDoorbells, type RecordContext,
} from '../sources/index.js';
import type { StateDigester } from './digest.js';

/** Where recorded events go (a LogWriter). */
export interface EventSink {
  append(event: ReplayEvent): void;
}

/** Records the non-deterministic inputs of one machine. */
export class Recorder implements RecordContext<ReplayEvent> {
  private lastDigest = -1;

  /**
   * @param vcpuEvents hands over the events the vCPU thread recorded since the last call (they
   *   precede any event recorded now: both were recorded under the replay mutex).
   */
  constructor(
    readonly machine: Machine,
    private readonly sink: EventSink,
    private readonly digester: StateDigester,
    private readonly vcpuEvents: () => readonly ReplayEvent[] = () => [],
  ) {}

  /** Logs the vCPU thread's pending events, then `event` (what the sources' record halves call). */
  emit(event: ReplayEvent): void {
    this.flushVcpuEvents();
    this.sink.append(event);
  }

  /** Logs the vCPU thread's pending events (call under the locks). */
  flushVcpuEvents(): void {
    for (const e of this.vcpuEvents()) this.sink.append(e);
  }

  /** The machine's instruction count (the icount events get). */
  get icount(): number {
    return this.machine.totalSteps;
  }

  /** Console bytes into the machine; records the bytes it took and returns their number. */
  consoleInput(bytes: Uint8Array): number {
    return recordConsoleInput(this, bytes);
  }

  /** The queue work of every virtio device whose doorbell rang, one recorded event per slot. */
  virtioDoorbells(): void {
    recordVirtioDoorbells(this);
  }

  /** A block request completes: recorded, then `apply` delivers it to the device. */
  blockComplete(slot: number, request: number, error: string | undefined, data: Uint8Array | undefined, apply: () => void): void {
    recordBlockComplete(this, slot, request, error, data, apply);
  }

  /** Entropy bytes for a virtio-rng request: recorded, then delivered. */
  entropy(slot: number, request: number, bytes: Uint8Array, apply: () => void): void {
    recordEntropy(this, slot, request, bytes, apply);
  }

  /** A frame offered to a virtio-net device: recorded when the device took it. */
  netReceive(slot: number, frame: Uint8Array, deliver: () => boolean): boolean {
    return recordNetReceive(this, slot, frame, deliver);
  }

  /** icount shift=auto: adjustment timer `id` changed the shift (already applied). */
  shiftChanged(id: number, shift: number): void {
    recordShiftChange(this, id, shift);
  }

  /** Records a state digest if at least `minSteps` instructions ran since the last one. */
  digest(minSteps = 0): void {
    if (this.lastDigest >= 0 && this.icount - this.lastDigest < minSteps) return;
    this.lastDigest = this.icount;
    recordDigest(this, this.digester);
  }

  /** The end of the recording (after a final digest). */
  end(reason: EndEvent['reason'], exitCode: number): void {
    this.digest();
    recordEnd(this, reason, exitCode);
  }
}
