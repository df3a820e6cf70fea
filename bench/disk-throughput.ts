/**
 * Guest disk throughput: the bundled Linux guest's `diskbench MB` (sequential 16 KiB writes,
 * fsync, reads) and `diskbench MB rand` (4 KiB O_DIRECT writes then reads, each block once, in
 * pseudo-random order) on a fresh image, measured in the guest (CLOCK_MONOTONIC follows host time
 * without -icount). The issue-5 row (raw, sequential) uses `diskThroughput`; `diskFormatFigures`
 * gives the issue-12 rows: raw and qcow2, sequential and random, on replayvm and on QEMU 7.2 with
 * images made the same way, as ratios qcow2/raw (ours) and ours/QEMU.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, QEMU, qemuAvailable } from '../test/helpers/run-vm.js';
import { fmt, type FigureRow } from './common.js';
import { FIRMWARE, IMAGE_GZ, PROMPT, writeKernelImage } from './linux-guest.js';

/** Guest-measured throughput in MB/s (MiB per second, as the issue-5 figures). */
export interface Throughput {
  readonly write: number;
  readonly read: number;
}

/** A fresh zero-filled (sparse) raw image of `bytes` at `path`. */
export function freshRaw(path: string, bytes: number): string {
  writeFileSync(path, new Uint8Array(0));
  truncateSync(path, bytes);
  return path;
}

/** A fresh qcow2 image (qemu-img create, 64 KiB clusters) of `bytes` at `path`. */
export function freshQcow2(path: string, bytes: number): string {
  const r = spawnSync('qemu-img', ['create', '-f', 'qcow2', path, String(bytes)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`qemu-img create ${path}: ${r.error?.message ?? r.stderr.trim()}`);
  return path;
}

/**
 * Spawns `cmd args`, runs `command` (a `diskbench`) at the guest's prompt, powers off; returns
 * the throughput the guest printed.
 */
export function diskThroughput(cmd: string, args: readonly string[], command: string, timeoutMs: number): Promise<Throughput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let step = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (step === 0 && out.includes(PROMPT)) {
        step = 1;
        child.stdin.write(`${command}\n`);
      } else if (step === 1 && /diskbench: [^\n]*\n[^]*# $/.test(out)) {
        // ('.' would stop at the console's '\r': the run would only end at the timeout.)
        step = 2;
        child.stdin.write('poweroff\n');
      }
    });
    child.on('close', () => {
      clearTimeout(timer);
      const m = /diskbench: (?:rand4k )?write (\d+) KiB in (\d+) ms, read (\d+) KiB in (\d+) ms/.exec(out);
      if (m === null) {
        reject(new Error(`${cmd} \`${command}\`: no diskbench result; output ends ${JSON.stringify(out.slice(-300))}`));
        return;
      }
      const mib = Number(m[1]) / 1024;
      resolve({ write: mib / Math.max(1, Number(m[2])) * 1000, read: mib / Math.max(1, Number(m[4])) * 1000 });
    });
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

type Format = 'raw' | 'qcow2';
type Mode = 'seq' | 'rand';

/**
 * The issue-12 rows: for sequential (`diskbench 16`) and random (`diskbench 8 rand`) I/O, raw and
 * qcow2 on replayvm (median of `runs`, raw and qcow2 interleaved so host noise falls on both) and
 * on QEMU (one run each, when installed), each on a fresh image one MiB larger than the data.
 */
export async function diskFormatFigures(runs: number, timeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const rows: FigureRow[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'replayvm-bench-disk-'));
  try {
    const kernel = qemuAvailable() ? writeKernelImage(tmp) : undefined;
    let n = 0;
    const image = (format: Format, mb: number): string => {
      const path = join(tmp, `disk-${n++}.${format}`);
      const bytes = (mb + 1) * 1024 * 1024;
      return format === 'raw' ? freshRaw(path, bytes) : freshQcow2(path, bytes);
    };
    const ours = (format: Format, mb: number, command: string): Promise<Throughput> =>
      diskThroughput(process.execPath, [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ,
        '-drive', `file=${image(format, mb)},format=${format},if=virtio`], command, timeoutMs);
    const qemu = (format: Format, mb: number, command: string): Promise<Throughput> =>
      diskThroughput(QEMU, ['-M', 'virt', '-nographic', '-bios', FIRMWARE, '-kernel', kernel!,
        '-drive', `file=${image(format, mb)},format=${format},if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0'], command, timeoutMs);
    const pair = (t: Throughput): string => `${fmt(t.write, 1)} / ${fmt(t.read, 1)}`;
    const ratio = (a: Throughput, b: Throughput): string => `${fmt(a.write / b.write, 2)} / ${fmt(a.read / b.read, 2)}`;
    for (const [mode, mb] of [['seq', 16], ['rand', 8]] as const satisfies ReadonlyArray<readonly [Mode, number]>) {
      const command = mode === 'seq' ? `diskbench ${mb}` : `diskbench ${mb} rand`;
      const samples: Record<Format, Throughput[]> = { raw: [], qcow2: [] };
      for (let i = 0; i < runs; i++) {
        for (const format of ['raw', 'qcow2'] as const) {
          const t = await ours(format, mb, command);
          samples[format].push(t);
          console.log(`  replayvm ${format} \`${command}\`: write ${fmt(t.write, 1)} MB/s, read ${fmt(t.read, 1)} MB/s`);
        }
      }
      const mid = (format: Format): Throughput => ({
        write: median(samples[format].map((t) => t.write)), read: median(samples[format].map((t) => t.read)),
      });
      const raw = mid('raw');
      const qcow2 = mid('qcow2');
      const what = mode === 'seq' ? `sequential, ${mb} MiB` : `random 4 KiB, ${mb} MiB`;
      rows.push({
        figure: `12. replayvm qcow2 vs raw, write / read (${what})`,
        value: `${pair(qcow2)} vs ${pair(raw)} MB/s`,
        ratio: `${ratio(qcow2, raw)} (target >= 0.9)`,
      });
      if (kernel === undefined) continue;
      for (const format of ['raw', 'qcow2'] as const) {
        const q = await qemu(format, mb, command);
        console.log(`  QEMU ${format} \`${command}\`: write ${fmt(q.write, 1)} MB/s, read ${fmt(q.read, 1)} MB/s`);
        rows.push({
          figure: `12. ${format}: replayvm vs QEMU, write / read (${what})`,
          value: `${pair(mid(format))} vs ${pair(q)} MB/s`,
          ratio: `${ratio(mid(format), q)}${format === 'raw' ? ' (target >= 0.5)' : ''}`,
        });
      }
    }
    if (kernel === undefined) console.log('  qemu-system-riscv32 not installed: QEMU rows skipped');
    return { rows, ok: true };
  } catch (e) {
    console.log(`  disk formats: ${e instanceof Error ? e.message : String(e)}`);
    return { rows, ok: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
