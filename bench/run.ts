/**
 * `npm run bench`: the compute table (bench.elf in-process vs qemu-system-riscv32, see
 * compute.ts), then the issue-4 (threads) table: threaded vs single-thread MIPS, replay mutex
 * cost, console keystroke latency and BQL hand-offs under a timer-heavy guest; then the Linux
 * boot, record/replay, block translator (issue 15), start-up and qcow2 disk figures. `--quick`
 * runs small versions of everything. See bench/README.md.
 */
import { elfPath } from '../test/helpers/run-vm.js';
import { handoffFigures } from './bql-handoffs.js';
import { fmt, nowMs, printFigures, type FigureRow } from './common.js';
import { computeFigure } from './compute.js';
import { diskFormatFigures } from './disk-throughput.js';
import { latencyFigures } from './latency.js';
import { linuxBootFigures } from './linux-boot.js';
import { recordReplayFigures } from './record-replay.js';
import { lockCostFigures } from './lock-cost.js';
import { startupFigure } from './startup.js';
import { threadedFigures } from './threaded.js';
import { translatorFigures } from './translator.js';

const quick = process.argv.includes('--quick');
const workload = quick ? 'bench-quick' : 'bench';
/** Whole-bench guard: a hung measurement must not hang `npm run bench`. */
const BENCH_TIMEOUT_MS = 900_000;

async function main(): Promise<void> {
  const start = nowMs();
  const guard = setTimeout(() => {
    console.error(`bench: hard timeout after ${BENCH_TIMEOUT_MS} ms`);
    process.exit(2);
  }, BENCH_TIMEOUT_MS);
  guard.unref();
  const elf = elfPath(workload);
  console.log(`workload: ${elf}${quick ? ' (--quick)' : ''}`);
  const compute = await computeFigure(elf);
  let failed = !compute.ok;

  console.log('\nissue 4 (threads):');
  // The micro-benchmark first: the main thread holds no lock yet.
  const rows: FigureRow[] = lockCostFigures(quick ? 2_000_000 : 20_000_000, quick ? 3 : 5);
  const threaded = await threadedFigures(elf, elfPath('nop'), quick ? 1 : 3, compute.sum);
  if (!threaded.ok) failed = true;
  rows.unshift(threaded.rows[0]!);
  rows.push(threaded.rows[1]!);
  const latency = await latencyFigures(quick ? 30 : 200, quick ? 5 : 20, quick ? 20_000 : 30_000);
  if (!latency.ok) failed = true;
  rows.push(...latency.rows);
  rows.push(...await handoffFigures(quick ? 1_000 : 3_000));
  console.log('');
  printFigures(rows);

  console.log('\nissue 5 (Linux guest):');
  const boot = await linuxBootFigures(quick ? 1 : 3, 180_000);
  if (!boot.ok) failed = true;
  console.log('');
  printFigures(boot.rows);

  console.log('\nissue 6 (record/replay):');
  const rr = await recordReplayFigures(180_000);
  if (!rr.ok) failed = true;
  console.log('');
  printFigures(rr.rows);

  console.log('\nissue 15 (block translator):');
  const tr = await translatorFigures(elf, quick ? 1 : 3, 180_000);
  if (!tr.ok) failed = true;
  console.log('');
  printFigures(tr.rows);

  console.log('\nissue 11 (start-up):');
  const startup = await startupFigure(quick ? 5 : 11);
  if (!startup.ok) failed = true;
  console.log('');
  printFigures(startup.rows);

  console.log('\nissue 12 (qcow2 disks):');
  const disks = await diskFormatFigures(quick ? 1 : 3, 180_000);
  if (!disks.ok) failed = true;
  console.log('');
  printFigures(disks.rows);

  console.log(`\nbench: ${fmt((nowMs() - start) / 1e3, 1)} s`);
  clearTimeout(guard);
  if (failed) {
    console.log('\nFAILED: exit status, checksum mismatch or a timed-out measurement');
    process.exitCode = 1;
  }
}

await main();
