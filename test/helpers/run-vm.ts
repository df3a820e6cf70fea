/**
 * Runs a VM (replayvm's CLI or the reference qemu-system-riscv32) on a bare-metal ELF as a child
 * process with a hard timeout, stdin closed, and collects its output. Shared by the bare-metal
 * tests, the QEMU differential test and the benchmark.
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

export interface RunResult {
  /** Exit status, or null when the process was killed by a signal. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** Wall time from spawn to exit, in milliseconds. */
  readonly wallMs: number;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly cwd?: string;
}

/** Spawns `cmd args`, stdin ignored; kills it with SIGKILL after `timeoutMs`. */
export function runProcess(cmd: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { cwd: options.cwd ?? REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        wallMs: performance.now() - start,
      });
    });
  });
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
