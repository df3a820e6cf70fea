/**
 * Tiny guests for the CLI tests, built without a toolchain from the shared encoders
 * (test/support/cpu/asm.ts) and ELF writer (test/support/cpu/elf.ts).
 */
import { R, addi, andi, assemble, beq, jal, lbu, lui, sb, sw, wfi } from '../support/cpu/asm.js';
import { makeElf } from '../support/cpu/elf.js';
import { after } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** An ELF32 executable running `words` at 0x80000000 (the entry). */
export function guestElf(words: readonly number[]): Uint8Array {
  return makeElf(assemble(words));
}

/** A guest that waits for interrupts forever (`wfi; j .-4`): the machine idles. */
export function idleProgram(): number[] {
  return [wfi(), jal(R.zero, -4)];
}

/**
 * A guest that prints '>' once it runs (so tests can wait until the VM is up, rather than
 * guess a delay), then echoes UART0 input (polling LSR.DR) and powers off through the
 * sifive_test finisher (pass) when it receives 'q'.
 */
export function echoProgram(): number[] {
  const { t0, t1, t2, t3, t4, t5, zero } = R;
  return [
    lui(t0, 0x10000), //  0: t0 = UART0
    addi(t3, zero, 0x71), //  4: t3 = 'q'
    addi(t2, zero, 0x3e), //  8: t2 = '>'
    sb(t2, t0, 0), // 12: THR = '>' (ready)
    lbu(t1, t0, 5), // 16: loop: t1 = LSR
    andi(t1, t1, 1), // 20
    beq(t1, zero, -8), // 24: no data -> loop
    lbu(t2, t0, 0), // 28: t2 = RBR
    sb(t2, t0, 0), // 32: THR = t2
    beq(t2, t3, 8), // 36: 'q' -> quit
    jal(zero, -24), // 40: -> loop
    lui(t4, 0x100), // 44: quit: t4 = finisher
    lui(t5, 5), // 48
    addi(t5, t5, 0x555), // 52: t5 = 0x5555 (pass)
    sw(t5, t4, 0), // 56
    jal(zero, 0), // 60: j .
  ];
}

/** A temporary folder holding the idle and echo guests, removed after the calling test file. */
export interface GuestFixtures {
  readonly tmp: string;
  readonly idleElf: string;
  readonly echoElf: string;
}

/**
 * Writes idle.elf and echo.elf into a new temporary folder named after `prefix`; call it at a
 * test file's top level (the folder is removed when that file's tests end).
 */
export function guestFixtures(prefix: string): GuestFixtures {
  const tmp = mkdtempSync(join(tmpdir(), `replayvm-${prefix}-`));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const idleElf = join(tmp, 'idle.elf');
  writeFileSync(idleElf, guestElf(idleProgram()));
  const echoElf = join(tmp, 'echo.elf');
  writeFileSync(echoElf, guestElf(echoProgram()));
  return { tmp, idleElf, echoElf };
}
