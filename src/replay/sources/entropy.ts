/**
 * Entropy: the random bytes handed to a virtio-rng request (QEMU's replay-random.c). Recording
 * logs the bytes before delivering them; replaying hands the logged bytes to the device's replay
 * backend, which must have that request in flight.
 */
import { KIND_CODES } from '../log/format.js';
import { writeBytes } from './fields.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** Random bytes handed to a virtio-rng request. */
export interface EntropyEvent extends At {
  readonly kind: 'entropy';
  readonly slot: number;
  readonly request: number;
  readonly bytes: Uint8Array;
}

/** The rng devices' replay backend: false when no such request is in flight. */
export interface EntropyReplayDevice {
  entropy(event: EntropyEvent): boolean;
}

/** Recording: entropy bytes for a virtio-rng request; logged, then `apply` delivers them. */
export function recordEntropy(ctx: RecordContext<EntropyEvent>, slot: number, request: number, bytes: Uint8Array, apply: () => void): void {
  ctx.emit({ kind: 'entropy', icount: ctx.icount, slot, request, bytes });
  apply();
}

/** Replaying: the logged bytes to the device, which must have the request in flight. */
export function replayEntropy(e: EntropyEvent, ctx: ReplayContext & { readonly devices: EntropyReplayDevice }): void {
  if (!ctx.devices.entropy(e)) ctx.diverge(describeEntropy(e), 'no such request in flight');
}

/** Describes an entropy event for reports. */
export function describeEntropy(e: EntropyEvent): string {
  return `entropy for request ${e.request} on virtio${e.slot} at instruction ${e.icount}`;
}

/** The entropy source: `entropy` events (code 0x04: slot varint, request varint, length-prefixed bytes). */
export const ENTROPY: EventSource<EntropyEvent, ReplayContext & { readonly devices: EntropyReplayDevice }> = {
  kind: 'entropy',
  code: KIND_CODES.entropy,
  encode(w, e) {
    w.varint(e.slot, 'entropy.slot');
    w.varint(e.request, 'entropy.request');
    writeBytes(w, e.bytes, 'entropy.bytes');
  },
  decode(r, icount) {
    const slot = r.varint('slot');
    const request = r.varint('request');
    return { kind: 'entropy', icount, slot, request, bytes: r.lengthPrefixed('entropy bytes') };
  },
  describe: describeEntropy,
  replay: replayEntropy,
};
