/**
 * Record/replay end to end through the CLI: `recordReplayCompare` records one run of a machine
 * (`replayvm record -o LOG -- OPTIONS`) while typing console lines at random host delays and
 * doing side actions (a TCP exchange through hostfwd...), then replays the log several times
 * (`replayvm replay LOG`) and checks that every replay is the recording again: the same exit
 * status, byte-identical console output (the whole stdout), the same final instruction count and
 * state hash (REPLAYVM_FINAL_STATE), and a "replay complete" report on stderr.
 *
 * Every child runs with a hard timeout and is killed (SIGKILL) when the caller fails or times
 * out; logs and outputs live in a temporary folder removed at the end (kept when
 * REPLAYVM_KEEP_RR=1, for debugging).
 */
import { freePort, indexAfter, seededRandom, sha256File } from './host-utils.js';
export { freePort, seededRandom, sha256File };
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, REPO_ROOT } from './run-vm.js';

/** A console line typed once the output shows `waitFor`. */
export interface ConsoleStep {
  /**
   * Waits until the console output after the previous step's match contains this (a string or
   * a RegExp; matched against the output with every '\r' removed).
   */
  readonly waitFor: RegExp | string;
  /** Typed into the console (all at once, or byte by byte with `charDelayMs`); may be ''. */
  readonly send?: string;
  /** A random host delay before typing, uniform in [min, max] ms. */
  readonly delayMs?: readonly [number, number];
  /** A random host delay between the bytes of `send`, uniform in [min, max] ms. */
  readonly charDelayMs?: readonly [number, number];
  /**
   * Runs (awaited) after the wait and the delay, before typing, in the recording only: e.g. a
   * TCP exchange with the guest through hostfwd.
   */
  readonly action?: (ctx: StepContext) => Promise<void>;
}

/** What a step's action can use. */
export interface StepContext {
  /** Console output of the recording so far ('\r' removed). */
  output(): string;
  /** Waits until the recording's output (from the current mark on) contains `what`. */
  waitFor(what: RegExp | string, timeoutMs?: number): Promise<void>;
  /** The seeded random generator of this comparison (uniform in [0, 1)). */
  random(): number;
}

export interface RecordReplayOptions {
  /** For messages and the temporary folder's name. */
  readonly name: string;
  /** Machine options (as after `replayvm record -o LOG --`); use absolute paths. */
  readonly machine: readonly string[];
  readonly steps?: readonly ConsoleStep[];
  /** Replays after the recording (default 5). */
  readonly replays?: number;
  /** Hard timeout of each run, recording or replay (default 120 s). */
  readonly runTimeoutMs?: number;
  /** Timeout of each step's wait (default 90 s). */
  readonly stepTimeoutMs?: number;
  /** The recording's expected exit status (default 0); replays must exit with the recording's. */
  readonly expectStatus?: number;
  /**
   * stdin of the replays: 'pipe' keeps it open and types the steps' `send` text again when
   * their `waitFor` shows up (the replay must ignore it: console output still byte-identical);
   * 'null' gives /dev/null (end of file at once, as in scripts); 'alternate' (default) does
   * 'pipe' for odd-numbered replays (1, 3, 5...) and 'null' for the others.
   */
  readonly replayStdin?: 'pipe' | 'null' | 'alternate';
  /** Seed of the random delays (default: REPLAYVM_RR_SEED or random); printed in messages. */
  readonly seed?: number;
  /**
   * How the recording and the replays are started: 'subcommand' (default) is
   * `replayvm record -o LOG -- OPTIONS` / `replayvm replay LOG`; 'qemu' is QEMU's
   * `OPTIONS -icount shift=4,rr=record|replay,rrfile=LOG` (rr= added to the options' -icount).
   */
  readonly recordSyntax?: 'subcommand' | 'qemu';
  /**
   * Runs alongside each replay whose stdin is open (e.g. a host connection to a hostfwd port
   * that must not disturb the replay); its errors are ignored, what it returns is kept in
   * `RunInfo.sideNote`.
   */
  readonly duringReplay?: (ctx: StepContext) => Promise<string>;
  readonly replaySyntax?: 'subcommand' | 'qemu';
  /**
   * Assert everything and throw one AssertionError listing every problem (default true). With
   * false, the caller checks `result.problems` (grouped by aspect) itself.
   */
  readonly assert?: boolean;
  /** Called with the log's path after the replays, before the log is removed. */
  readonly inspectLog?: (path: string) => void;
}

/** The state REPLAYVM_FINAL_STATE writes at exit. */
export interface FinalState {
  readonly totalSteps: number;
  readonly stateHash: string;
}

/** One run (the recording or a replay). */
export interface RunInfo {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly wallMs: number;
  readonly timedOut: boolean;
  /** undefined when the run did not write it. */
  readonly finalState: FinalState | undefined;
  /** What `duringReplay` returned (or its error). */
  readonly sideNote?: string;
}

/**
 * What can go wrong, by aspect (so tests can check each aspect on its own). `status` and
 * `report` are for replays with an open stdin, `status-eof` and `report-eof` for replays whose
 * stdin is /dev/null.
 */
export type RrAspect = 'record' | 'status' | 'status-eof' | 'stdout' | 'final-count' | 'final-hash' | 'report' | 'report-eof';
export const RR_ASPECTS: readonly RrAspect[] = ['record', 'status', 'status-eof', 'stdout', 'final-count', 'final-hash', 'report', 'report-eof'];

export interface RecordReplayResult {
  readonly name: string;
  readonly seed: number;
  readonly log: { readonly path: string; readonly size: number };
  readonly record: RunInfo;
  readonly replays: readonly (RunInfo & { readonly stdin: 'pipe' | 'null' })[];
  /** Problems found, by aspect (empty arrays when all is well). */
  readonly problems: Readonly<Record<RrAspect, readonly string[]>>;
  /** One line: sizes and durations, for test messages. */
  readonly summary: string;
}

const DEFAULT_RUN_TIMEOUT_MS = 120_000;
const DEFAULT_STEP_TIMEOUT_MS = 90_000;

/** The seed to use: REPLAYVM_RR_SEED when set, else a random one. */
export function pickSeed(): number {
  const env = process.env['REPLAYVM_RR_SEED'];
  if (env !== undefined && env !== '' && Number.isFinite(Number(env))) return Number(env) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function uniform(random: () => number, range: readonly [number, number] | undefined): number {
  if (range === undefined) return 0;
  return Math.round(range[0] + random() * (range[1] - range[0]));
}



/**
 * Connects to 127.0.0.1:`port` (retrying while the connection is refused), sends `line` and
 * resolves with everything received until the peer closes.
 */
export async function tcpExchange(port: number, line: string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        let got = '';
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`tcp ${port}: no end of the exchange after ${timeoutMs} ms (got ${JSON.stringify(got)})`));
        }, Math.max(1, deadline - Date.now()));
        s.on('connect', () => s.write(line));
        s.on('data', (d: Buffer) => {
          got += d.toString('latin1');
        });
        s.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        s.on('close', () => {
          clearTimeout(timer);
          resolve(got);
        });
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ECONNREFUSED' || code === 'ECONNRESET') && Date.now() < deadline) {
        await sleep(200);
        continue;
      }
      throw e;
    }
  }
}

/** One replayvm child with its output collected; always killable. */
export class VmProcess {
  readonly stdoutChunks: Buffer[] = [];
  stderr = '';
  /** stdout decoded as latin1 with '\r' removed (for waiting on text). */
  text = '';
  exited: { status: number | null; signal: NodeJS.Signals | null } | undefined;
  timedOut = false;
  readonly started = performance.now();
  wallMs = 0;
  private readonly child: ChildProcess;
  private waiters: Array<() => void> = [];
  private readonly done: Promise<void>;
  private readonly timer: ReturnType<typeof setTimeout>;
  /** Where the next `waitFor` starts searching `text`. */
  mark = 0;

  constructor(readonly args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number, stdin: 'pipe' | 'null' = 'pipe') {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: build with \`npx tsc -p .\` first`);
    this.child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: REPO_ROOT, env, stdio: [stdin === 'pipe' ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => {}); // the process may exit before reading everything
    this.child.stdout?.on('data', (b: Buffer) => {
      this.stdoutChunks.push(b);
      this.text += b.toString('latin1').replace(/\r/g, '');
      this.wake();
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
      this.wake();
    });
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    this.done = new Promise((resolve) => {
      this.child.on('close', (status, signal) => {
        clearTimeout(this.timer);
        this.wallMs = performance.now() - this.started;
        this.exited = { status, signal };
        this.wake();
        resolve();
      });
      this.child.on('error', (e) => {
        this.stderr += `spawn error: ${e.message}\n`;
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stdout(): Buffer {
    return Buffer.concat(this.stdoutChunks);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves at the next output, exit, or after `ms`. */
  private next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /**
   * Waits for `what` after `cursor.mark` (default: this process's own `mark`) and moves the mark
   * past it. Rejects on timeout or exit, with the output's tail in the message.
   */
  async waitFor(what: RegExp | string, timeoutMs: number, cursor: { mark: number } = this): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = indexAfter(this.text, what, cursor.mark);
      if (end !== undefined) {
        cursor.mark = end;
        return;
      }
      if (this.exited !== undefined) throw new Error(`the VM exited while waiting for ${String(what)}\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout (${timeoutMs} ms) waiting for ${String(what)}\n${this.describe()}`);
      await this.next(left);
    }
  }

  /** Waits until stderr contains `what` (or the process exits); true if it showed up. */
  async waitForStderr(what: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes(what)) {
      if (this.exited !== undefined || Date.now() >= deadline) return false;
      await this.next(deadline - Date.now());
    }
    return true;
  }

  write(text: string): void {
    if (this.exited === undefined) this.child.stdin?.write(text, 'latin1');
  }

  /** Types `text` byte by byte with random gaps. */
  async type(text: string, gap: () => number): Promise<void> {
    for (const ch of text) {
      this.write(ch);
      const ms = gap();
      if (ms > 0) await sleep(ms);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exited === undefined) this.child.kill(signal);
  }

  /** Resolves once the process has exited (the hard timeout kills it). */
  async exit(): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
    await this.done;
    return this.exited ?? { status: null, signal: null };
  }

  describe(): string {
    const tail = (s: string): string => (s.length > 1500 ? `...${s.slice(-1500)}` : s);
    const st = this.exited === undefined ? 'running' : `exited status=${String(this.exited.status)} signal=${String(this.exited.signal)}${this.timedOut ? ' (hard timeout)' : ''}`;
    return `replayvm ${this.args.join(' ')} (${st})\n--- console (tail) ---\n${tail(this.text)}\n--- stderr ---\n${tail(this.stderr)}`;
  }
}

/** Children still running, killed by `killAll` (and at process exit). */
const live = new Set<VmProcess>();
process.on('exit', () => {
  for (const p of live) p.kill();
});

/**
 * Starts `replayvm ARGS` with REPLAYVM_FINAL_STATE=`finalStatePath` (when given); stdin a pipe
 * (kept open until the process exits) or /dev/null.
 */
export function startVm(args: readonly string[], timeoutMs: number, finalStatePath?: string, stdin: 'pipe' | 'null' = 'pipe'): VmProcess {
  const env = { ...process.env };
  delete env['REPLAYVM_FINAL_STATE'];
  if (finalStatePath !== undefined) env['REPLAYVM_FINAL_STATE'] = finalStatePath;
  const p = new VmProcess(args, env, timeoutMs, stdin);
  live.add(p);
  void p.exit().then(() => live.delete(p));
  return p;
}

export function killAll(): void {
  for (const p of live) p.kill();
}

export function readFinalState(path: string): FinalState | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<FinalState>;
    if (typeof v.totalSteps !== 'number' || typeof v.stateHash !== 'string') return undefined;
    return { totalSteps: v.totalSteps, stateHash: v.stateHash };
  } catch {
    return undefined;
  }
}

/** A temporary folder for one comparison (removed by the returned function). */
export function makeTempDir(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `replayvm-rr-${name.replace(/[^\w.-]+/g, '_').slice(0, 40)}-`));
  return {
    dir,
    remove: () => {
      if (process.env['REPLAYVM_KEEP_RR'] === '1') return;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Where two byte strings first differ, with context, for messages. */
export function describeDifference(a: Buffer, b: Buffer, aName: string, bName: string): string {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  const ctx = (x: Buffer): string => JSON.stringify(x.subarray(Math.max(0, i - 120), i + 120).toString('latin1'));
  return `${aName} (${a.length} bytes) and ${bName} (${b.length} bytes) differ from byte ${i}:\n` +
    `  ${aName}: ${ctx(a)}\n  ${bName}: ${ctx(b)}`;
}

/** What a finished run gives (its final state read from `finalStatePath`). */
export function runInfo(p: VmProcess, finalStatePath: string): RunInfo {
  return {
    status: p.exited?.status ?? null,
    signal: p.exited?.signal ?? null,
    stdout: p.stdout,
    stderr: p.stderr,
    wallMs: p.wallMs,
    timedOut: p.timedOut,
    finalState: readFinalState(finalStatePath),
  };
}

/** QEMU's record/replay options: `rr=MODE,rrfile=LOG` added to `machine`'s -icount (or `-icount shift=4,...`). */
export function withRr(machine: readonly string[], mode: 'record' | 'replay', log: string): string[] {
  const out = [...machine];
  const rr = `rr=${mode},rrfile=${log.replace(/,/g, ',,')}`;
  const i = out.findIndex((w) => w === '-icount' || w === '--icount');
  if (i >= 0 && i + 1 < out.length) out[i + 1] = `${out[i + 1]},${rr}`;
  else out.push('-icount', `shift=4,${rr}`);
  return out;
}

/** Runs the steps against the recording `p` (waits, delays, actions, typing). */
async function driveSteps(p: VmProcess, steps: readonly ConsoleStep[], random: () => number, stepTimeoutMs: number): Promise<void> {
  const ctx: StepContext = {
    output: () => p.text,
    waitFor: (what, timeoutMs = stepTimeoutMs) => p.waitFor(what, timeoutMs),
    random,
  };
  for (const step of steps) {
    await p.waitFor(step.waitFor, stepTimeoutMs);
    const delay = uniform(random, step.delayMs);
    if (delay > 0) await sleep(delay);
    if (step.action !== undefined) await step.action(ctx);
    if (step.send !== undefined && step.send !== '') {
      if (step.charDelayMs !== undefined) await p.type(step.send, () => uniform(random, step.charDelayMs));
      else p.write(step.send);
    }
  }
}

/** Types the steps' text into a replay as its output shows their waits; never fails. */
async function typeIntoReplay(p: VmProcess, steps: readonly ConsoleStep[], random: () => number, stepTimeoutMs: number): Promise<void> {
  try {
    for (const step of steps) {
      await p.waitFor(step.waitFor, stepTimeoutMs);
      const delay = uniform(random, step.delayMs);
      if (delay > 0) await sleep(delay);
      if (step.send !== undefined && step.send !== '') p.write(step.send);
    }
  } catch {
    // The replay ended or went elsewhere: the comparison reports that.
  }
}

function fmtMs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Records `opts.machine` with `opts.steps`, replays the log `opts.replays` times and compares
 * (see the file comment). Throws an AssertionError listing every problem (unless
 * `assert: false`); returns the log's path and size and the runs (the log itself is deleted
 * with the temporary folder when this returns, so `log.path` is for messages only).
 */
export async function recordReplayCompare(opts: RecordReplayOptions): Promise<RecordReplayResult> {
  const seed = opts.seed ?? pickSeed();
  const random = seededRandom(seed);
  const runTimeoutMs = opts.runTimeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
  const stepTimeoutMs = opts.stepTimeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const steps = opts.steps ?? [];
  const tmp = makeTempDir(opts.name);
  const logPath = join(tmp.dir, 'run.rrlog');
  const problems = Object.fromEntries(RR_ASPECTS.map((a) => [a, [] as string[]])) as Record<RrAspect, string[]>;
  const mine: VmProcess[] = [];
  try {
    // --- the recording ---
    const recState = join(tmp.dir, 'record.state.json');
    const recordArgs = opts.recordSyntax === 'qemu' ? withRr(opts.machine, 'record', logPath) : ['record', '-o', logPath, '--', ...opts.machine];
    const replayArgs = opts.replaySyntax === 'qemu' ? withRr(opts.machine, 'replay', logPath) : ['replay', logPath];
    const rec = startVm(recordArgs, runTimeoutMs, recState);
    mine.push(rec);
    try {
      await driveSteps(rec, steps, random, stepTimeoutMs);
    } catch (e) {
      rec.kill();
      await rec.exit();
      throw new Error(`[${opts.name}, seed ${seed}] the recording failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    await rec.exit();
    const record = runInfo(rec, recState);
    const expectStatus = opts.expectStatus ?? 0;
    if (record.status !== expectStatus || record.timedOut) {
      problems.record.push(`the recording exited with status ${String(record.status)} (signal ${String(record.signal)}${record.timedOut ? ', hard timeout' : ''}), expected ${expectStatus}\n${rec.describe()}`);
    }
    if (!/replayvm: recorded \d+ instructions to /.test(record.stderr)) problems.record.push(`the recording's stderr lacks "recorded N instructions"\n${rec.describe()}`);
    if (!existsSync(logPath)) {
      problems.record.push(`no log was written at ${logPath}`);
      throw new Error(`[${opts.name}, seed ${seed}] ${problems.record.join('\n')}`);
    }
    if (record.finalState === undefined) problems.record.push('the recording wrote no REPLAYVM_FINAL_STATE');
    const recordedCount = /replayvm: recorded (\d+) instructions/.exec(record.stderr)?.[1];
    if (recordedCount !== undefined && record.finalState !== undefined && Number(recordedCount) !== record.finalState.totalSteps) {
      problems.record.push(`the recording says ${recordedCount} instructions, its final state ${record.finalState.totalSteps}`);
    }
    const logSize = statSync(logPath).size;

    // --- the replays ---
    const replays: (RunInfo & { stdin: 'pipe' | 'null' })[] = [];
    const n = opts.replays ?? 5;
    const mode = opts.replayStdin ?? 'alternate';
    for (let i = 0; i < n; i++) {
      const stdin = mode === 'alternate' ? (i % 2 === 0 ? 'pipe' : 'null') : mode;
      const state = join(tmp.dir, `replay${i}.state.json`);
      const rep = startVm(replayArgs, runTimeoutMs, state, stdin);
      mine.push(rep);
      if (stdin === 'pipe') void typeIntoReplay(rep, steps, seededRandom(seed + i + 1), stepTimeoutMs);
      let sideNote: string | undefined;
      const sideCursor = { mark: 0 };
      const side = stdin === 'pipe' && opts.duringReplay !== undefined
        ? opts.duringReplay({ output: () => rep.text, waitFor: (what, ms = stepTimeoutMs) => rep.waitFor(what, ms, sideCursor), random })
          .then((note) => { sideNote = note; }, (e: unknown) => { sideNote = `error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`; })
        : undefined;
      await rep.exit();
      if (side !== undefined) await Promise.race([side, sleep(5000)]);
      const r = { ...runInfo(rep, state), stdin, ...(sideNote !== undefined ? { sideNote } : {}) };
      replays.push(r);
      const who = `replay ${i + 1}/${n} (stdin ${stdin === 'pipe' ? 'open, typed into' : '/dev/null'})`;
      const statusAspect: RrAspect = stdin === 'pipe' ? 'status' : 'status-eof';
      const reportAspect: RrAspect = stdin === 'pipe' ? 'report' : 'report-eof';
      if (r.timedOut) problems[statusAspect].push(`${who} hit the hard timeout (${runTimeoutMs} ms)\n${rep.describe()}`);
      else if (r.status !== record.status || r.signal !== null) {
        problems[statusAspect].push(`${who} exited with status ${String(r.status)} signal ${String(r.signal)}, the recording with ${String(record.status)}\n${rep.describe()}`);
      }
      if (!r.stdout.equals(record.stdout)) problems.stdout.push(`${who}: ${describeDifference(record.stdout, r.stdout, 'recording', 'replay')}\n--- replay stderr ---\n${r.stderr}`);
      const rf = r.finalState;
      const cf = record.finalState;
      if (rf === undefined) problems['final-count'].push(`${who} wrote no REPLAYVM_FINAL_STATE`);
      else if (cf !== undefined) {
        if (rf.totalSteps !== cf.totalSteps) problems['final-count'].push(`${who} ended at instruction ${rf.totalSteps}, the recording at ${cf.totalSteps}`);
        if (rf.stateHash !== cf.stateHash) problems['final-hash'].push(`${who} ended with state hash ${rf.stateHash}, the recording with ${cf.stateHash} (instructions ${rf.totalSteps} / ${cf.totalSteps})`);
      }
      if (!r.stderr.includes('replay complete')) {
        problems[reportAspect].push(`${who}: stderr lacks "replay complete" (exit status ${String(r.status)}): ${JSON.stringify(r.stderr.slice(-600))}`);
      } else {
        const m = /replay complete: \d+ events, (\d+) instructions \(recorded end at instruction (\d+)\)/.exec(r.stderr);
        if (m === null) problems[reportAspect].push(`${who}: unexpected completion report ${JSON.stringify(r.stderr.slice(-400))}`);
        else if (m[1] !== m[2] || (cf !== undefined && Number(m[1]) !== cf.totalSteps)) {
          problems[reportAspect].push(`${who}: the report says ${m[1]} instructions, recorded end at ${m[2]}, the recording's final count is ${String(cf?.totalSteps)}`);
        }
      }
      if (/internal error/.test(r.stderr)) problems[reportAspect].push(`${who}: internal error on stderr: ${r.stderr.slice(-1000)}`);
      // Every disk's writes equal the overlay the recording kept beside its log.
      if (/disk writes of virtio\d+ differ/.test(r.stderr)) problems[reportAspect].push(`${who}: ${/replay diverged: disk writes.*/.exec(r.stderr)?.[0] ?? 'disk writes differ'}`);
      const disks = opts.machine.filter((a) => /^file=/.test(a) || /(^|,)if=virtio/.test(a)).length;
      const identical = (r.stderr.match(/disk writes of virtio\d+ identical to the recording's/g) ?? []).length;
      if (r.stderr.includes('replay complete') && disks > 0 && identical === 0) {
        problems[reportAspect].push(`${who}: no disk-writes check on stderr for a machine with a disk: ${JSON.stringify(r.stderr.slice(-400))}`);
      }
    }

    const summary = `[${opts.name}] seed ${seed}; log ${logSize} bytes; ` +
      `recording ${fmtMs(record.wallMs)} to instruction ${String(record.finalState?.totalSteps)} (status ${String(record.status)}); ` +
      `replays ${replays.map((r) => `${fmtMs(r.wallMs)}${r.stdin === 'null' ? ' (stdin /dev/null)' : ''}${r.sideNote !== undefined ? ` [${r.sideNote}]` : ''}`).join(', ')}; stdout ${record.stdout.length} bytes`;
    opts.inspectLog?.(logPath);
    const result: RecordReplayResult = { name: opts.name, seed, log: { path: logPath, size: logSize }, record, replays, problems, summary };
    if (opts.assert !== false) assertNoProblems(result);
    return result;
  } finally {
    for (const p of mine) p.kill();
    await Promise.all(mine.map((p) => p.exit()));
    tmp.remove();
  }
}

/** Throws an AssertionError listing the problems of `aspects` (default: all). */
export function assertNoProblems(result: RecordReplayResult, aspects?: readonly RrAspect[]): void {
  const keys = aspects ?? RR_ASPECTS;
  const lines = keys.flatMap((k) => result.problems[k].map((p) => `(${k}) ${p}`));
  if (lines.length === 0) return;
  const err = new Error(`${result.summary}\n${lines.length} problem(s):\n${lines.join('\n')}`);
  err.name = 'AssertionError';
  throw err;
}

// ---------------------------------------------------------------------------------------------
// The Linux guest (guest/linux/build/Image.gz, whose /init is guest/linux/userland/init.c).

export const LINUX_IMAGE = join(REPO_ROOT, 'guest', 'linux', 'build', 'Image.gz');
export const BAREMETAL_ELF = (name: string): string => join(REPO_ROOT, 'guest', 'baremetal', 'build', `${name}.elf`);
/** The shell's first prompt, after init's banner. */
export const FIRST_PROMPT = /replayvm Linux guest \(Linux [^\n]*\ntype 'help' for commands\n# /;
/** The prompt after a command's output. */
export const NEXT_PROMPT = '\n# ';

/**
 * A private copy of the kernel image in `dir` (the build may be replaced while the tests run;
 * a recording and its replays must see the same file).
 */
export function copyKernel(dir: string): string {
  const path = join(dir, 'Image.gz');
  copyFileSync(LINUX_IMAGE, path);
  return path;
}

/** `-M virt -nographic -bios default -kernel KERNEL EXTRA...`. */
export function linuxMachine(kernel: string, extra: readonly string[] = []): string[] {
  return ['-M', 'virt', '-nographic', '-bios', 'default', '-kernel', kernel, ...extra];
}

export interface ShellCommand {
  readonly line: string;
  /** What ends the command's output (default: the next prompt). */
  readonly until?: RegExp | string;
  readonly action?: (ctx: StepContext) => Promise<void>;
}

/**
 * Steps that wait for the first prompt, then type each command (byte by byte at random gaps of
 * `charDelayMs`, after a random `delayMs`) once the previous one's prompt is back; the last
 * command is usually `poweroff`.
 */
export function shellSteps(commands: ReadonlyArray<string | ShellCommand>, timing: { delayMs?: readonly [number, number]; charDelayMs?: readonly [number, number] } = {}): ConsoleStep[] {
  const out: ConsoleStep[] = [];
  let waitFor: RegExp | string = FIRST_PROMPT;
  for (const c of commands) {
    const cmd: ShellCommand = typeof c === 'string' ? { line: c } : c;
    out.push({
      waitFor,
      send: `${cmd.line}\n`,
      ...(timing.delayMs !== undefined ? { delayMs: timing.delayMs } : {}),
      ...(timing.charDelayMs !== undefined ? { charDelayMs: timing.charDelayMs } : {}),
    });
    if (cmd.action !== undefined) out.push({ waitFor: cmd.until ?? NEXT_PROMPT, action: cmd.action });
    waitFor = cmd.action !== undefined ? NEXT_PROMPT : (cmd.until ?? NEXT_PROMPT);
  }
  return out;
}

/** Writes a zero-filled image of `bytes` at `path`. */
export function zeroImage(path: string, bytes: number): string {
  writeFileSync(path, Buffer.alloc(bytes));
  return path;
}

// ---------------------------------------------------------------------------------------------
// Checking a comparison aspect by aspect, as node:test subtests.

/**
 * replayvm bugs known when these tests were written (see the test report); the aspects they
 * break are checked as `todo` subtests. Empty a list entry's text once the bug is fixed.
 */
export const KNOWN_BUGS: Partial<Record<RrAspect, string>> = {};

const ASPECT_TITLES: Record<RrAspect, string> = {
  'record': 'the recording ran as expected and wrote its log and final state',
  'stdout': 'every replay prints the recorded console output byte for byte',
  'final-count': 'every replay ends at the recorded instruction count',
  'final-hash': 'every replay ends with the recorded state hash',
  'status': 'replays with stdin open exit with the recording\'s status',
  'report': 'replays with stdin open report "replay complete" at the recorded end',
  'status-eof': 'replays with stdin at EOF (/dev/null) exit with the recording\'s status',
  'report-eof': 'replays with stdin at EOF (/dev/null) report "replay complete" at the recorded end',
};

/** Minimal view of node:test's TestContext (what checkAspects uses). */
interface SubtestContext {
  diagnostic(message: string): void;
  test(name: string, options: { todo?: string }, fn: () => void): Promise<void>;
}

/**
 * One subtest per aspect of `result` (the known bugs' aspects as todo), so a failure names what
 * broke and the other aspects still count. Aspects without any replay of their kind are skipped.
 */
export async function checkAspects(t: SubtestContext, result: RecordReplayResult): Promise<void> {
  t.diagnostic(result.summary);
  const hasPipe = result.replays.some((r) => r.stdin === 'pipe');
  const hasNull = result.replays.some((r) => r.stdin === 'null');
  for (const aspect of RR_ASPECTS) {
    if ((aspect === 'status' || aspect === 'report') && !hasPipe) continue;
    if ((aspect === 'status-eof' || aspect === 'report-eof') && !hasNull) continue;
    const todo = KNOWN_BUGS[aspect];
    await t.test(ASPECT_TITLES[aspect], todo !== undefined && todo !== '' ? { todo } : {}, () => assertNoProblems(result, [aspect]));
  }
}
