/**
 * Runs child processes for the tests and the benchmark: replayvm's CLI (with scripted stdin) or
 * the reference qemu-system-riscv32, always with a hard timeout, collecting their output. Also
 * the repository paths (REPO_ROOT, the CLI entry, the bare-metal guests) for all of them.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file compiles to dist/test/helpers/run-vm.js). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BAREMETAL_BUILD = join(REPO_ROOT, 'guest', 'baremetal', 'build');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const QEMU = 'qemu-system-riscv32';

/** One piece of stdin, written after the previous one plus `delayMs`, or once stdout contains `afterOutput`. */
export interface InputStep {
  readonly delayMs?: number;
  readonly afterOutput?: string;
  readonly bytes?: Uint8Array | string;
  /** Ends stdin (EOF) at this step. */
  readonly end?: boolean;
  /** Sends this signal to the process at this step. */
  readonly signal?: NodeJS.Signals;
}

export interface RunResult {
  /** Exit status, or null when the process was killed by a signal. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout decoded with `RunOptions.encoding`. */
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
  /** The hard timeout fired and the process was killed. */
  readonly timedOut: boolean;
  /** Wall time from spawn to exit, in milliseconds. */
  readonly wallMs: number;
}

export interface RunOptions {
  readonly timeoutMs: number;
  /** Defaults to REPO_ROOT. */
  readonly cwd?: string;
  /**
   * Steps fed to stdin in order; stdin stays open unless a step ends it. Without `input`,
   * stdin is not connected at all.
   */
  readonly input?: readonly InputStep[];
  /** How stdout is decoded; defaults to utf8 (latin1 keeps every byte as one character). */
  readonly encoding?: BufferEncoding;
  /** Environment of the child; defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Spawns `cmd args` and collects its output; kills it with SIGKILL after `timeoutMs`, so a test
 * can never hang. The one spawn helper of the tests and the benchmark.
 */
export function runProcess(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const input = options.input;
    const child = spawn(cmd, args, { cwd: options.cwd ?? REPO_ROOT, env: options.env ?? process.env, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let exited = false;
    const waiters: Array<() => void> = [];
    const wakeWaiters = (): void => {
      for (const w of waiters.splice(0)) w();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    const { stdin, stdout, stderr } = child;
    if (stdout === null || stderr === null) throw new Error('unreachable: stdout and stderr are pipes');
    stdout.on('data', (b: Buffer) => {
      out.push(b);
      wakeWaiters();
    });
    stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      exited = true;
      clearTimeout(timer);
      wakeWaiters();
      const stdoutBytes = Buffer.concat(out);
      resolve({
        status,
        signal,
        stdout: stdoutBytes.toString(options.encoding ?? 'utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        wallMs: performance.now() - start,
      });
    });

    if (input === undefined || stdin === null) return;
    stdin.on('error', () => {}); // the process may exit before reading everything
    const stdoutText = (): string => Buffer.concat(out).toString('latin1');
    const feed = async (): Promise<void> => {
      for (const step of input) {
        if (step.delayMs !== undefined) await new Promise((r) => setTimeout(r, step.delayMs));
        const want = step.afterOutput;
        if (want !== undefined) {
          while (!exited && !stdoutText().includes(want)) await new Promise<void>((r) => waiters.push(r));
        }
        if (exited) return;
        if (step.bytes !== undefined) stdin.write(step.bytes);
        if (step.signal !== undefined) child.kill(step.signal);
        if (step.end === true) stdin.end();
      }
    };
    void feed();
  });
}

/**
 * Runs the compiled CLI (`node dist/src/cli/main.js ARGS`) in the repository root; `input` steps
 * are fed to stdin (by default it is closed at once), stdout is decoded as latin1.
 */
export function runCli(args: readonly string[], input: readonly InputStep[] = [{ end: true }], timeoutMs = 10_000): Promise<RunResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], { timeoutMs, input, encoding: 'latin1' });
}

/** Path of a built bare-metal program, e.g. elfPath('rv32i'). */
export function elfPath(name: string): string {
  return join(BAREMETAL_BUILD, `${name}.elf`);
}

/** Runs replayvm's CLI the way QEMU is run: `-M virt -nographic -bios none -kernel ELF`. */
export function runReplayvm(elf: string, timeoutMs: number, extraArgs: readonly string[] = []): Promise<RunResult> {
  if (!existsSync(CLI_PATH)) {
    return Promise.reject(new Error(`${CLI_PATH} is missing: build with \`npx tsc -p .\` first`));
  }
  return runProcess(process.execPath,
    [CLI_PATH, '-M', 'virt', '-nographic', '-bios', 'none', ...extraArgs, '-kernel', elf], { timeoutMs });
}

/** Runs the reference QEMU; `icount` adds `-icount shift=0`. */
export function runQemu(elf: string, timeoutMs: number, icount: boolean): Promise<RunResult> {
  const args = ['-M', 'virt', '-nographic', '-bios', 'none', ...(icount ? ['-icount', 'shift=0'] : []), '-kernel', elf];
  return runProcess(QEMU, args, { timeoutMs });
}

/** True when qemu-system-riscv32 can be started. */
export function qemuAvailable(): boolean {
  const r = spawnSync(QEMU, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/**
 * UART output with machine-specific lines removed: lines starting with `INFO*` (misa, vendor
 * ids, ... which differ between QEMU and replayvm by design), carriage returns dropped.
 */
export function comparableOutput(text: string): string[] {
  return text.replace(/\r/g, '').split('\n').filter((line) => line !== '' && !line.startsWith('INFO*'));
}

/** One-line summary of a run for assertion messages. */
export function describeRun(r: RunResult): string {
  const tail = (s: string): string => s.length > 2000 ? `...${s.slice(-2000)}` : s;
  return `status=${String(r.status)} signal=${String(r.signal)} timedOut=${String(r.timedOut)}\n` +
    `--- stdout ---\n${tail(r.stdout)}\n--- stderr ---\n${tail(r.stderr)}`;
}
