/**
 * Drives the bundled Linux guest (guest/linux/build/Image.gz, whose /init is the shell in
 * guest/linux/userland/init.c) through the real CLI with pipes: boot, wait for the shell's
 * prompt, run commands, power off. Every wait has a timeout whose error carries the tail of
 * the console output; `withLinuxVm` always kills the child.
 */
import { freePort, indexAfter, sha256File } from './host-utils.js';
export { freePort, sha256File };
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, REPO_ROOT } from './run-vm.js';

export const LINUX_IMAGE = join(REPO_ROOT, 'guest', 'linux', 'build', 'Image.gz');
export const SBI_FIRMWARE = join(REPO_ROOT, 'guest', 'firmware', 'build', 'replayvm-sbi.bin');
/** init.c's BANNER and PROMPT. */
export const SHELL_BANNER = 'replayvm Linux guest';
export const SHELL_PROMPT = '# ';

/** Generous: the VM is an interpreter and the machine may be loaded by other jobs. */
export const BOOT_TIMEOUT_MS = 180_000;
export const COMMAND_TIMEOUT_MS = 90_000;
/** For node:test's per-test `timeout`: a few boots' worth. */
export const TEST_TIMEOUT_MS = 600_000;

export interface LinuxVmOptions {
  /** `-bios` value; default `default` (the built-in SBI). */
  readonly bios?: string;
  /** A label for messages when several VMs run at once. */
  readonly name?: string;
}

export interface ExitResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The timeout fired and the process was killed with SIGKILL. */
  readonly timedOut: boolean;
}

/** `node dist/src/cli/main.js -M virt -nographic -bios B -kernel Image.gz ARGS`. */
export function linuxArgs(extraArgs: readonly string[], bios = 'default'): string[] {
  return ['-M', 'virt', '-nographic', '-bios', bios, '-kernel', LINUX_IMAGE, ...extraArgs];
}

/** One running replayvm process booting the Linux guest. */
export class LinuxVm {
  /** Console output so far, decoded as latin1, with every '\r' removed. */
  text = '';
  stderr = '';
  exited: ExitResult | null = null;
  readonly args: readonly string[];
  private readonly child: ChildProcess;
  private readonly name: string;
  private waiters: Array<() => void> = [];
  private readonly exitPromise: Promise<ExitResult>;
  private killedByTimeout = false;
  /** Where the text not yet consumed by prompt()/run() starts. */
  private mark = 0;
  private lastLine = '';

  constructor(extraArgs: readonly string[], options: LinuxVmOptions = {}) {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: build with \`npx tsc -p .\` first`);
    this.args = linuxArgs(extraArgs, options.bios);
    this.name = options.name ?? 'vm';
    this.child = spawn(process.execPath, [CLI_PATH, ...this.args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdin?.on('error', () => {}); // the process may exit before reading everything
    this.child.stdout?.on('data', (b: Buffer) => {
      this.text += b.toString('latin1').replace(/\r/g, '');
      this.wake();
    });
    this.child.stderr?.on('data', (b: Buffer) => {
      this.stderr += b.toString('utf8');
    });
    this.exitPromise = new Promise((resolve) => {
      this.child.on('close', (status, signal) => {
        this.exited = { status, signal, timedOut: this.killedByTimeout };
        this.wake();
        resolve(this.exited);
      });
      this.child.on('error', (e) => {
        this.stderr += `spawn error: ${e.message}\n`;
      });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The command line and the last 2000 characters of output and stderr, for messages. */
  describe(): string {
    const tail = (s: string): string => (s.length > 2000 ? `...${s.slice(-2000)}` : s);
    const status = this.exited === null ? 'running' : `exited status=${String(this.exited.status)} signal=${String(this.exited.signal)}`;
    return `[${this.name}] replayvm ${this.args.join(' ')} (${status})\n--- console (tail) ---\n${tail(this.text)}\n--- stderr ---\n${tail(this.stderr)}`;
  }

  /**
   * Waits until `find(text)` returns a value other than undefined; rejects on timeout or when
   * the process exits first, with the output tail in the message.
   */
  async until<T>(find: (text: string) => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find(this.text);
      if (found !== undefined) return found;
      if (this.exited !== null) throw new Error(`the VM exited while waiting for ${what}\n${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout (${timeoutMs} ms) waiting for ${what}\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until the output from the unconsumed mark on contains `needle`; returns the index just after it. */
  waitFor(needle: string | RegExp, timeoutMs = COMMAND_TIMEOUT_MS): Promise<number> {
    const from = this.mark;
    return this.until((t) => indexAfter(t, needle, from), JSON.stringify(String(needle)), timeoutMs);
  }

  /**
   * Waits for the shell's first prompt after a banner printed since the last prompt() or
   * command (so after a `reboot` it waits for the new boot); returns the boot log.
   */
  async prompt(timeoutMs = BOOT_TIMEOUT_MS): Promise<string> {
    const from = this.mark;
    const end = await this.until((t) => {
      const b = t.indexOf(SHELL_BANNER, from);
      if (b < 0) return undefined;
      const p = t.indexOf(`\n${SHELL_PROMPT}`, b);
      return p < 0 ? undefined : p + 1 + SHELL_PROMPT.length;
    }, 'the shell prompt', timeoutMs);
    const log = this.text.slice(from, end);
    this.mark = end;
    return log;
  }

  /** Writes raw bytes to the console (no Ctrl-A, byte 0x01: it is the escape key). */
  send(text: string): void {
    if (text.includes('\x01')) throw new Error('send: 0x01 is the console escape key');
    this.child.stdin?.write(text);
  }

  /** Sends the console's escape key Ctrl-A, then `key` (e.g. 'x' quits, as in QEMU). */
  sendEscape(key: string): void {
    this.child.stdin?.write(`\x01${key}`);
  }

  /** Sends `line` and a newline (then `nextPrompt`, or `waitFor` for a command that waits for something). */
  sendLine(line: string): void {
    this.mark = this.text.length;
    this.lastLine = line;
    this.send(`${line}\n`);
  }

  /**
   * Waits for the prompt that follows the command sent last by `sendLine`; returns the output
   * between the tty's echo of the command and that prompt (no '\r'), without the kernel's
   * console messages that may land in between (`[   12.345678] ...` lines).
   */
  async nextPrompt(timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
    const from = this.mark;
    const echo = `${this.lastLine}\n`;
    const [start, end] = await this.until((t) => {
      // The tty echoes the command line before anything the command prints.
      const e = t.indexOf(echo, from);
      const echoEnd = e >= 0 ? e + echo.length - 1 : t.indexOf('\n', from);
      if (echoEnd < 0) return undefined;
      const p = t.indexOf(`\n${SHELL_PROMPT}`, echoEnd);
      return p < 0 ? undefined : [echoEnd + 1, p + 1] as const;
    }, `the prompt after ${JSON.stringify(this.text.slice(from, from + 60))}`, timeoutMs);
    this.mark = end + SHELL_PROMPT.length;
    return stripKernelMessages(this.text.slice(start, end));
  }

  /** Runs one shell command: sends it once the previous prompt is there, returns its output. */
  async run(command: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<string> {
    this.sendLine(command);
    return this.nextPrompt(timeoutMs);
  }

  /** Resolves with the exit status; kills the process with SIGKILL after `timeoutMs`. */
  async exit(timeoutMs = COMMAND_TIMEOUT_MS): Promise<ExitResult> {
    if (this.exited !== null) return this.exited;
    const timer = setTimeout(() => {
      this.killedByTimeout = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** `poweroff` in the guest; resolves with the exit status. */
  async poweroff(timeoutMs = COMMAND_TIMEOUT_MS): Promise<ExitResult> {
    this.sendLine('poweroff');
    return this.exit(timeoutMs);
  }

  /** Kills the process (SIGKILL) if it still runs and waits for it. */
  async kill(): Promise<void> {
    if (this.exited !== null) return;
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }
}

/** Boots the guest with `extraArgs`, runs `fn`, and always kills the process at the end. */
export async function withLinuxVm<T>(extraArgs: readonly string[], fn: (vm: LinuxVm) => Promise<T>,
  options: LinuxVmOptions = {}): Promise<T> {
  const vm = new LinuxVm(extraArgs, options);
  try {
    return await fn(vm);
  } finally {
    await vm.kill();
  }
}



/** Hex strings of `random N` output ("random N bytes:" then lines of hex). */
export function parseRandom(output: string): string {
  const m = /random (\d+) bytes:\n((?:[0-9a-f]+\n)+)/.exec(output);
  if (m === null) throw new Error(`no random bytes in ${JSON.stringify(output)}`);
  const hex = m[2]!.replace(/\n/g, '');
  if (hex.length !== Number(m[1]) * 2) throw new Error(`random: ${m[1]} bytes announced, got ${hex.length / 2}: ${output}`);
  return hex;
}

/** Removes whole lines printed by the kernel on the console (`[   12.345678] text`). */
export function stripKernelMessages(text: string): string {
  return text.replace(/^\[ *\d+\.\d{6}\] .*\n/gm, '');
}

/** Runs `cmd` and asserts its output matches every pattern (the console tail in the message). */
export async function expectOutput(vm: LinuxVm, cmd: string, ...patterns: RegExp[]): Promise<string> {
  const out = await vm.run(cmd);
  for (const p of patterns) assert.match(out, p, `\`${cmd}\` output\n${vm.describe()}`);
  return out;
}

/** `poweroff` in the guest and asserts the process exits with status 0. */
export async function powerOff(vm: LinuxVm): Promise<void> {
  const r = await vm.poweroff();
  assert.deepEqual(r, { status: 0, signal: null, timedOut: false }, vm.describe());
}
