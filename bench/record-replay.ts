/**
 * Issue 6 figures, all from one run on the same workload (the bundled Linux guest booted to its
 * prompt, then `poweroff` typed): a plain run, a recording and a replay of it, on replayvm and,
 * when installed, on qemu-system-riscv32 (`-icount shift=auto,rr=record|replay`) booting the
 * same Image through our C SBI firmware. Wall times are spawn to exit. Guest seconds are the
 * kernel's timestamp of its power-down message.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, QEMU, qemuAvailable } from '../test/helpers/run-vm.js';
import { fmt, nowMs, type FigureRow } from './common.js';
import { FIRMWARE, IMAGE_GZ, PROMPT, writeKernelImage } from './linux-guest.js';


interface RunResult {
  readonly ms: number;
  readonly out: string;
  readonly status: number | null;
}

/** Spawns a VM; types `poweroff` at the prompt when `interactive`; resolves at exit. */
function run(cmd: string, args: readonly string[], interactive: boolean, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')}...: timed out; output ends ${JSON.stringify(out.slice(-300))}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (interactive && !typed && out.includes(PROMPT)) {
        typed = true;
        child.stdin.write('poweroff\n');
      }
    });
    child.stderr.on('data', () => {});
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ ms: nowMs() - t0, out, status });
    });
  });
}

/** The guest's uptime at power-down, from the kernel's `reboot: Power down` line. */
function guestSeconds(out: string): number {
  const m = /\[\s*(\d+\.\d+)\] reboot: Power down/.exec(out);
  return m === null ? NaN : Number(m[1]);
}

/** Plain, record and replay of one VM; returns the rows' raw numbers. */
async function triple(name: string, plain: () => Promise<RunResult>, record: () => Promise<RunResult>, replay: () => Promise<RunResult>, log: string): Promise<{ plain: number; record: number; replay: number; bytes: number; guestS: number }> {
  const p = await plain();
  const r = await record();
  const bytes = statSync(log).size;
  const q = await replay();
  const guestS = guestSeconds(r.out);
  const same = guestSeconds(q.out) === guestS;
  console.log(`  ${name}: plain ${fmt(p.ms, 0)} ms, record ${fmt(r.ms, 0)} ms, replay ${fmt(q.ms, 0)} ms; log ${bytes} bytes for ${fmt(guestS, 2)} guest s${same ? '' : ' (replay output differs!)'}`);
  return { plain: p.ms, record: r.ms, replay: q.ms, bytes, guestS };
}

/** The issue-6 rows. */
export async function recordReplayFigures(timeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const tmp = mkdtempSync(join(tmpdir(), 'replayvm-rr-bench-'));
  const rows: FigureRow[] = [];
  try {
    const machine = ['-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ, '-rtc', 'base=2026-01-01,clock=vm'];
    const log = join(tmp, 'ours.rrlog');
    const ours = await triple('replayvm',
      () => run(process.execPath, [CLI_PATH, ...machine, '-icount', 'shift=4'], true, timeoutMs),
      () => run(process.execPath, [CLI_PATH, 'record', '-o', log, '--', ...machine, '-icount', 'shift=4'], true, timeoutMs),
      () => run(process.execPath, [CLI_PATH, 'replay', log], false, timeoutMs),
      log);
    const perS = (x: { bytes: number; guestS: number }): number => x.bytes / x.guestS;
    rows.push(
      { figure: '6. record / plain wall time (replayvm)', value: `${fmt(ours.record, 0)} / ${fmt(ours.plain, 0)} ms`, ratio: `${fmt(ours.record / ours.plain, 3)} (target <= 1.05)` },
      { figure: '6. replay / record wall time (replayvm)', value: `${fmt(ours.replay, 0)} / ${fmt(ours.record, 0)} ms`, ratio: `${fmt(ours.replay / ours.record, 3)} (target <= 1.0)` },
      { figure: '6. log bytes per guest second (replayvm)', value: `${ours.bytes} B / ${fmt(ours.guestS, 2)} s`, ratio: `${fmt(perS(ours), 0)} B/s` },
    );
    if (qemuAvailable()) {
      const image = writeKernelImage(tmp);
      const qlog = join(tmp, 'qemu.rr');
      const qm = ['-M', 'virt', '-nographic', '-bios', FIRMWARE, '-kernel', image, '-rtc', 'base=2026-01-01,clock=vm'];
      const q = await triple('QEMU',
        () => run(QEMU, [...qm, '-icount', 'shift=auto'], true, timeoutMs),
        () => run(QEMU, [...qm, '-icount', `shift=auto,rr=record,rrfile=${qlog}`], true, timeoutMs),
        () => run(QEMU, [...qm, '-icount', `shift=auto,rr=replay,rrfile=${qlog}`], false, timeoutMs),
        qlog);
      rows.push(
        { figure: '6. QEMU record / plain; replay / record', value: `${fmt(q.record / q.plain, 3)}; ${fmt(q.replay / q.record, 3)}`, ratio: '' },
        { figure: '6. log bytes per guest second: replayvm vs QEMU', value: `${fmt(perS(ours), 0)} vs ${fmt(perS(q), 0)} B/s`, ratio: `${fmt(perS(ours) / perS(q), 3)} x (target < 1)` },
      );
    }
    return { rows, ok: true };
  } catch (e) {
    console.log(`  record/replay: ${e instanceof Error ? e.message : String(e)}`);
    return { rows, ok: false };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
