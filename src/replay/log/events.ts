/**
 * The events of a replay log: everything non-deterministic the machine consumed while it was
 * recorded, each stamped with the global instruction count (`icount`) at which it applies.
 * Along a log, icounts never decrease. Each event's type lives with its source, in
 * src/replay/sources/ (one file per source of non-determinism); this module unites them.
 */
import type { BlockCompleteEvent } from '../sources/block.js';
import type { ClockReadEvent } from '../sources/clock-read.js';
import type { ConsoleInputEvent } from '../sources/console.js';
import type { DigestEvent, HartDigest } from '../sources/digests.js';
import type { EndEvent } from '../sources/end.js';
import type { EntropyEvent } from '../sources/entropy.js';
import type { InterruptEvent } from '../sources/interrupts.js';
import type { NetReceiveEvent } from '../sources/network.js';
import type { MonitorEvent, RequestEvent } from '../sources/requests.js';
import type { ClockWarpEvent, TimerEvent } from '../sources/timers.js';
import type { VirtioDoorbellEvent } from '../sources/virtio-queue.js';

export type {
  BlockCompleteEvent, ClockReadEvent, ClockWarpEvent, ConsoleInputEvent, DigestEvent, EndEvent, EntropyEvent, HartDigest,
  InterruptEvent, MonitorEvent, NetReceiveEvent, RequestEvent, TimerEvent, VirtioDoorbellEvent,
};

export type ReplayEvent =
  | ConsoleInputEvent
  | VirtioDoorbellEvent
  | BlockCompleteEvent
  | EntropyEvent
  | NetReceiveEvent
  | ClockReadEvent
  | ClockWarpEvent
  | TimerEvent
  | RequestEvent
  | MonitorEvent
  | InterruptEvent
  | DigestEvent
  | EndEvent;

export type ReplayEventKind = ReplayEvent['kind'];

/** The event type of one kind: `EventOf<'timer'>` is `TimerEvent`. */
export type EventOf<K extends ReplayEventKind> = Extract<ReplayEvent, { kind: K }>;

/** Every kind, in kind-code order. */
export const EVENT_KINDS: readonly ReplayEventKind[] = [
  'console-input', 'virtio-doorbell', 'block-complete', 'entropy', 'net-receive', 'clock-read',
  'timer', 'request', 'monitor', 'interrupt', 'digest', 'end', 'clock-warp',
];

/** The guest-visible data bytes an event carries (byte arrays only; strings are not counted). */
export function payloadBytesOf(e: ReplayEvent): number {
  switch (e.kind) {
    case 'console-input': return e.bytes.length;
    case 'block-complete': return e.data?.length ?? 0;
    case 'entropy': return e.bytes.length;
    case 'net-receive': return e.frame.length;
    default: return 0;
  }
}
