/**
 * `replayvm img info`, `create` and `snapshot` through the real CLI, beside qemu-img on the same
 * files: the same info text and JSON, images qemu-img reads as its own, snapshots listed and
 * applied by either tool; qemu-img's locks; the help, usage errors (exit 2) and one-line
 * errors (exit 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKING_READER, lockImage, lockingUnavailable, QCOW2_WRITER } from '../../src/host/node/block/image-lock.js';
import { CLI_PATH, runProcess, type RunResult } from '../helpers/run-vm.js';
import { qemuIo, tool, withTempDir } from '../support/block/qemu-tools.js';

function replayvm(cwd: string, ...args: string[]): Promise<RunResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], { timeoutMs: 30_000, cwd, input: [{ end: true }] });
}

/** Runs `replayvm img ARGS` in `dir` and asserts it succeeded; returns its stdout. */
async function img(dir: string, ...args: string[]): Promise<string> {
  const r = await replayvm(dir, 'img', ...args);
  assert.equal(r.status, 0, `replayvm img ${args.join(' ')}: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** qemu-img ARGS run in `dir`, which must succeed. */
function qemu(dir: string, ...args: string[]): string {
  const r = tool('qemu-img', args, dir);
  assert.equal(r.status, 0, `qemu-img ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Sets bits of the 64-bit incompatible features field of a version 3 image. */
function setIncompatibleBits(path: string, bits: bigint): void {
  const b = readFileSync(path);
  b.writeBigUInt64BE(b.readBigUInt64BE(72) | bits, 72);
  writeFileSync(path, b);
}

test('img info prints what qemu-img info prints, text and JSON', withTempDir('replayvm-img-', async (dir) => {
  mkdirSync(join(dir, 'base'));
  qemu(dir, 'create', '-f', 'qcow2', 'base/base.qcow2', '64M');
  qemuIo(join(dir, 'base/base.qcow2'), 'write -P 0x42 0 3M');
  qemu(dir, 'snapshot', '-c', 'installed', 'base/base.qcow2');
  qemu(dir, 'create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'base/overlay.qcow2');
  qemu(dir, 'create', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', 'v2.qcow2', '1.5G');
  qemu(dir, 'create', '-f', 'qcow2', '-o', 'refcount_bits=64,lazy_refcounts=on', 'dirty.qcow2', '100M');
  setIncompatibleBits(join(dir, 'dirty.qcow2'), 1n | 2n); // dirty and corrupt
  qemu(dir, 'create', '-f', 'raw', 'disk.img', '3000');
  for (const name of ['base/base.qcow2', 'base/overlay.qcow2', 'v2.qcow2', 'dirty.qcow2', 'disk.img']) {
    assert.equal(await img(dir, 'info', name), qemu(dir, 'info', name), `${name}: text`);
    assert.deepEqual(JSON.parse(await img(dir, 'info', '--output=json', name)), JSON.parse(qemu(dir, 'info', '--output=json', name)), `${name}: JSON`);
  }
  // A backing file that is missing does not stop info (it is named, not opened), as in qemu-img.
  qemu(dir, 'create', '-f', 'qcow2', '-u', '-b', 'gone.qcow2', '-F', 'qcow2', 'orphan.qcow2', '1M');
  assert.equal(await img(dir, 'info', 'orphan.qcow2'), qemu(dir, 'info', 'orphan.qcow2'));
}));

test('img create makes what qemu-img create makes; qemu-img reads our overlays and checks them clean', withTempDir('replayvm-img-', async (dir) => {
  for (const [name, args] of [
    ['plain', ['-f', 'qcow2']],
    ['clusters', ['-f', 'qcow2', '-o', 'cluster_size=2M']],
    ['raw', ['-f', 'raw']],
  ] as const) {
    const ours = await img(dir, 'create', ...args, `${name}.ours`, '1000000');
    const theirs = qemu(dir, 'create', ...args, `${name}.qemu`, '1000000');
    assert.equal(ours.replace(`${name}.ours`, 'X'), theirs.replace(`${name}.qemu`, 'X'), `${name}: the Formatting line`);
    assert.deepEqual(readFileSync(join(dir, `${name}.ours`)), readFileSync(join(dir, `${name}.qemu`)), `${name}: the same bytes`);
  }
  assert.equal(await img(dir, 'create', '-q', '-f', 'qcow2', 'quiet.qcow2', '1M'), '');
  // An overlay of a base in a subfolder, named relative to the overlay, size taken from the base.
  mkdirSync(join(dir, 'vm'));
  qemu(dir, 'create', '-f', 'qcow2', 'vm/base.qcow2', '32M');
  qemuIo(join(dir, 'vm/base.qcow2'), 'write -P 0x61 1M 2M');
  await img(dir, 'create', '-f', 'qcow2', '-b', 'base.qcow2', '-F', 'qcow2', 'vm/overlay.qcow2');
  const info = JSON.parse(qemu(dir, 'info', '--output=json', 'vm/overlay.qcow2')) as Record<string, unknown>;
  assert.equal(info['virtual-size'], 32 << 20);
  assert.equal(info['full-backing-filename'], 'vm/base.qcow2');
  assert.equal(info['backing-filename-format'], 'qcow2');
  assert.equal(tool('qemu-img', ['check', 'vm/overlay.qcow2'], dir).status, 0);
  qemu(dir, 'convert', '-O', 'raw', 'vm/overlay.qcow2', 'overlay.raw');
  qemu(dir, 'convert', '-O', 'raw', 'vm/base.qcow2', 'base.raw');
  assert.deepEqual(readFileSync(join(dir, 'overlay.raw')), readFileSync(join(dir, 'base.raw')), 'the overlay reads its base');
  // A missing backing file is refused in one line.
  const r = await replayvm(dir, 'img', 'create', '-f', 'qcow2', '-b', 'nope.qcow2', '-F', 'qcow2', 'x.qcow2');
  assert.deepEqual([r.status, r.stderr], [1, "replayvm img create: x.qcow2: Could not open backing image: Could not open 'nope.qcow2': No such file or directory\n"]);
}));

test('img snapshot: qemu-img lists ours, we list and apply its own; check stays clean', withTempDir('replayvm-img-', async (dir) => {
  qemu(dir, 'create', '-f', 'qcow2', '-o', 'cluster_size=4096', 'd.qcow2', '8M');
  qemuIo(join(dir, 'd.qcow2'), 'write -P 0x11 0 1M');
  qemu(dir, 'convert', '-O', 'raw', 'd.qcow2', 'first.raw');
  assert.equal(await img(dir, 'snapshot', '-c', 'first', 'd.qcow2'), '');
  qemuIo(join(dir, 'd.qcow2'), 'write -P 0x22 512k 1M');
  qemu(dir, 'snapshot', '-c', 'second', 'd.qcow2');
  qemuIo(join(dir, 'd.qcow2'), 'write -P 0x33 0 2M');
  const theirs = qemu(dir, 'snapshot', '-l', 'd.qcow2');
  assert.match(theirs, /\n1 +first +0 B /);
  assert.match(theirs, /\n2 +second +0 B /);
  assert.equal(await img(dir, 'snapshot', '-l', 'd.qcow2'), theirs);
  assert.equal(tool('qemu-img', ['check', 'd.qcow2'], dir).status, 0);
  await img(dir, 'snapshot', '-a', 'first', 'd.qcow2');
  qemu(dir, 'convert', '-O', 'raw', 'd.qcow2', 'now.raw');
  assert.deepEqual(readFileSync(join(dir, 'now.raw')), readFileSync(join(dir, 'first.raw')), 'applying reverts the disk');
  await img(dir, 'snapshot', '-d', 'second', 'd.qcow2');
  assert.doesNotMatch(qemu(dir, 'snapshot', '-l', 'd.qcow2'), /second/);
  assert.equal(tool('qemu-img', ['check', 'd.qcow2'], dir).status, 0, 'clean after create, apply and delete');
  const missing = await replayvm(dir, 'img', 'snapshot', '-a', 'nosuch', 'd.qcow2');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^replayvm img snapshot: d\.qcow2: .*nosuch.*\n$/);
  writeFileSync(join(dir, 'r.img'), new Uint8Array(4096));
  const raw = await replayvm(dir, 'img', 'snapshot', '-l', 'r.img');
  assert.deepEqual([raw.status, raw.stderr], [1, 'replayvm img snapshot: r.img: a raw image has no snapshots (qcow2 only)\n']);
  assert.equal(statSync(join(dir, 'r.img')).size, 4096);
}));

test('img -h prints the help; usage errors exit 2 with the usage', withTempDir('replayvm-img-', async (dir) => {
  for (const args of [['-h'], ['--help'], ['info', '-h']]) {
    const r = await replayvm(dir, 'img', ...args);
    assert.deepEqual([r.status, r.stderr], [0, '']);
    assert.match(r.stdout, /^usage: replayvm img COMMAND/);
    for (const l of r.stdout.split('\n')) assert.ok(l.length <= 80, l);
  }
  for (const [args, message] of [
    [[], 'replayvm img: no command given (info, create, check or snapshot; -h for help)'],
    [['create', 'x.qcow2', '1M'], 'replayvm img create: -f qcow2 or -f raw is required'],
    [['snapshot', 'x.qcow2'], 'replayvm img snapshot: exactly one of -l, -c NAME, -a NAME, -d NAME is required'],
  ] as const) {
    const r = await replayvm(dir, 'img', ...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(r.stderr.startsWith(`${message}\nusage: replayvm img `), r.stderr);
  }
}));

test('img takes qemu-img\'s locks: an image in use for writing is refused, and never emptied by create', withTempDir('replayvm-img-', async (dir) => {
  assert.equal(lockingUnavailable(), undefined, 'the OFD lock addon is built (npm install builds it)');
  qemu(dir, 'create', '-f', 'qcow2', 'd.qcow2', '8M');
  const before = readFileSync(join(dir, 'd.qcow2'));
  const writer = await lockImage(join(dir, 'd.qcow2'), QCOW2_WRITER); // as a running machine holds it
  try {
    const inUse = (what: string): string => `Failed to get ${what} lock. Is another process using the image [d.qcow2]?`;
    for (const [args, message] of [
      [['info', 'd.qcow2'], `replayvm img info: ${inUse('shared "write"')}`],
      [['check', 'd.qcow2'], `replayvm img check: ${inUse('shared "write"')}`],
      [['snapshot', '-c', 's', 'd.qcow2'], `replayvm img snapshot: ${inUse('"write"')}`],
      [['create', '-q', '-f', 'qcow2', 'd.qcow2', '1M'], `replayvm img create: ${inUse('"write"')}`],
    ] as const) {
      const r = await replayvm(dir, 'img', ...args);
      assert.deepEqual([r.status, r.stderr], [1, `${message}\n`], args.join(' '));
    }
    assert.deepEqual(readFileSync(join(dir, 'd.qcow2')), before, 'the image in use is unchanged');
  } finally {
    await writer.release();
  }
  // Readers share: info and check run beside a backing-file reader; a snapshot (a write) does not.
  const reader = await lockImage(join(dir, 'd.qcow2'), BACKING_READER);
  try {
    await img(dir, 'info', 'd.qcow2');
    await img(dir, 'check', 'd.qcow2');
    assert.equal((await replayvm(dir, 'img', 'snapshot', '-c', 's', 'd.qcow2')).status, 1);
  } finally {
    await reader.release();
  }
  await img(dir, 'snapshot', '-c', 's', 'd.qcow2');
}));
