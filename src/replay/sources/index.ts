/**
 * The sources of non-determinism, one file each, and the table the Recorder, the Replayer and
 * the event codec dispatch on (internal to src/replay; code outside it imports src/replay/index.ts).
 *
 * | source        | file            | events                    |
 * |---------------|-----------------|---------------------------|
 * | console       | console.ts      | console-input             |
 * | virtio queues | virtio-queue.ts | virtio-doorbell           |
 * | block         | block.ts        | block-complete            |
 * | entropy       | entropy.ts      | entropy                   |
 * | network       | network.ts      | net-receive               |
 * | clock reads   | clock-read.ts   | clock-read                |
 * | timers        | timers.ts       | timer, clock-warp         |
 * | interrupts    | interrupts.ts   | interrupt (checkpoints)   |
 * | requests      | requests.ts     | request, monitor          |
 * | digests       | digests.ts      | digest (checkpoints)      |
 * | end           | end.ts          | end; progress (0x80)      |
 */
import type { EventOf, ReplayEvent, ReplayEventKind } from '../log/events.js';
import { BLOCK_COMPLETE, type BlockReplayDevice } from './block.js';
import { CLOCK_READ, type ClockReadVcpu } from './clock-read.js';
import { CONSOLE_INPUT } from './console.js';
import { DIGEST, type DigestReplayContext } from './digests.js';
import { END, type EndReplayContext } from './end.js';
import { ENTROPY, type EntropyReplayDevice } from './entropy.js';
import { INTERRUPT, type InterruptReplayContext } from './interrupts.js';
import { NET_RECEIVE, type NetReplayDevice } from './network.js';
import { MONITOR, REQUEST, type RequestReplayContext } from './requests.js';
import type { EventSource } from './source.js';
import { CLOCK_WARP, TIMER } from './timers.js';
import { VIRTIO_DOORBELL } from './virtio-queue.js';

/** The replay backends of the virtio devices: each returns false when it has no such request. */
export type ReplayDevices = BlockReplayDevice & EntropyReplayDevice & NetReplayDevice;

/** Everything any source's replay half needs: what the Replayer hands each of them. */
export type FullReplayContext = DigestReplayContext & EndReplayContext & InterruptReplayContext & RequestReplayContext & {
  readonly devices: ReplayDevices;
  readonly vcpu: ClockReadVcpu | undefined;
};

/** Every kind's source. */
const SOURCES: { readonly [K in ReplayEventKind]: EventSource<EventOf<K>, FullReplayContext> } = {
  'console-input': CONSOLE_INPUT,
  'virtio-doorbell': VIRTIO_DOORBELL,
  'block-complete': BLOCK_COMPLETE,
  'entropy': ENTROPY,
  'net-receive': NET_RECEIVE,
  'clock-read': CLOCK_READ,
  'timer': TIMER,
  'clock-warp': CLOCK_WARP,
  'request': REQUEST,
  'monitor': MONITOR,
  'interrupt': INTERRUPT,
  'digest': DIGEST,
  'end': END,
};

/** The sources by kind code (codes are below 0x80). */
const SOURCE_BY_CODE: readonly (EventSource<ReplayEvent, FullReplayContext> | undefined)[] = (() => {
  const out: (EventSource<ReplayEvent, FullReplayContext> | undefined)[] = [];
  for (const s of Object.values(SOURCES) as EventSource<ReplayEvent, FullReplayContext>[]) {
    if (out[s.code] !== undefined) throw new Error(`event kinds ${out[s.code]!.kind} and ${s.kind} share code ${s.code}`);
    out[s.code] = s;
  }
  return out;
})();

/**
 * The source of `e`'s kind, or undefined for a kind no source has (an event from outside the
 * type system). The one place where an event meets its source's type: SOURCES maps each kind K
 * to a source of EventOf<K>, which TypeScript cannot correlate through `e.kind`.
 */
export function sourceOf(e: ReplayEvent): EventSource<ReplayEvent, FullReplayContext> | undefined {
  return Object.prototype.hasOwnProperty.call(SOURCES, e.kind)
    ? SOURCES[e.kind] as EventSource<ReplayEvent, FullReplayContext>
    : undefined;
}

/** The source whose kind code is `code`, or undefined. */
export function sourceOfCode(code: number): EventSource<ReplayEvent, FullReplayContext> | undefined {
  return SOURCE_BY_CODE[code];
}

/** A short description of an event for reports. */
export function describeEvent(e: ReplayEvent): string {
  return sourceOf(e)?.describe(e) ?? `${String(e.kind)} event at instruction ${e.icount}`;
}

export type { EventSource, RecordContext, ReplayContext } from './source.js';
export { recordBlockComplete } from './block.js';
export { checkClockReadsTaken, describeUnexpectedClockRead, recordClockRead, type ClockReadVcpu } from './clock-read.js';
export { recordConsoleInput } from './console.js';
export { compareDigests, recordDigest, type DigestDifference, type Digester, type StateDigest } from './digests.js';
export { recordEnd } from './end.js';
export { recordEntropy } from './entropy.js';
export { INTERRUPT_CHECKPOINTS, InterruptCheckpoints, recordInterrupt } from './interrupts.js';
export { recordNetReceive } from './network.js';
export { MONITOR_RESET_CAUSE, recordMonitorReset } from './requests.js';
export { recordClockWarp, recordShiftChange } from './timers.js';
export { recordVirtioDoorbells } from './virtio-queue.js';
