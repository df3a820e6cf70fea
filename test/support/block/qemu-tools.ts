/**
 * qemu-img and qemu-io (from qemu-utils; a test that needs them fails when they are missing),
 * and temporary folders, for the block layer's tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a command printed and its exit status. */
export interface ToolRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Debian tool (qemu-img, qemu-io) in `cwd`; throws if it is not installed. */
export function tool(cmd: string, args: readonly string[], cwd?: string): ToolRun {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(cwd === undefined ? {} : { cwd }) });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message} (install qemu-utils)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs qemu-img and asserts it succeeded. */
export function qemuImg(...args: string[]): string {
  return execFileSync('qemu-img', args, { encoding: 'utf8', stdio: 'pipe' });
}

/** Runs qemu-io commands on a qcow2 image. */
export function qemuIo(path: string, ...commands: string[]): void {
  execFileSync('qemu-io', ['-f', 'qcow2', ...commands.flatMap((c) => ['-c', c]), path], { stdio: 'pipe' });
}

/** A temporary folder for `fn`, removed after it. */
export function withTempDir(prefix: string, fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

