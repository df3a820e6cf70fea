/**
 * Figure 2a/2b: cost of one ReplayMutex lock+unlock pair in a tight loop, mode none and mode
 * record (uncontended, one thread), against an empty loop of the same shape.
 */
import { ReplayMutex, type ReplayMode } from '../src/threads/lock/index.js';
import { fmt, type FigureRow } from './common.js';

/** Sink so the loops' work is observable and not optimised away. */
let sink = 0;

function emptyLoop(n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) acc = (acc + i) | 0;
  return acc;
}

function pairLoop(m: ReplayMutex, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    m.lock();
    acc = (acc + i) | 0;
    m.unlock();
  }
  return acc;
}

/** Best-of-`reps` ns per iteration of `body(n)`. */
function nsPerIter(body: (n: number) => number, n: number, reps: number): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    sink ^= body(n);
    const ns = Number(process.hrtime.bigint() - t0);
    best = Math.min(best, ns / n);
  }
  return best;
}

function mutex(mode: ReplayMode): ReplayMutex {
  return new ReplayMutex(new Int32Array(new SharedArrayBuffer(ReplayMutex.WORDS * 4)), mode);
}

/** Measures figure 2a/2b; `n` iterations per repetition (record uses n/10). */
export function lockCostFigures(n: number, reps: number): FigureRow[] {
  const none = mutex('none');
  const record = mutex('record');
  // Warm-up, so every loop runs optimised code when timed.
  nsPerIter(emptyLoop, n / 10, 2);
  nsPerIter((k) => pairLoop(none, k), n / 10, 2);
  nsPerIter((k) => pairLoop(record, k), n / 100, 2);
  const empty = nsPerIter(emptyLoop, n, reps);
  const noneNs = nsPerIter((k) => pairLoop(none, k), n, reps);
  const recordNs = nsPerIter((k) => pairLoop(record, k), n / 10, reps);
  if (sink === 0x7fffffff) console.log('');
  const noneCost = Math.max(noneNs - empty, 0);
  const recordCost = Math.max(recordNs - empty, 0);
  return [
    {
      figure: '2a. replay mutex none: ns per lock+unlock',
      value: `${fmt(noneNs, 2)} ns/iter vs empty ${fmt(empty, 2)}: +${fmt(noneCost, 2)} ns`,
      ratio: `${fmt(noneNs / empty, 2)} x empty loop`,
    },
    {
      figure: '2b. replay mutex record (uncontended)',
      value: `${fmt(recordNs, 2)} ns/iter: +${fmt(recordCost, 2)} ns`,
      ratio: `none/record cost ${fmt(noneCost / Math.max(recordCost, 1e-9), 3)}`,
    },
  ];
}
