/**
 * Figure 4: BQL traffic under a timer-heavy guest run threaded: CLINT timer interrupts 50 ticks
 * (5 us) apart, the hart waiting in WFI between them (timerProgram of test/support/board/asm.ts).
 * Counts BQL acquisitions by the main thread (its BigLock's counters) and by the vCPU thread (all
 * tickets handed out minus the main thread's), and hand-offs between the two threads.
 */
import { timerProgram } from '../test/support/board/asm.js';
import { createVirtMachine } from '../src/board/virt.js';
import { makeElf } from '../test/support/cpu/elf.js';
import { ThreadedRunLoop } from '../src/host/node/threaded-run-loop.js';
import { bareConfig, fmt, nowMs, nodeHost, type FigureRow } from './common.js';

/** Interrupts the guest asks for: far more than fit in the measuring window. */
const COUNT = 1_000_000_000;
/** Register s0 (x8) counts the guest's timer interrupts. */
const S0 = 8;

/** Raw numbers of one timer run. */
export interface HandoffRun {
  readonly seconds: number;
  readonly interrupts: number;
  readonly mainAcquisitions: number;
  readonly vcpuAcquisitions: number;
  /** Hand-offs counted by the main thread (vCPU -> main); the other direction differs by <= 1. */
  readonly mainHandoffs: number;
}

/**
 * Runs the timer guest threaded for `windowMs`, then stops it and reads the counters. With
 * `inputEveryMs`, the main thread also types a console byte that often (each goes into UART0
 * under the replay mutex and the BQL, as keyboard input does).
 */
export async function runTimerGuest(windowMs: number, inputEveryMs?: number): Promise<HandoffRun> {
  const elf = makeElf(timerProgram(true, COUNT));
  const host = nodeHost();
  const m = createVirtMachine(bareConfig('timer.elf', undefined, elf), host);
  const loop = new ThreadedRunLoop(m, host.time, { console: host.console, trace: host.trace, mode: 'none' });
  const bql = loop.controller.locks.bql;
  // Ticket counter of the BQL's mutex (word 0, see mutex.ts): every acquisition by any thread.
  const tickets = new Int32Array(loop.controller.locks.buffer, 0, 1);
  const a0 = bql.acquisitions;
  const h0 = bql.handoffs;
  const k0 = Atomics.load(tickets, 0);
  const t0 = nowMs();
  const typing = inputEveryMs === undefined ? undefined : setInterval(() => loop.input(Uint8Array.of(0x61)), inputEveryMs);
  let snap: HandoffRun | undefined;
  const timer = setTimeout(() => {
    const seconds = (nowMs() - t0) / 1e3;
    const total = (Atomics.load(tickets, 0) - k0) | 0;
    const main = bql.acquisitions - a0;
    snap = {
      seconds,
      interrupts: m.harts[0]!.getReg(S0) >>> 0,
      mainAcquisitions: main,
      vcpuAcquisitions: total - main,
      mainHandoffs: bql.handoffs - h0,
    };
    loop.stop(0);
  }, windowMs);
  const outcome = await loop.run();
  clearTimeout(timer);
  if (typing !== undefined) clearInterval(typing);
  if (snap === undefined) throw new Error(`timer guest ended before the window (${outcome.cause}, exit ${outcome.exitCode})`);
  return snap;
}

/** Measures figure 4 over `windowMs`: the timer guest alone, then with a keystroke every ms. */
export async function handoffFigures(windowMs: number): Promise<FigureRow[]> {
  const rows: FigureRow[] = [];
  for (const inputEveryMs of [undefined, 1]) {
    const r = await runTimerGuest(windowMs, inputEveryMs);
    const label = inputEveryMs === undefined ? 'timer guest' : 'timer guest + keystroke/ms';
    const per = (x: number): number => x / r.seconds;
    const handoffs = 2 * r.mainHandoffs;
    console.log(`  ${label}: ${fmt(r.seconds, 2)} s, ${r.interrupts} interrupts, BQL acquisitions main ${r.mainAcquisitions} `
      + `vCPU ${r.vcpuAcquisitions}, hand-offs ~${handoffs} (2 x ${r.mainHandoffs} counted on main)`);
    if (inputEveryMs === undefined) rows.push({ figure: '4. timer guest: interrupts/s', value: `${fmt(per(r.interrupts), 0)} /s`, ratio: '' });
    rows.push(
      {
        figure: `4. ${label}: BQL acquisitions/s main vs vCPU`,
        value: `${fmt(per(r.mainAcquisitions), 0)} /s vs ${fmt(per(r.vcpuAcquisitions), 0)} /s`,
        ratio: `main share ${fmt(r.mainAcquisitions / Math.max(1, r.mainAcquisitions + r.vcpuAcquisitions), 4)}`,
      },
      {
        figure: `4. ${label}: BQL hand-offs/s`,
        value: `${fmt(per(handoffs), 0)} /s`,
        ratio: `per interrupt ${fmt(handoffs / Math.max(1, r.interrupts), 3)}`,
      },
    );
  }
  return rows;
}
