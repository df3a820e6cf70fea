/**
 * Record/replay of bare-metal guests through the CLI: interrupts.elf (CLINT and PLIC
 * interrupts), a guest taking timer interrupts every few thousand instructions and UART receive
 * interrupts for input typed at random host delays, the polling echo guest, and a guest idling
 * in WFI between timer interrupts with `-icount shift=4,sleep=off` and with sleep=on.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as A from '../support/cpu/asm.js';
import { Asm } from '../support/board/asm.js';
import { makeElf } from '../support/cpu/elf.js';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { BAREMETAL_ELF, checkAspects, makeTempDir, recordReplayCompare, type ConsoleStep } from '../helpers/rr-driver.js';

const { R } = A;
const tmp = makeTempDir('baremetal');
after(() => tmp.remove());

const UART = 0x10000000;
const CLINT_MTIMECMP = 0x2004000;
const CLINT_MTIME = 0x200bff8;
const PLIC = 0x0c000000;
const FINISHER = 0x100000;
const MTVEC = 0x305;
const MIE = 0x304;
const MSTATUS = 0x300;
const MCAUSE = 0x342;

/**
 * An M-mode guest: CLINT timer interrupts every `periodTicks` (10 MHz ticks) and UART receive
 * interrupts through the PLIC (IRQ 10, hart 0's M context). The timer handler prints '.' every
 * `dotEvery` interrupts (a power of two); the receive handler echoes each byte and, on 'q',
 * prints the timer interrupt count in hex and powers off (finisher pass). Between interrupts
 * the main loop either computes (`wfiOnly` false: a WFI every 1024 iterations) or only waits in
 * WFI. Prints '>' once interrupts are enabled.
 */
function irqProgram(o: { periodTicks: number; dotEvery: number; wfiOnly: boolean }): Uint8Array {
  const a = new Asm(0x80000000);
  const w = (...ws: number[]): Asm => a.word(...ws);
  a.la(R.t0, 'handler').csrw(MTVEC, R.t0);
  a.li(R.a1, 0).li(R.s1, 0);
  a.li(R.t0, PLIC + 4 * 10).li(R.t1, 1).sw(R.t1, R.t0, 0); // priority[10] = 1
  a.li(R.t0, PLIC + 0x2000).li(R.t1, 1 << 10).sw(R.t1, R.t0, 0); // enable IRQ 10 in context 0
  a.li(R.t0, PLIC + 0x200000).sw(R.zero, R.t0, 0); // threshold 0
  a.li(R.t0, UART).li(R.t1, 1).sb(R.t1, R.t0, 1); // IER: receive data available
  a.jal(R.ra, 'arm');
  a.li(R.t0, 0x880).csrw(MIE, R.t0); // MTIE | MEIE
  a.li(R.t0, UART).li(R.t1, 0x3e).sb(R.t1, R.t0, 0); // '>'
  a.li(R.t0, 8).csrs(MSTATUS, R.t0); // MIE
  a.label('loop');
  if (o.wfiOnly) {
    a.wfi().j('loop');
  } else {
    a.addi(R.s1, R.s1, 1);
    w(A.andi(R.s2, R.s1, 0x3ff));
    a.bne(R.s2, R.zero, 'loop').wfi().j('loop');
  }
  // arm: mtimecmp = mtime + period (uses t0-t4; returns through ra)
  a.label('arm');
  a.li(R.t0, CLINT_MTIME).lw(R.t1, R.t0, 0).lw(R.t2, R.t0, 4);
  a.li(R.t3, o.periodTicks).add(R.t3, R.t1, R.t3);
  w(A.sltu(R.t4, R.t3, R.t1)).add(R.t2, R.t2, R.t4);
  a.li(R.t0, CLINT_MTIMECMP).li(R.t4, -1).sw(R.t4, R.t0, 0).sw(R.t2, R.t0, 4).sw(R.t3, R.t0, 0);
  w(A.jalr(R.zero, R.ra, 0));
  // the trap handler (the main loop uses only s1, s2: no registers to save)
  a.label('handler').csrr(R.t5, MCAUSE);
  a.li(R.t6, 0x80000007).beq(R.t5, R.t6, 'timer');
  a.li(R.t6, 0x8000000b).beq(R.t5, R.t6, 'ext');
  a.j('fail');
  a.label('timer').word(A.addi(R.a2, R.ra, 0)).jal(R.ra, 'arm').word(A.addi(R.ra, R.a2, 0));
  a.addi(R.a1, R.a1, 1);
  w(A.andi(R.t1, R.a1, o.dotEvery - 1));
  a.bne(R.t1, R.zero, 'ret');
  a.li(R.t0, UART).li(R.t1, 0x2e).sb(R.t1, R.t0, 0);
  a.j('ret');
  a.label('ext').li(R.t5, PLIC + 0x200004).lw(R.t6, R.t5, 0); // claim
  a.li(R.t0, UART);
  a.label('rx');
  w(A.lbu(R.t1, R.t0, 5), A.andi(R.t1, R.t1, 1));
  a.beq(R.t1, R.zero, 'rxdone');
  w(A.lbu(R.t2, R.t0, 0));
  a.sb(R.t2, R.t0, 0);
  a.li(R.t3, 0x71).beq(R.t2, R.t3, 'done');
  a.j('rx');
  a.label('rxdone').sw(R.t6, R.t5, 0); // complete
  a.label('ret').mret();
  // 'q': "\n" + the timer count as 8 hex digits + "\n", then the finisher's pass
  a.label('done').li(R.t1, 0x0a).sb(R.t1, R.t0, 0).li(R.t3, 28);
  a.label('hex');
  w(A.srl(R.t1, R.a1, R.t3), A.andi(R.t1, R.t1, 15), A.sltiu(R.t2, R.t1, 10), A.xori(R.t2, R.t2, 1));
  a.li(R.t4, 39);
  w(A.mul(R.t2, R.t2, R.t4));
  a.add(R.t1, R.t1, R.t2).addi(R.t1, R.t1, 0x30).sb(R.t1, R.t0, 0);
  a.beq(R.t3, R.zero, 'hexend').addi(R.t3, R.t3, -4).j('hex');
  a.label('hexend').li(R.t1, 0x0a).sb(R.t1, R.t0, 0);
  a.li(R.t0, FINISHER).li(R.t1, 0x5555).sw(R.t1, R.t0, 0);
  a.label('halt').j('halt');
  a.label('fail').li(R.t0, FINISHER).li(R.t1, (2 << 16) | 0x3333).sw(R.t1, R.t0, 0).j('halt');
  return makeElf(a.assemble());
}

function writeElf(name: string, bytes: Uint8Array): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  return path;
}

const bare = (elf: string, extra: readonly string[] = []): string[] => ['-M', 'virt', '-nographic', '-bios', 'none', ...extra, '-kernel', elf];

/** Random lowercase letters (never 'q') typed at random delays after '>', then 'q'. */
function typingSteps(count: number, delayMs: readonly [number, number]): ConsoleStep[] {
  const letters = 'abcdefghijklmnoprstuvwxyz0123456789 ';
  const steps: ConsoleStep[] = [];
  for (let i = 0; i < count; i++) {
    const ch = letters[Math.floor(Math.random() * letters.length)]!;
    steps.push({ waitFor: i === 0 ? '>' : '', send: ch, delayMs });
  }
  steps.push({ waitFor: '', send: 'q', delayMs });
  return steps;
}

test('interrupts.elf (CLINT timer, msip, PLIC UART and RTC interrupts): 5 replays match the recording', { timeout: 300_000 }, async (t) => {
  const r = await recordReplayCompare({ name: 'interrupts-elf', machine: bare(BAREMETAL_ELF('interrupts')), replays: 5, assert: false });
  assert.match(r.record.stdout.toString('latin1'), /PASS interrupts/);
  await checkAspects(t, r);
});

test('a guest that exits with a failure code (fail-exit.elf, status 3): every replay exits with 3 too', { timeout: 300_000 }, async (t) => {
  const r = await recordReplayCompare({ name: 'fail-exit', machine: bare(BAREMETAL_ELF('fail-exit')), expectStatus: 3, replays: 4, assert: false });
  await checkAspects(t, r);
});

test('timer interrupts every ~3000 instructions and UART receive interrupts for typed input: 5 replays match', { timeout: 300_000 }, async (t) => {
  const elf = writeElf('irq-storm.elf', irqProgram({ periodTicks: 500, dotEvery: 256, wfiOnly: false }));
  const r = await recordReplayCompare({
    name: 'irq-storm',
    machine: bare(elf),
    steps: typingSteps(8, [20, 300]),
    replays: 5,
    assert: false,
  });
  const out = r.record.stdout.toString('latin1');
  const m = /\n([0-9a-f]{8})\n$/.exec(out);
  assert.ok(m !== null, `the guest prints its timer interrupt count at the end: ${JSON.stringify(out.slice(-200))}`);
  t.diagnostic(`${parseInt(m[1]!, 16)} timer interrupts in the recording`);
  assert.ok(parseInt(m[1]!, 16) > 1000, `many timer interrupts (${parseInt(m[1]!, 16)})`);
  await checkAspects(t, r);
});

test('the polling echo guest with input typed at random delays: 5 replays match', { timeout: 300_000 }, async (t) => {
  const elf = writeElf('echo.elf', guestElf(echoProgram()));
  const r = await recordReplayCompare({ name: 'echo', machine: bare(elf), steps: typingSteps(10, [0, 300]), replays: 5, assert: false });
  assert.match(r.record.stdout.toString('latin1'), /^>[^q]{10}q$/);
  await checkAspects(t, r);
});

for (const sleep of ['off', 'on'] as const) {
  test(`a guest idling in WFI between timer interrupts, typed input, -icount shift=4,sleep=${sleep}: 3 replays match`, { timeout: 300_000 }, async (t) => {
    // sleep=off: idle time jumps to the next timer at once (many wake-ups, a dot per 256);
    // sleep=on: idle time follows host time (20 wake-ups per second, a dot each).
    const elf = writeElf(`idle-${sleep}.elf`, irqProgram(sleep === 'off'
      ? { periodTicks: 1_000_000, dotEvery: 256, wfiOnly: true }
      : { periodTicks: 500_000, dotEvery: 1, wfiOnly: true }));
    const r = await recordReplayCompare({
      name: `idle-sleep-${sleep}`,
      machine: bare(elf, ['-icount', `shift=4,sleep=${sleep}`]),
      steps: typingSteps(5, [200, 700]),
      replays: 3,
      assert: false,
    });
    const out = r.record.stdout.toString('latin1');
    const m = /\n([0-9a-f]{8})\n$/.exec(out);
    assert.ok(m !== null, `the guest prints its timer interrupt count at the end: ${JSON.stringify(out.slice(-200))}`);
    t.diagnostic(`${parseInt(m[1]!, 16)} timer wake-ups in the recording`);
    await checkAspects(t, r);
  });
}

test('QEMU syntax: recorded with -icount shift=4,rr=record,rrfile=LOG, replayed with `replayvm replay LOG`: 3 replays match', { timeout: 300_000 }, async (t) => {
  const elf = writeElf('echo-qemu.elf', guestElf(echoProgram()));
  const r = await recordReplayCompare({
    name: 'qemu-syntax-record', machine: bare(elf), steps: typingSteps(4, [0, 300]), replays: 3, recordSyntax: 'qemu', assert: false,
  });
  await checkAspects(t, r);
});

test('QEMU syntax both ways: the same options with rr=record then rr=replay: 3 replays match', {
  timeout: 300_000,
}, async () => {
  const elf = writeElf('echo-qemu2.elf', guestElf(echoProgram()));
  await recordReplayCompare({
    name: 'qemu-syntax-both', machine: bare(elf), steps: typingSteps(4, [0, 300]), replays: 3, recordSyntax: 'qemu', replaySyntax: 'qemu',
  });
});
