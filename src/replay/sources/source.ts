/**
 * What every source of non-determinism provides (as QEMU's replay-char.c, replay-net.c,
 * replay-random.c each do for theirs): its event's codec case and its description for reports.
 * Its record half (`recordX`, what the Recorder does) and replay half (`replayX`, what the
 * Replayer does, with the divergence check) are functions beside it in the source's file; the
 * replay half is also listed in the source so the Replayer can dispatch on the event's kind.
 *
 * This module names no event type (each source's file declares its own), so the sources and
 * log/events.ts, which unites their types, import in one direction only.
 */
import type { Machine } from '../../board/machine-api.js';
import type { ByteReader, ByteWriter } from '../log/varint.js';

/** Every event carries the instruction count at which it applies. */
export interface At {
  /** Global instruction count at which the event applies: an integer in [0, 2^53). */
  readonly icount: number;
}

/** What a record half needs from the Recorder: the machine and where its events go. */
export interface RecordContext<E> {
  readonly machine: Machine;
  /** The machine's instruction count (the icount events get). */
  readonly icount: number;
  /** Logs `event` after whatever the vCPU thread recorded before it. */
  emit(event: E): void;
}

/** What a replay half needs from the Replayer (a source may ask for more: see its replayX). */
export interface ReplayContext {
  readonly machine: Machine;
  /** Stops the replay with a ReplayDivergence at `icount` (default: the machine's count now). */
  diverge(expected: string, found: string, icount?: number): never;
}

/** One event kind of a source: its kind code, codec case, description and replay half. */
export interface EventSource<E extends At & { readonly kind: string }, C extends ReplayContext = ReplayContext> {
  readonly kind: E['kind'];
  /** The kind code in the log (log/format.ts's KIND_CODES). */
  readonly code: number;
  /** Appends the event's fields (after the kind code and icount delta); throws a RangeError naming a bad field. */
  encode(w: ByteWriter, e: E): void;
  /** Reads the event's fields; throws a FormatFault naming the bad byte. */
  decode(r: ByteReader, icount: number): E;
  /** A short description for reports ("console input of 3 byte(s) at instruction 42"). */
  describe(e: E): string;
  /** Applies the event to the replaying machine, or stops the replay if the machine disagrees. */
  replay(e: E, ctx: C): void;
}
