/**
 * Known data on guest disks, for the block tests: the pattern of the guest shell's `diskfill` /
 * `diskcheck` and the checksum of its `disksum` (guest/linux/userland/init.c), computed on the
 * host from the same formulas; small wrappers of those commands on a running `LinuxVm`; and
 * `qemu-img` / `qemu-io` runs (a test that needs them fails when they are missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expectOutput, type LinuxVm } from './linux.js';

export const SECTOR = 512;

/**
 * The pattern word of `seed` at word index `k` (byte offset 4k of the disk): MurmurHash3's
 * finalizer of k + seed * 0x9e3779b1, mod 2^32; as init.c's pattern_word.
 */
export function patternWord(seed: number, k: number): number {
  let x = (k + Math.imul(seed, 0x9e3779b1)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Writes the pattern of `seed` into `disk` over [firstSector, firstSector + count) sectors, as `diskfill` does. */
export function fillPattern(disk: Uint8Array, firstSector: number, count: number, seed: number): void {
  const view = new DataView(disk.buffer, disk.byteOffset, disk.byteLength);
  const start = firstSector * SECTOR;
  const end = (firstSector + count) * SECTOR;
  if (end > disk.length) throw new Error(`fillPattern: sectors ${firstSector}+${count} are beyond a ${disk.length}-byte disk`);
  for (let off = start; off < end; off += 4) view.setUint32(off, patternWord(seed, (off / 4) >>> 0), true);
}

/** `disksum`'s checksum: FNV-1a over the 32-bit little-endian words, as 8 hex digits. */
export function diskSum(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = 2166136261;
  for (let off = 0; off + 4 <= bytes.length; off += 4) h = Math.imul(h ^ view.getUint32(off, true), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}

/** `diskfill SECTOR COUNT SEED` in the guest; asserts it reports the write. */
export async function guestFill(vm: LinuxVm, sector: number, count: number, seed: number): Promise<void> {
  await expectOutput(vm, `diskfill ${sector} ${count} ${seed}`,
    new RegExp(`^diskfill: wrote ${count * SECTOR} bytes at sector ${sector} seed ${seed}$`, 'm'));
}

/** `disksum SECTOR COUNT` in the guest; returns the checksum. */
export async function guestSum(vm: LinuxVm, sector: number, count: number): Promise<string> {
  const out = await expectOutput(vm, `disksum ${sector} ${count}`,
    new RegExp(`^disksum: [0-9a-f]{8} over ${count * SECTOR} bytes at sector ${sector}$`, 'm'));
  return /disksum: ([0-9a-f]{8})/.exec(out)![1]!;
}

/**
 * The guest's virtio disks by size: `disk /dev/vdX` for every vdX in /sys/block; maps each
 * disk's size in bytes to its device (tests give their images distinct sizes to tell them
 * apart). Leaves the last one as the disk of the disk commands: `useDisk` picks another.
 */
export async function guestDisksBySize(vm: LinuxVm): Promise<Map<number, string>> {
  const names = (await vm.run('ls /sys/block')).split(/\s+/).filter((n) => /^vd[a-z]+$/.test(n));
  const bySize = new Map<number, string>();
  for (const name of names) {
    const out = await expectOutput(vm, `disk /dev/${name}`, new RegExp(`^disk: /dev/${name}, \\d+ sectors$`, 'm'));
    const bytes = Number(/, (\d+) sectors/.exec(out)![1]) * SECTOR;
    assert.ok(!bySize.has(bytes), `two guest disks of ${bytes} bytes: ${bySize.get(bytes)} and /dev/${name}`);
    bySize.set(bytes, `/dev/${name}`);
  }
  return bySize;
}

/** `disk DEV` in the guest: the disk commands work on DEV from now on. */
export async function useDisk(vm: LinuxVm, dev: string): Promise<void> {
  await expectOutput(vm, `disk ${dev}`, new RegExp(`^disk: ${dev}, \\d+ sectors$`, 'm'));
}

/**
 * Asserts that the guest's disk reads as `expected`, one `disksum` per `chunk` bytes (so a
 * failure names the MiB that differs).
 */
export async function assertGuestReads(vm: LinuxVm, expected: Uint8Array, what: string, chunk = 1 << 20): Promise<void> {
  const bad: string[] = [];
  for (let off = 0; off < expected.length; off += chunk) {
    const len = Math.min(chunk, expected.length - off);
    const got = await guestSum(vm, off / SECTOR, len / SECTOR);
    const want = diskSum(expected.subarray(off, off + len));
    if (got !== want) bad.push(`bytes ${off}..${off + len - 1}: guest ${got}, expected ${want}`);
  }
  assert.deepEqual(bad, [], `${what}: the guest reads other bytes than expected`);
}

export interface ToolResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a Debian tool (qemu-img, qemu-io); throws when it is missing or killed. */
export function runTool(cmd: string, args: readonly string[], timeoutMs = 60_000): ToolResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.error !== undefined) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${cmd} is missing: install qemu-utils (apt-get install qemu-utils)` : `${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  if (r.status === null) throw new Error(`${cmd} ${args.join(' ')}: killed by ${String(r.signal)}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a tool and asserts it exits with 0; returns its stdout. */
export function tool(cmd: string, ...args: string[]): string {
  const r = runTool(cmd, args);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} exited with ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** `qemu-img check`'s exit status (0 clean, 2 corruption, 3 leaked clusters only) and output. */
export function qemuImgCheck(image: string): ToolResult {
  return runTool('qemu-img', ['check', image]);
}

/** Asserts `qemu-img check` finds `image` clean: no corruption and no leaks. */
export function assertClean(image: string): void {
  const r = qemuImgCheck(image);
  assert.equal(r.status, 0, `qemu-img check ${image}: status ${r.status}\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /No errors were found on the image/, `qemu-img check ${image}\n${r.stdout}`);
}

/** The guest-visible bytes of an image, by `qemu-img convert -O raw` (QEMU is the reference). */
export function qemuRawBytes(image: string, rawPath: string): Buffer {
  tool('qemu-img', 'convert', '-O', 'raw', image, rawPath);
  return readFileSync(rawPath);
}

/** The first byte offset where a and b differ (or where the shorter ends), or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Asserts equal bytes, naming the first differing offset (never dumps whole disks). */
export function assertSameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  const at = firstDifference(got, want);
  assert.ok(at < 0, `${what}: ${got.length} vs ${want.length} bytes, first difference at offset ${at}` +
    (at >= 0 && at < Math.min(got.length, want.length) ? ` (got ${got[at]}, expected ${want[at]})` : ''));
}

/** The seed of a randomized test: REPLAYVM_BLOCK_SEED when set, else a random one (print it in messages). */
export function blockTestSeed(): number {
  const env = process.env['REPLAYVM_BLOCK_SEED'];
  if (env !== undefined && env !== '' && Number.isFinite(Number(env))) return Number(env) >>> 0;
  return Math.floor(Math.random() * 2 ** 32);
}
