/**
 * Block completions: when a virtio-blk request finished on the host and what it returned (the
 * data read, or an error). Recording logs the completion before delivering it; replaying hands
 * the logged completion to the device's replay backend, which must have that request in flight.
 */
import { KIND_CODES } from '../log/format.js';
import { FormatFault } from '../log/varint.js';
import { readString, writeBytes, writeString } from './fields.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** A block request finished: `request` is the device's sequence number; `data` for reads. */
export interface BlockCompleteEvent extends At {
  readonly kind: 'block-complete';
  readonly slot: number;
  readonly request: number;
  readonly error?: string;
  readonly data?: Uint8Array;
}

/** The block devices' replay backend: false when no such request is in flight. */
export interface BlockReplayDevice {
  blockComplete(event: BlockCompleteEvent): boolean;
}

/** Recording: a block request completes; logged, then `apply` delivers it to the device. */
export function recordBlockComplete(
  ctx: RecordContext<BlockCompleteEvent>, slot: number, request: number,
  error: string | undefined, data: Uint8Array | undefined, apply: () => void,
): void {
  ctx.emit({
    kind: 'block-complete', icount: ctx.icount, slot, request,
    ...(error !== undefined ? { error } : {}),
    ...(data !== undefined && error === undefined ? { data } : {}),
  });
  apply();
}

/** Replaying: the logged completion to the device, which must have the request in flight. */
export function replayBlockComplete(e: BlockCompleteEvent, ctx: ReplayContext & { readonly devices: BlockReplayDevice }): void {
  if (!ctx.devices.blockComplete(e)) ctx.diverge(describeBlockComplete(e), 'no such request in flight');
}

/** Describes a block-complete event for reports. */
export function describeBlockComplete(e: BlockCompleteEvent): string {
  return `completion of block request ${e.request} on virtio${e.slot} at instruction ${e.icount}`;
}

/**
 * The block source: `block-complete` events (code 0x03: slot varint, request varint, flags u8
 * (1: error, 2: data), then the error string and the data bytes when flagged).
 */
export const BLOCK_COMPLETE: EventSource<BlockCompleteEvent, ReplayContext & { readonly devices: BlockReplayDevice }> = {
  kind: 'block-complete',
  code: KIND_CODES['block-complete'],
  encode(w, e) {
    const k = 'block-complete';
    w.varint(e.slot, `${k}.slot`);
    w.varint(e.request, `${k}.request`);
    const hasError = e.error !== undefined;
    const hasData = e.data !== undefined;
    w.u8((hasError ? 1 : 0) | (hasData ? 2 : 0));
    if (hasError) writeString(w, e.error, `${k}.error`);
    if (hasData) writeBytes(w, e.data, `${k}.data`);
  },
  decode(r, icount) {
    const slot = r.varint('slot');
    const request = r.varint('request');
    const flagsPos = r.pos;
    const flags = r.u8('block flags');
    if ((flags & ~3) !== 0) throw new FormatFault(flagsPos, `unknown block-complete flags 0x${flags.toString(16)}`);
    const error = flags & 1 ? readString(r, 'block error') : undefined;
    const data = flags & 2 ? r.lengthPrefixed('block data') : undefined;
    return {
      kind: 'block-complete', icount, slot, request,
      ...(error !== undefined ? { error } : {}),
      ...(data !== undefined ? { data } : {}),
    };
  },
  describe: describeBlockComplete,
  replay: replayBlockComplete,
};
