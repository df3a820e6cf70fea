/**
 * `replayvm img check` through the real CLI, beside `qemu-img check` on the same files: the same
 * exit status, the same summary on stdout, the same problem lines on stderr, the same JSON.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, runProcess } from '../helpers/run-vm.js';
import { qemuImg, qemuIo, tool, withTempDir } from '../support/block/qemu-tools.js';
import { firstDataCluster, qcow2Layout, setRefcount } from '../support/block/qcow2-bytes.js';

function replayvm(cwd: string, ...args: string[]): ReturnType<typeof runProcess> {
  return runProcess(process.execPath, [CLI_PATH, ...args], { timeoutMs: 30_000, cwd, input: [{ end: true }] });
}

/** Asserts that `replayvm img check` and `qemu-img check` say the same of `name` in `dir`. */
async function assertSameCheck(dir: string, name: string, status: number): Promise<void> {
  const q = tool('qemu-img', ['check', name], dir);
  const ours = await replayvm(dir, 'img', 'check', name);
  assert.equal(q.status, status, `qemu-img check ${name}: ${q.stderr}`);
  assert.equal(ours.status, status, `replayvm img check ${name}: ${ours.stderr}`);
  assert.equal(ours.stdout, q.stdout, `${name}: stdout`);
  assert.equal(ours.stderr, q.stderr, `${name}: stderr`);
  const qj = tool('qemu-img', ['check', '--output=json', name], dir);
  const oj = await replayvm(dir, 'img', 'check', '--output=json', name);
  assert.equal(oj.status, status);
  assert.deepEqual(JSON.parse(oj.stdout), JSON.parse(qj.stdout), `${name}: JSON`);
}

test('img check agrees with qemu-img check on clean, leaky and corrupt images', withTempDir('replayvm-img-check-', async (dir) => {
  qemuImg('create', '-f', 'qcow2', join(dir, 'clean.qcow2'), '16M');
  qemuIo(join(dir, 'clean.qcow2'), 'write -P 0x11 0 1M', 'write -P 0x22 9M 300k', 'write -z 12M 128k');
  qemuImg('snapshot', '-c', 'first', join(dir, 'clean.qcow2'));
  qemuIo(join(dir, 'clean.qcow2'), 'write -P 0x33 512k 1M');
  await assertSameCheck(dir, 'clean.qcow2', 0);

  const clean = readFileSync(join(dir, 'clean.qcow2'));
  const { clusterSize } = qcow2Layout(clean);
  // A leak: one more cluster in the file, counted as allocated, used by nothing.
  const leaky = Buffer.concat([clean, new Uint8Array(clusterSize)]);
  setRefcount(leaky, clean.length / clusterSize, 1);
  writeFileSync(join(dir, 'leaky.qcow2'), leaky);
  await assertSameCheck(dir, 'leaky.qcow2', 3);

  // A corruption: a data cluster in use whose refcount is 0 (it could be handed out again).
  const corrupt = Buffer.from(clean);
  setRefcount(corrupt, firstDataCluster(corrupt) / clusterSize, 0);
  writeFileSync(join(dir, 'corrupt.qcow2'), corrupt);
  await assertSameCheck(dir, 'corrupt.qcow2', 2);
}));

test('img check: a raw image, a missing file, a bad header: one line, exit 1', withTempDir('replayvm-img-check-', async (dir) => {
  writeFileSync(join(dir, 'disk.img'), new Uint8Array(65536));
  const cases: ReadonlyArray<readonly [string[], string]> = [
    [['disk.img'], 'replayvm img check: disk.img: a raw image has no tables to check (qcow2 only)\n'],
    [['-f', 'qcow2', 'disk.img'], 'replayvm img check: disk.img: not a qcow2 image (bad magic at offset 0)\n'],
    [['nope.qcow2'], "replayvm img check: Could not open 'nope.qcow2': No such file or directory\n"],
  ];
  for (const [args, stderr] of cases) {
    const r = await replayvm(dir, 'img', 'check', ...args);
    assert.deepEqual([r.status, r.stdout, r.stderr], [1, '', stderr], args.join(' '));
  }
  const usage = await replayvm(dir, 'img', 'check', '-r', 'all', 'disk.img');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /^replayvm img check: -r \(repair\) is not supported: check reports only\nusage: replayvm img /);
}));
