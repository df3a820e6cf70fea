/**
 * Figure 3: console keystroke to guest echo latency through the CLI (stdin and stdout as pipes),
 * for the threaded runner (default) and the single-thread one (REPLAYVM_THREADS=0).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, REPO_ROOT } from '../test/helpers/run-vm.js';
import { echoProgram, guestElf } from '../test/helpers/guest-programs.js';
import { fmt, quantile, type FigureRow } from './common.js';

/** Latency samples of one runner, in microseconds. */
export interface LatencyRun {
  readonly threaded: boolean;
  readonly samplesUs: number[];
  /** Why the run ended early, if it did. */
  readonly error?: string;
}

const PER_KEY_TIMEOUT_MS = 2_000;
const START_TIMEOUT_MS = 10_000;
const Q = 0x71;
const GT = 0x3e;

/**
 * Spawns the CLI on `elf`, waits for '>', then sends `warmup + n` single bytes ('a'..'z' but
 * 'q'), each after the previous echo, timing write -> echo; then 'q'. The child is killed after
 * `hardTimeoutMs` whatever happens.
 */
export function measureLatency(elf: string, threaded: boolean, n: number, warmup: number, hardTimeoutMs: number): Promise<LatencyRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['REPLAYVM_LOCK_MODE'];
  if (threaded) delete env['REPLAYVM_THREADS'];
  else env['REPLAYVM_THREADS'] = '0';
  const child = spawn(process.execPath, [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elf], {
    cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'],
  });
  const samples: number[] = [];
  return new Promise<LatencyRun>((resolve) => {
    let ready = false;
    let sent = 0;
    let expect = -1;
    let t0 = 0n;
    let done = false;
    let keyTimer: ReturnType<typeof setTimeout> | undefined;
    let stderr = '';
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(hard);
      clearTimeout(keyTimer);
      const exit = setTimeout(() => child.kill('SIGKILL'), 3_000);
      child.once('exit', () => {
        clearTimeout(exit);
        resolve({ threaded, samplesUs: samples, ...(error !== undefined ? { error } : {}) });
      });
      if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(exit);
        resolve({ threaded, samplesUs: samples, ...(error !== undefined ? { error } : {}) });
        return;
      }
      if (error === undefined) child.stdin.write(Buffer.from([Q]));
      else child.kill('SIGKILL');
    };
    const hard = setTimeout(() => finish(`hard timeout (${hardTimeoutMs} ms) after ${samples.length} samples`), hardTimeoutMs);
    const sendNext = (): void => {
      if (sent === warmup + n) {
        finish();
        return;
      }
      let b = 0x61 + (sent % 26);
      if (b === Q) b++;
      expect = b;
      sent++;
      clearTimeout(keyTimer);
      keyTimer = setTimeout(() => finish(`no echo within ${PER_KEY_TIMEOUT_MS} ms (key ${sent})`), PER_KEY_TIMEOUT_MS);
      t0 = process.hrtime.bigint();
      child.stdin.write(Buffer.from([b]));
    };
    const startTimer = setTimeout(() => { if (!ready) finish(`no '>' within ${START_TIMEOUT_MS} ms`); }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      const t1 = process.hrtime.bigint();
      for (const byte of chunk) {
        if (done) return;
        if (!ready) {
          if (byte === GT) {
            ready = true;
            clearTimeout(startTimer);
            sendNext();
          }
          continue;
        }
        if (byte !== expect) {
          finish(`unexpected output byte 0x${byte.toString(16)} (expected 0x${expect.toString(16)})`);
          return;
        }
        if (sent > warmup) samples.push(Number(t1 - t0) / 1e3);
        expect = -1;
        sendNext();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', (e) => finish(`spawn failed: ${e.message}`));
    child.on('exit', (code) => {
      clearTimeout(startTimer);
      if (!done) finish(`CLI exited early (status ${String(code)}): ${stderr.trim().slice(0, 200)}`);
    });
  });
}

/** Measures figure 3 for both runners; `n` timed keystrokes each. */
export async function latencyFigures(n: number, warmup: number, hardTimeoutMs: number): Promise<{ rows: FigureRow[]; ok: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-bench-'));
  try {
    const elf = join(dir, 'echo.elf');
    writeFileSync(elf, guestElf(echoProgram()));
    const rows: FigureRow[] = [];
    const med: Record<string, number> = {};
    let ok = true;
    for (const threaded of [true, false]) {
      const r = await measureLatency(elf, threaded, n, warmup, hardTimeoutMs);
      const name = threaded ? 'threaded' : 'single';
      if (r.error !== undefined) {
        console.log(`  latency ${name}: ${r.error}`);
        ok = false;
      }
      const p50 = quantile(r.samplesUs, 0.5);
      const p95 = quantile(r.samplesUs, 0.95);
      med[name] = p50;
      console.log(`  latency ${name}: ${r.samplesUs.length} samples, median ${fmt(p50, 0)} us, p95 ${fmt(p95, 0)} us, `
        + `min ${fmt(Math.min(...r.samplesUs), 0)} us, max ${fmt(Math.max(...r.samplesUs), 0)} us`);
      rows.push({
        figure: `3. keystroke->echo, ${name}${threaded ? '' : ' (REPLAYVM_THREADS=0)'}`,
        value: `median ${fmt(p50, 0)} us, p95 ${fmt(p95, 0)} us (n=${r.samplesUs.length})`,
        ratio: threaded ? '' : `threaded/single median ${fmt((med['threaded'] ?? NaN) / p50, 3)}`,
      });
    }
    return { rows, ok };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
