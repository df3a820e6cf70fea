/**
 * Virtio queue work: when the main loop processes the queues of a virtio device whose doorbell
 * rang. The guest rings a doorbell at an instruction of its own, but the main loop notices it
 * when the host gets round to it: that moment is non-deterministic, so it is logged. Replaying,
 * the queues are processed at the same instruction, and a doorbell the log has but the machine
 * has not rung is a divergence.
 */
import { KIND_CODES } from '../log/format.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** The main loop processed the queues of the virtio device on `slot`. */
export interface VirtioDoorbellEvent extends At {
  readonly kind: 'virtio-doorbell';
  readonly slot: number;
}

/** Recording: the queue work of every virtio device whose doorbell rang, one event per slot. */
export function recordVirtioDoorbells(ctx: RecordContext<VirtioDoorbellEvent>): void {
  for (const slot of ctx.machine.virtioDoorbells()) {
    ctx.emit({ kind: 'virtio-doorbell', icount: ctx.icount, slot });
    ctx.machine.processVirtioQueue(slot);
  }
}

/** Replaying: the queue work of the logged device, whose doorbell must be pending. */
export function replayVirtioDoorbell(e: VirtioDoorbellEvent, ctx: ReplayContext): void {
  if (!ctx.machine.virtioDoorbells().includes(e.slot)) ctx.diverge(describeVirtioDoorbell(e), `no doorbell pending on virtio${e.slot}`);
  ctx.machine.processVirtioQueue(e.slot);
}

/** Describes a virtio-doorbell event for reports. */
export function describeVirtioDoorbell(e: VirtioDoorbellEvent): string {
  return `queue work of virtio${e.slot} at instruction ${e.icount}`;
}

/** The virtio queue source: `virtio-doorbell` events (code 0x02: slot varint). */
export const VIRTIO_DOORBELL: EventSource<VirtioDoorbellEvent> = {
  kind: 'virtio-doorbell',
  code: KIND_CODES['virtio-doorbell'],
  encode: (w, e) => w.varint(e.slot, 'virtio-doorbell.slot'),
  decode: (r, icount) => ({ kind: 'virtio-doorbell', icount, slot: r.varint('slot') }),
  describe: describeVirtioDoorbell,
  replay: replayVirtioDoorbell,
};
