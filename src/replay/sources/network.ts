/**
 * Network: the frames delivered to a virtio-net device (QEMU's replay-net.c). Recording logs a
 * frame once the device took it; replaying hands the logged frame to the device's replay
 * backend, which must have a receive buffer for it.
 */
import { KIND_CODES } from '../log/format.js';
import { writeBytes } from './fields.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** A network frame delivered to the guest. */
export interface NetReceiveEvent extends At {
  readonly kind: 'net-receive';
  readonly slot: number;
  readonly frame: Uint8Array;
}

/** The net devices' replay backend: false when the device has no receive buffer for the frame. */
export interface NetReplayDevice {
  netReceive(event: NetReceiveEvent): boolean;
}

/** Recording: a frame offered to a virtio-net device; logged when `deliver` says the device took it. */
export function recordNetReceive(ctx: RecordContext<NetReceiveEvent>, slot: number, frame: Uint8Array, deliver: () => boolean): boolean {
  const taken = deliver();
  if (taken) ctx.emit({ kind: 'net-receive', icount: ctx.icount, slot, frame });
  return taken;
}

/** Replaying: the logged frame to the device, which must take it. */
export function replayNetReceive(e: NetReceiveEvent, ctx: ReplayContext & { readonly devices: NetReplayDevice }): void {
  if (!ctx.devices.netReceive(e)) ctx.diverge(describeNetReceive(e), 'the device had no receive buffer for it');
}

/** Describes a net-receive event for reports. */
export function describeNetReceive(e: NetReceiveEvent): string {
  return `a ${e.frame.length}-byte frame for virtio${e.slot} at instruction ${e.icount}`;
}

/** The network source: `net-receive` events (code 0x05: slot varint, length-prefixed frame). */
export const NET_RECEIVE: EventSource<NetReceiveEvent, ReplayContext & { readonly devices: NetReplayDevice }> = {
  kind: 'net-receive',
  code: KIND_CODES['net-receive'],
  encode(w, e) {
    w.varint(e.slot, 'net-receive.slot');
    writeBytes(w, e.frame, 'net-receive.frame');
  },
  decode(r, icount) {
    const slot = r.varint('slot');
    return { kind: 'net-receive', icount, slot, frame: r.lengthPrefixed('frame') };
  },
  describe: describeNetReceive,
  replay: replayNetReceive,
};
