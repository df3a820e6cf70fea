/**
 * Console input: the bytes typed into UART0 (QEMU's replay-char.c). Recording logs the bytes
 * the UART's input ring took; replaying hands the same bytes to it at the same instruction,
 * and diverges if the ring takes fewer of them than when recorded.
 */
import { KIND_CODES } from '../log/format.js';
import { writeBytes } from './fields.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** Bytes typed into UART0. */
export interface ConsoleInputEvent extends At {
  readonly kind: 'console-input';
  readonly bytes: Uint8Array;
}

/** Recording: console bytes into the machine; logs the bytes it took and returns their number. */
export function recordConsoleInput(ctx: RecordContext<ConsoleInputEvent>, bytes: Uint8Array): number {
  const n = ctx.machine.receiveConsoleInput(bytes);
  if (n > 0) ctx.emit({ kind: 'console-input', icount: ctx.icount, bytes: bytes.slice(0, n) });
  return n;
}

/** Replaying: the recorded bytes into the machine, all of them. */
export function replayConsoleInput(e: ConsoleInputEvent, ctx: ReplayContext): void {
  const n = ctx.machine.receiveConsoleInput(e.bytes);
  if (n !== e.bytes.length) ctx.diverge(describeConsoleInput(e), `the machine took ${n} of them (its input ring was fuller than when recorded)`);
}

/** Describes a console-input event for reports. */
export function describeConsoleInput(e: ConsoleInputEvent): string {
  return `console input of ${e.bytes.length} byte(s) at instruction ${e.icount}`;
}

/** The console source: `console-input` events (code 0x01: length-prefixed bytes). */
export const CONSOLE_INPUT: EventSource<ConsoleInputEvent> = {
  kind: 'console-input',
  code: KIND_CODES['console-input'],
  encode: (w, e) => writeBytes(w, e.bytes, 'console-input.bytes'),
  decode: (r, icount) => ({ kind: 'console-input', icount, bytes: r.lengthPrefixed('console bytes') }),
  describe: describeConsoleInput,
  replay: replayConsoleInput,
};
