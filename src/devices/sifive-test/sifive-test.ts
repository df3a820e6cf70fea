/**
 * SiFive test finisher as on QEMU's `virt` board (hw/misc/sifive_test.c) at 0x100000.
 * A write to offset 0 whose low 16 bits are 0x5555 requests a clean exit (pass), 0x3333 an
 * exit with status = bits 31..16 (fail), 0x7777 a system reset. Other values and offsets are
 * ignored (QEMU logs them as guest errors). Reads return 0. The device holds no state.
 */
import type { MmioDevice } from '../../memory/address-map.js';

/** Size of the finisher's range on `virt`. */
export const SIFIVE_TEST_SIZE = 0x1000;
/** Status codes in the low 16 bits of the written value. */
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

/** Kinds of request the finisher makes. */
export type SifiveTestRequest = 'pass' | 'fail' | 'reset';

/** The test finisher. */
export class SifiveTest implements MmioDevice {
  /** @param onRequest called on a pass (code 0), fail (code = exit status) or reset (code 0) request. */
  constructor(private readonly onRequest: (kind: SifiveTestRequest, code: number) => void) {}

  /** Reads return 0. */
  read(_offset: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  /** Decodes a finisher command written at offset 0 (16- or 32-bit; QEMU rejects byte writes). */
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset !== 0 || size === 1) return;
    const status = value & 0xffff;
    const code = (value >>> 16) & 0xffff;
    if (status === FINISHER_FAIL) this.onRequest('fail', code);
    else if (status === FINISHER_PASS) this.onRequest('pass', 0);
    else if (status === FINISHER_RESET) this.onRequest('reset', 0);
  }
}
