/**
 * The compute figure: bench.elf in-process (raw `runSlice` loop, icount shift 0) and on
 * qemu-system-riscv32 with and without `-icount shift=0`. See bench/README.md.
 */
import { createVirtMachine } from '../src/board/virt.js';
import type { Machine } from '../src/board/machine-api.js';
import { elfPath, qemuAvailable, runQemu } from '../test/helpers/run-vm.js';
import { bareConfig, checksum, fmt, nodeHost } from './common.js';

const QEMU_TIMEOUT_MS = 300_000;
const SLICE = 1_000_000;
/** Give up on replayvm after this many instructions (the workload needs about 4e8). */
const MAX_STEPS = 5_000_000_000;

/** One in-process run of a compute workload. */
export interface OurRun {
  readonly output: string;
  readonly exitCode: number;
  readonly steps: number;
  readonly wallMs: number;
}

/** Runs `path` in-process with icount shift 0 in slices of 1M steps; wall time covers runSlice only. */
export function runOurs(path: string): OurRun {
  const out: string[] = [];
  const machine: Machine = createVirtMachine(bareConfig(path, 0), nodeHost(out));
  const start = performance.now();
  let exitCode = -1;
  while (machine.totalSteps < MAX_STEPS) {
    const r = machine.runSlice(SLICE);
    if (r.kind === 'shutdown') {
      exitCode = r.exitCode;
      break;
    }
    if (r.kind === 'idle') throw new Error(`the workload went idle (WFI) after ${machine.totalSteps} steps: it never should`);
  }
  const wallMs = performance.now() - start;
  return { output: out.join(''), exitCode, steps: machine.totalSteps, wallMs };
}

/** Result of the compute figure. */
export interface ComputeResult {
  /** The in-process run (its step count is the workload's instruction count). */
  readonly ours: OurRun;
  /** Checksum printed by the in-process run. */
  readonly sum: string | undefined;
  /** False when an exit status or checksum was wrong. */
  readonly ok: boolean;
}

/** Measures and prints the compute table (the original `npm run bench`). */
export async function computeFigure(elf: string): Promise<ComputeResult> {
  const ours = runOurs(elf);
  const ourSum = checksum(ours.output);
  const ourMips = ours.steps / (ours.wallMs * 1000);
  console.log(`replayvm: ${ours.steps} instructions in ${fmt(ours.wallMs, 0)} ms, exit ${ours.exitCode}, checksum ${ourSum ?? 'missing'}`);
  let ok = ours.exitCode === 0 && ourSum !== undefined;

  const rows: [string, string, string][] = [['replayvm (icount shift=0)', fmt(ourMips), '1.00']];
  if (!qemuAvailable()) {
    console.log('qemu-system-riscv32 not installed: QEMU columns skipped');
  } else {
    // QEMU's start-up and power-off cost, measured with a program that powers off at once.
    let startupMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const r = await runQemu(elfPath('nop'), QEMU_TIMEOUT_MS, false);
      startupMs = Math.min(startupMs, r.wallMs);
    }
    console.log(`QEMU start-up (nop.elf, best of 3): ${fmt(startupMs, 0)} ms`);
    for (const icount of [false, true]) {
      const r = await runQemu(elf, QEMU_TIMEOUT_MS, icount);
      const sum = checksum(r.stdout);
      const netMs = Math.max(r.wallMs - startupMs, 0.001);
      const mips = ours.steps / (netMs * 1000);
      const label = icount ? 'QEMU -icount shift=0' : 'QEMU (TCG)';
      console.log(`${label}: ${fmt(r.wallMs, 0)} ms wall, ${fmt(netMs, 0)} ms net, exit ${String(r.status)}, checksum ${sum ?? 'missing'}`);
      if (r.status !== 0 || sum !== ourSum) {
        console.log(`  MISMATCH: QEMU checksum ${sum ?? 'missing'} vs replayvm ${ourSum ?? 'missing'}`);
        ok = false;
      }
      rows.push([label, fmt(mips), fmt(ourMips / mips, 3)]);
    }
  }
  console.log('');
  console.log(`${'VM'.padEnd(28)}${'MIPS'.padStart(10)}${'replayvm / VM'.padStart(16)}`);
  for (const [name, mips, ratio] of rows) console.log(`${name.padEnd(28)}${mips.padStart(10)}${ratio.padStart(16)}`);
  return { ours, sum: ourSum, ok };
}
