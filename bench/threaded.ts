/**
 * Figures 1 and 2b: MIPS of bench.elf under the single-thread RunLoop, and under the
 * ThreadedRunLoop (hart in the vCPU worker) with the replay mutex in mode none and record.
 */
import { createVirtMachine } from '../src/board/virt.js';
import { RunLoop } from '../src/host/node/run-loop.js';
import { ThreadedRunLoop } from '../src/host/node/threaded-run-loop.js';
import { bareConfig, checksum, fmt, nowMs, nodeHost, type FigureRow } from './common.js';

/** How bench.elf is driven. */
export type LoopKind = 'single' | 'threaded-none' | 'threaded-record';

/** One run of a loop kind. */
export interface LoopRun {
  readonly kind: LoopKind;
  /** Guest instructions executed. */
  readonly steps: number;
  readonly wallMs: number;
  readonly sum: string | undefined;
  readonly exitCode: number;
}

/** Hard limit of one run. */
const RUN_TIMEOUT_MS = 60_000;

/** Runs `elf` once with the loop `kind`; wall time from loop creation to the end of `run`. */
export async function runLoopOnce(elf: string, kind: LoopKind): Promise<LoopRun> {
  const out: string[] = [];
  const host = nodeHost(out);
  const m = createVirtMachine(bareConfig(elf), host);
  const t0 = nowMs();
  const loop = kind === 'single'
    ? new RunLoop(m, host.time)
    : new ThreadedRunLoop(m, host.time, { console: host.console, trace: host.trace, mode: kind === 'threaded-record' ? 'record' : 'none' });
  const timer = setTimeout(() => loop.stop(124), RUN_TIMEOUT_MS);
  let outcome;
  try {
    outcome = await loop.run();
  } finally {
    clearTimeout(timer);
  }
  const wallMs = nowMs() - t0;
  return { kind, steps: m.totalSteps, wallMs, sum: checksum(out.join('')), exitCode: outcome.exitCode };
}

/** Result of figures 1 and 2b. */
export interface ThreadedResult {
  readonly rows: FigureRow[];
  readonly ok: boolean;
}

/** Best-of-`tries` wall time of nop.elf (powers off at once) under `kind`: the loop's start-up and shut-down cost. */
export async function startupMs(nopElf: string, kind: LoopKind, tries: number): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < tries; i++) best = Math.min(best, (await runLoopOnce(nopElf, kind)).wallMs);
  return best;
}

/**
 * Measures each loop kind's start-up cost on `nopElf`, then runs `elf` with each kind `rounds`
 * times (order reversed every other round, so warm-up and host noise do not favour one kind) and
 * keeps each kind's best net MIPS (instructions / (wall time - start-up cost)).
 */
export async function threadedFigures(elf: string, nopElf: string, rounds: number, expectedSum: string | undefined): Promise<ThreadedResult> {
  const kinds: LoopKind[] = ['single', 'threaded-none', 'threaded-record'];
  const start = new Map<LoopKind, number>();
  for (const k of kinds) start.set(k, await startupMs(nopElf, k, 2));
  console.log(`  start-up (nop.elf, best of 2): ${kinds.map((k) => `${k} ${fmt(start.get(k)!, 0)} ms`).join(', ')}`);
  const best = new Map<LoopKind, number>();
  let ok = true;
  for (let i = 0; i < rounds; i++) {
    for (const k of i % 2 === 0 ? kinds : [...kinds].reverse()) {
      const r = await runLoopOnce(elf, k);
      const netMs = Math.max(r.wallMs - start.get(k)!, 0.001);
      const mips = r.steps / (netMs * 1000);
      console.log(`  ${k}: ${fmt(r.wallMs, 0)} ms wall, ${fmt(netMs, 0)} ms net, ${fmt(mips)} MIPS (gross ${fmt(r.steps / (r.wallMs * 1000))}), `
        + `exit ${r.exitCode}, checksum ${r.sum ?? 'missing'}`);
      if (r.exitCode !== 0 || r.sum === undefined || (expectedSum !== undefined && r.sum !== expectedSum)) ok = false;
      best.set(k, Math.max(best.get(k) ?? 0, mips));
    }
  }
  const mips = (k: LoopKind): number => best.get(k) ?? NaN;
  const single = mips('single');
  const none = mips('threaded-none');
  const record = mips('threaded-record');
  return {
    ok,
    rows: [
      { figure: '1. threaded / single MIPS', value: `${fmt(none)} / ${fmt(single)} MIPS`, ratio: fmt(none / single, 3) },
      { figure: '2c. lock mode record / none MIPS (threaded)', value: `${fmt(record)} / ${fmt(none)} MIPS`, ratio: fmt(record / none, 3) },
    ],
  };
}
