/**
 * The start-up figure: wall time of a whole process that boots a bare-metal guest which powers
 * off at once (nop.elf), replayvm's CLI (`node dist/src/cli/main.js -M virt -nographic -bios none
 * -kernel nop.elf`) against qemu-system-riscv32 with the same options, when installed. The two
 * alternate, so both see the same load; the medians are compared. See bench/README.md.
 */
import { elfPath, qemuAvailable, runQemu, runReplayvm, type RunResult } from '../test/helpers/run-vm.js';
import { fmt, quantile, type FigureRow } from './common.js';

const RUN_TIMEOUT_MS = 30_000;

/** The start-up row, and whether every run exited with status 0. */
export async function startupFigure(runs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const nop = elfPath('nop');
  const withQemu = qemuAvailable();
  const ours: number[] = [];
  const qemu: number[] = [];
  let ok = true;
  const check = (who: string, r: RunResult): void => {
    if (r.status === 0 && !r.timedOut) return;
    ok = false;
    console.log(`  start-up: ${who} failed: status ${String(r.status)}${r.timedOut ? ' (timed out)' : ''}: ${r.stderr.trim()}`);
  };
  for (let i = 0; i < runs; i++) {
    const r = await runReplayvm(nop, RUN_TIMEOUT_MS);
    check('replayvm', r);
    ours.push(r.wallMs);
    if (withQemu) {
      const q = await runQemu(nop, RUN_TIMEOUT_MS, false);
      check('qemu-system-riscv32', q);
      qemu.push(q.wallMs);
    }
  }
  const oursMs = quantile(ours, 0.5);
  const qemuMs = quantile(qemu, 0.5);
  const value = withQemu ? `replayvm ${fmt(oursMs, 0)} ms vs QEMU ${fmt(qemuMs, 0)} ms` : `replayvm ${fmt(oursMs, 0)} ms (QEMU not installed)`;
  console.log(`  start-up (nop.elf, median of ${runs}): ${value}; replayvm min ${fmt(Math.min(...ours), 0)} ms${withQemu ? `, QEMU min ${fmt(Math.min(...qemu), 0)} ms` : ''}`);
  return {
    rows: [{ figure: `start-up: nop.elf process wall time (median of ${runs})`, value, ratio: withQemu ? `${fmt(oursMs / qemuMs, 2)}x` : 'n/a' }],
    ok,
  };
}
