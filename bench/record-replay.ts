/**
 * Issue 6 figures, all from one run on the same workload (the bundled Linux guest booted to its
 * prompt, then `poweroff` typed): a plain run, a recording and a replay of it, on replayvm and,
 * when installed, on qemu-system-riscv32 (`-icount shift=auto,rr=record|replay`) booting the
 * same Image through our C SBI firmware. Wall times are spawn to exit, the median of five
 * interleaved rounds. Guest seconds are the kernel's timestamp of its power-down message.
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
  /** Killed after the timeout (a hang: QEMU's replay sometimes waits forever for an event). */
  readonly timedOut: boolean;
}

/** Spawns a VM; types `poweroff` at the prompt when `interactive`; resolves at exit or timeout. */
function run(cmd: string, args: readonly string[], interactive: boolean, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const t0 = nowMs();
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
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
      resolve({ ms: nowMs() - t0, out, status, timedOut });
    });
  });
}

/** The guest's uptime at power-down, from the kernel's `reboot: Power down` line. */
function guestSeconds(out: string): number {
  const m = /\[\s*(\d+\.\d+)\] reboot: Power down/.exec(out);
  return m === null ? NaN : Number(m[1]);
}

/** Rounds of plain, record, replay (interleaved, so host noise spreads over all three); medians are reported. */
const ROUNDS = 5;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Plain, record and replay of one VM, ROUNDS times interleaved (each round records a new log);
 * returns the medians and the last round's log size and guest seconds.
 */
async function triple(name: string, plain: () => Promise<RunResult>, record: (log: string) => Promise<RunResult>, replay: (log: string) => Promise<RunResult>, logOf: (round: number) => string): Promise<{ plain: number; record: number; replay: number; bytes: number; guestS: number; hangs: string[]; differs: number }> {
  const times = { plain: [] as number[], record: [] as number[], replay: [] as number[] };
  const hangs: string[] = [];
  let differs = 0;
  let bytes = 0;
  let guestS = NaN;
  for (let round = 0; round < ROUNDS; round++) {
    const log = logOf(round);
    const p = await plain();
    const r = await record(log);
    bytes = statSync(log).size;
    const q = await replay(log);
    for (const [what, x] of [['plain', p], ['record', r], ['replay', q]] as const) {
      if (x.timedOut) hangs.push(`${what} round ${round + 1} did not finish (killed after ${fmt(x.ms / 1000, 0)} s; output ends ${JSON.stringify(x.out.slice(-80))})`);
    }
    guestS = guestSeconds(r.out);
    const same = guestSeconds(q.out) === guestS;
    if (!same) differs++;
    times.plain.push(p.ms);
    times.record.push(r.ms);
    times.replay.push(q.ms);
    console.log(`  ${name} round ${round + 1}/${ROUNDS}: plain ${fmt(p.ms, 0)} ms, record ${fmt(r.ms, 0)} ms, replay ${fmt(q.ms, 0)} ms; log ${bytes} bytes for ${fmt(guestS, 2)} guest s${same ? '' : ' (replay output differs!)'}`);
  }
  for (const h of hangs) console.log(`  ${name}: ${h}`);
  return { plain: median(times.plain), record: median(times.record), replay: median(times.replay), bytes, guestS, hangs, differs };
}

/** The issue-6 rows. */
export async function recordReplayFigures(timeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const tmp = mkdtempSync(join(tmpdir(), 'replayvm-rr-bench-'));
  const rows: FigureRow[] = [];
  try {
    const machine = ['-M', 'virt', '-nographic', '-bios', 'default', '-kernel', IMAGE_GZ, '-rtc', 'base=2026-01-01,clock=vm'];
    const ours = await triple('replayvm',
      () => run(process.execPath, [CLI_PATH, ...machine, '-icount', 'shift=4'], true, timeoutMs),
      (log) => run(process.execPath, [CLI_PATH, 'record', '-o', log, '--', ...machine, '-icount', 'shift=4'], true, timeoutMs),
      (log) => run(process.execPath, [CLI_PATH, 'replay', log], false, timeoutMs),
      (round) => join(tmp, `ours-${round}.rrlog`));
    if (ours.hangs.length > 0) throw new Error(`replayvm: ${ours.hangs.join('; ')}`);
    if (ours.differs > 0) throw new Error(`replayvm: the replay's power-down time differs from the recording's in ${ours.differs} of ${ROUNDS} rounds`);
    const perS = (x: { bytes: number; guestS: number }): number => x.bytes / x.guestS;
    rows.push(
      { figure: '6. record / plain wall time (replayvm)', value: `${fmt(ours.record, 0)} / ${fmt(ours.plain, 0)} ms`, ratio: `${fmt(ours.record / ours.plain, 3)} (target <= 1.05)` },
      { figure: '6. replay / record wall time (replayvm)', value: `${fmt(ours.replay, 0)} / ${fmt(ours.record, 0)} ms`, ratio: `${fmt(ours.replay / ours.record, 3)} (target <= 1.0)` },
      { figure: '6. log bytes per guest second (replayvm)', value: `${ours.bytes} B / ${fmt(ours.guestS, 2)} s`, ratio: `${fmt(perS(ours), 0)} B/s` },
    );
    if (qemuAvailable()) {
      const image = writeKernelImage(tmp);
      const qm = ['-M', 'virt', '-nographic', '-bios', FIRMWARE, '-kernel', image, '-rtc', 'base=2026-01-01,clock=vm'];
      // QEMU boots in about a second; its replay sometimes waits forever for an event.
      const qemuTimeout = Math.min(timeoutMs, 30_000);
      const q = await triple('QEMU',
        () => run(QEMU, [...qm, '-icount', 'shift=auto'], true, qemuTimeout),
        (log) => run(QEMU, [...qm, '-icount', `shift=auto,rr=record,rrfile=${log}`], true, qemuTimeout),
        (log) => run(QEMU, [...qm, '-icount', `shift=auto,rr=replay,rrfile=${log}`], false, qemuTimeout),
        (round) => join(tmp, `qemu-${round}.rr`));
      rows.push(
        {
          figure: '6. QEMU record / plain; replay / record', value: `${fmt(q.record / q.plain, 3)}; ${fmt(q.replay / q.record, 3)}`,
          ratio: `QEMU's replay reproduced its recording in ${ROUNDS - q.differs} of ${ROUNDS} rounds`
            + (q.hangs.length > 0 ? `; ${q.hangs.length} of ${3 * ROUNDS} QEMU runs hung (killed after ${qemuTimeout / 1000} s)` : ''),
        },
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
