/**
 * Issue 15 figures: the block translator against the interpreter and QEMU 7.2, in one run.
 * - compute: bench.elf in process (icount shift=0) on each engine, MIPS, against
 *   qemu-system-riscv32 -icount shift=0 (start-up cost subtracted, as compute.ts does);
 * - Linux boot: the CLI (threaded, -bios default) from spawn to the shell prompt on each
 *   engine (REPLAYVM_CPU), against QEMU -icount shift=auto booting the same Image.
 * Run alone: `node dist/bench/translator.js [--quick]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getDefaultCpuEngine, setDefaultCpuEngine, type CpuEngine } from '../src/cpu/index.js';
import { CLI_PATH, QEMU, elfPath, qemuAvailable, runQemu } from '../test/helpers/run-vm.js';
import { checksum, fmt, printFigures, type FigureRow } from './common.js';
import { runOurs } from './compute.js';
import { timeToPrompt } from './linux-boot.js';
import { FIRMWARE, IMAGE_GZ, writeKernelImage } from './linux-guest.js';

const ENGINES: readonly CpuEngine[] = ['interpreter', 'translator'];
const QEMU_TIMEOUT_MS = 300_000;

/** MIPS of `elf` in process on `engine`; the checksum must match `expected` when given. */
function ourMips(engine: CpuEngine, elf: string): { mips: number; sum: string | undefined; steps: number } {
  const saved = getDefaultCpuEngine();
  setDefaultCpuEngine(engine);
  try {
    const r = runOurs(elf);
    return { mips: r.steps / (r.wallMs * 1000), sum: checksum(r.output), steps: r.steps };
  } finally {
    setDefaultCpuEngine(saved);
  }
}

/** Best of `runs` boots to the prompt through the CLI on `engine`, in ms. */
async function bootMs(engine: CpuEngine, runs: number, timeoutMs: number): Promise<number> {
  const saved = process.env['REPLAYVM_CPU'];
  process.env['REPLAYVM_CPU'] = engine;
  try {
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      best = Math.min(best, await timeToPrompt(process.execPath, [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ], timeoutMs));
    }
    return best;
  } finally {
    if (saved === undefined) delete process.env['REPLAYVM_CPU'];
    else process.env['REPLAYVM_CPU'] = saved;
  }
}

/** The issue-15 rows (see the file comment). */
export async function translatorFigures(elf: string, runs: number, timeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const rows: FigureRow[] = [];
  let ok = true;
  const mips: Partial<Record<CpuEngine, number>> = {};
  let sum: string | undefined;
  for (const engine of ENGINES) {
    const r = ourMips(engine, elf);
    console.log(`  ${engine}: ${r.steps} instructions, ${fmt(r.mips)} MIPS, checksum ${r.sum ?? 'missing'}`);
    if (r.sum === undefined || (sum !== undefined && r.sum !== sum)) ok = false;
    sum ??= r.sum;
    mips[engine] = r.mips;
  }
  const haveQemu = qemuAvailable();
  let qemuMips: number | undefined;
  if (haveQemu) {
    let startupMs = Infinity;
    for (let i = 0; i < 3; i++) startupMs = Math.min(startupMs, (await runQemu(elfPath('nop'), QEMU_TIMEOUT_MS, false)).wallMs);
    const q = await runQemu(elf, QEMU_TIMEOUT_MS, true);
    if (q.status !== 0 || checksum(q.stdout) !== sum) ok = false;
    const steps = ourMips('interpreter', elf).steps; // the workload's instruction count
    qemuMips = steps / (Math.max(q.wallMs - startupMs, 0.001) * 1000);
    console.log(`  QEMU -icount shift=0: ${fmt(qemuMips)} MIPS (start-up ${fmt(startupMs, 0)} ms subtracted)`);
  } else {
    console.log(`  ${QEMU} not installed: QEMU columns skipped`);
  }
  for (const engine of ENGINES) {
    rows.push({ figure: `15. compute MIPS, ${engine} vs QEMU -icount shift=0`, value: `${fmt(mips[engine]!)} vs ${qemuMips === undefined ? 'n/a' : fmt(qemuMips)}`, ratio: qemuMips === undefined ? '' : `${fmt(mips[engine]! / qemuMips, 3)} x (target >= 0.3)` });
  }
  try {
    const boot: Partial<Record<CpuEngine, number>> = {};
    for (const engine of ENGINES) {
      boot[engine] = await bootMs(engine, runs, timeoutMs);
      console.log(`  boot to prompt, ${engine}: ${fmt(boot[engine]!, 0)} ms (best of ${runs})`);
    }
    let qAuto: number | undefined;
    if (haveQemu) {
      const tmp = mkdtempSync(join(tmpdir(), 'replayvm-bench-'));
      try {
        const image = writeKernelImage(tmp);
        qAuto = Infinity;
        for (let i = 0; i < runs; i++) {
          qAuto = Math.min(qAuto, await timeToPrompt(QEMU, ['-M', 'virt', '-nographic', '-bios', FIRMWARE, '-kernel', image, '-icount', 'shift=auto'], timeoutMs));
        }
        console.log(`  boot to prompt, QEMU -icount shift=auto: ${fmt(qAuto, 0)} ms (best of ${runs})`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
    for (const engine of ENGINES) {
      rows.push({ figure: `15. boot to prompt, ${engine} vs QEMU -icount shift=auto`, value: `${fmt(boot[engine]!, 0)} ms vs ${qAuto === undefined ? 'n/a' : `${fmt(qAuto, 0)} ms`}`, ratio: qAuto === undefined ? '' : `${fmt(boot[engine]! / qAuto, 2)} x (target <= 1.0)` });
    }
  } catch (e) {
    console.log(`  linux boot: ${e instanceof Error ? e.message : String(e)}`);
    ok = false;
  }
  return { rows, ok };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  console.log('issue 15 (block translator):');
  const r = await translatorFigures(elfPath(quick ? 'bench-quick' : 'bench'), quick ? 1 : 3, 180_000);
  console.log('');
  printFigures(r.rows);
  if (!r.ok) {
    console.log('\nFAILED: a checksum or a measurement');
    process.exitCode = 1;
  }
}
