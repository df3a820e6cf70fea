/**
 * Issue 5 figures: the bundled Linux guest booted to its shell prompt, replayvm against
 * qemu-system-riscv32 booting the same Image (through our C SBI firmware, since Debian ships no
 * rv32 OpenSBI) in the same run, with `-icount shift=auto` and without; and the instruction
 * count to the prompt (an in-process run reading the machine's counter when the prompt shows).
 * Wall time is from spawning the process to the prompt on its stdout; every VM then gets
 * `poweroff`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVirtMachine } from '../src/board/virt.js';
import { ThreadedRunLoop } from '../src/host/node/threaded-run-loop.js';
import { CLI_PATH, QEMU, qemuAvailable } from '../test/helpers/run-vm.js';
import { fmt, nodeHost, nowMs, type FigureRow } from './common.js';
import { diskThroughput, freshRaw } from './disk-throughput.js';
import { FIRMWARE, IMAGE_GZ, PROMPT, kernelImage, writeKernelImage } from './linux-guest.js';


/** Spawns `cmd args`, resolves with ms from spawn to the prompt, then powers the guest off. */
export function timeToPrompt(cmd: string, args: readonly string[], timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let at: number | undefined;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd}: no prompt after ${timeoutMs} ms; output ends ${JSON.stringify(out.slice(-300))}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      if (at !== undefined) return;
      out += d.toString('latin1');
      if (out.includes(PROMPT)) {
        at = nowMs() - t0;
        child.stdin.write('poweroff\n');
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (at !== undefined) resolve(at);
      else reject(new Error(`${cmd} exited before the prompt; output ends ${JSON.stringify(out.slice(-300))}`));
    });
  });
}

/** Boots in-process (threaded) and returns the instruction count when the prompt appears. */
async function instructionsToPrompt(timeoutMs: number): Promise<{ steps: number; ms: number }> {
  const text: string[] = [];
  const host = nodeHost(text);
  const data = kernelImage();
  const t0 = nowMs();
  const m = createVirtMachine({ ramSize: 128 * 1024 * 1024, smp: 1, bios: { kind: 'default' }, kernel: { path: IMAGE_GZ, data }, noReboot: true }, host);
  let result: { steps: number; ms: number } | undefined;
  const loop = new ThreadedRunLoop(m, host.time, {
    trace: host.trace,
    console: {
      write: (bytes) => {
        host.console.write(bytes);
        if (result === undefined && text.join('').includes(PROMPT)) {
          result = { steps: m.totalSteps, ms: nowMs() - t0 };
          loop.stop(0);
        }
      },
    },
  });
  const guard = setTimeout(() => loop.stop(1), timeoutMs);
  await loop.run();
  clearTimeout(guard);
  if (result === undefined) throw new Error('in-process boot: no prompt');
  return result;
}

/** The issue-5 rows: boot to the prompt, ours vs QEMU (icount auto and TCG), instructions. */
export async function linuxBootFigures(runs: number, timeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const best = async (f: () => Promise<number>): Promise<number> => {
    let b = Infinity;
    for (let i = 0; i < runs; i++) b = Math.min(b, await f());
    return b;
  };
  const rows: FigureRow[] = [];
  try {
    const ours = await best(() => timeToPrompt(process.execPath, [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ], timeoutMs));
    console.log(`  replayvm (threaded, -bios default): ${fmt(ours, 0)} ms to the prompt (best of ${runs})`);
    const inproc = await instructionsToPrompt(timeoutMs);
    console.log(`  in-process: ${inproc.steps} instructions to the prompt in ${fmt(inproc.ms, 0)} ms (${fmt(inproc.steps / inproc.ms / 1e3, 1)} MIPS)`);
    rows.push({ figure: '5. instructions to the shell prompt', value: `${(inproc.steps / 1e6).toFixed(1)} M`, ratio: `${fmt(inproc.steps / inproc.ms / 1e3, 1)} MIPS` });
    const tmp = mkdtempSync(join(tmpdir(), 'replayvm-bench-'));
    try {
      // QEMU 7.2 does not load a gzipped kernel: one decompressed copy serves every QEMU run.
      const image = qemuAvailable() ? writeKernelImage(tmp) : undefined;
      const qemuArgs = (image: string, extra: readonly string[]): string[] => ['-M', 'virt', '-nographic', '-bios', FIRMWARE, '-kernel', image, ...extra];
      const mb = 16;
      const rawDisk = (name: string): string => freshRaw(join(tmp, name), (mb + 1) * 1024 * 1024);
      const disk = await diskThroughput(process.execPath, [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ,
        '-drive', `file=${rawDisk('ours.img')},format=raw,if=virtio`], `diskbench ${mb}`, timeoutMs);
      console.log(`  replayvm diskbench ${mb} MiB: write ${fmt(disk.write, 1)} MB/s, read ${fmt(disk.read, 1)} MB/s`);
      let qdisk: { write: number; read: number } | undefined;
      if (image !== undefined) {
        qdisk = await diskThroughput(QEMU, qemuArgs(image, ['-drive', `file=${rawDisk('qemu.img')},format=raw,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0']),
          `diskbench ${mb}`, timeoutMs);
        console.log(`  QEMU diskbench ${mb} MiB: write ${fmt(qdisk.write, 1)} MB/s, read ${fmt(qdisk.read, 1)} MB/s`);
      }
      rows.push({
        figure: `5. disk sequential write / read (guest, ${mb} MiB)`,
        value: `${fmt(disk.write, 1)} / ${fmt(disk.read, 1)} MB/s`,
        ratio: qdisk === undefined ? '' : `QEMU ${fmt(qdisk.write, 1)} / ${fmt(qdisk.read, 1)} MB/s`,
      });
      if (image === undefined) {
        console.log('  qemu-system-riscv32 not installed: QEMU columns skipped');
        rows.push({ figure: '5. boot to prompt: replayvm', value: `${fmt(ours, 0)} ms`, ratio: '' });
        return { rows, ok: true };
      }
      const qAuto = await best(() => timeToPrompt(QEMU, qemuArgs(image, ['-icount', 'shift=auto']), timeoutMs));
      const qTcg = await best(() => timeToPrompt(QEMU, qemuArgs(image, []), timeoutMs));
      console.log(`  QEMU -icount shift=auto: ${fmt(qAuto, 0)} ms; QEMU TCG: ${fmt(qTcg, 0)} ms (best of ${runs})`);
      rows.push(
        { figure: '5. boot to prompt: replayvm vs QEMU -icount shift=auto', value: `${fmt(ours, 0)} ms vs ${fmt(qAuto, 0)} ms`, ratio: `${fmt(ours / qAuto, 2)} x (target <= 2)` },
        { figure: '5. boot to prompt: replayvm vs QEMU TCG', value: `${fmt(ours, 0)} ms vs ${fmt(qTcg, 0)} ms`, ratio: `${fmt(ours / qTcg, 2)} x` },
      );
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return { rows, ok: true };
  } catch (e) {
    console.log(`  linux boot: ${e instanceof Error ? e.message : String(e)}`);
    return { rows, ok: false };
  }
}
