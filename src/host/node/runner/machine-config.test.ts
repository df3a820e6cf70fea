import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RunConfig } from './config.js';
import { RunnerError } from './errors.js';
import { buildMachineConfig, readImage } from './machine-config.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-runner-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** A run's configuration as the command line builds it for `-nographic` and the given fields. */
function config(fields: Partial<RunConfig>): RunConfig {
  return {
    ramSize: 128 * 1024 * 1024, smp: 1, bios: { kind: 'default' }, nographic: true, displayNone: false, noReboot: false,
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false }, console: { kind: 'mon-stdio' }, stdioMonitor: 'mux',
    monitors: [], startPaused: false, argv: [], virtio: [], warnings: [], ...fields,
  };
}

test('buildMachineConfig reads every named file and copies the configuration', () => {
  for (const f of ['k', 'i', 'd', 'b']) writeFileSync(join(tmp, f), Uint8Array.of(1, 2, 3));
  const c = buildMachineConfig(config({
    bios: { kind: 'file', path: join(tmp, 'b') }, kernel: join(tmp, 'k'), initrd: join(tmp, 'i'), dtb: join(tmp, 'd'),
    append: 'x y', ramSize: 64 * 1024 * 1024, smp: 3, icount: { shift: 2, align: false, sleep: true },
    rtc: { base: { kind: 'date', epochMs: 1_000 }, clock: 'vm' }, noReboot: true,
  }));
  assert.equal(c.ramSize, 64 * 1024 * 1024);
  assert.equal(c.smp, 3);
  assert.deepEqual(c.icount, { shift: 2, align: false, sleep: true });
  assert.deepEqual(c.rtc, { clock: 'vm', startNs: 1e9 });
  assert.equal(c.noReboot, true);
  assert.equal(c.append, 'x y');
  assert.equal(c.bios.kind, 'file');
  assert.deepEqual([...(c.kernel?.data ?? [])], [1, 2, 3]);
  assert.equal(c.initrd?.path, join(tmp, 'i'));
  assert.equal(c.dtb?.data.length, 3);
  assert.deepEqual(buildMachineConfig(config({ rtc: { base: { kind: 'utc' }, clock: 'host' } })).rtc, { clock: 'host' });
});

test('readImage names the option and the file, and decompresses a gzip image', () => {
  assert.throws(() => readImage('-initrd', join(tmp, 'nope')), (e: unknown) =>
    e instanceof RunnerError && e.message === `-initrd ${join(tmp, 'nope')}: could not read file: No such file or directory`);
  assert.throws(() => readImage('-kernel', tmp), /Is a directory/);
  writeFileSync(join(tmp, 'z'), gzipSync(Uint8Array.of(7, 8, 9)));
  assert.deepEqual([...readImage('-kernel', join(tmp, 'z')).data], [7, 8, 9]);
  writeFileSync(join(tmp, 'bad'), Uint8Array.of(0x1f, 0x8b, 0));
  assert.throws(() => readImage('-kernel', join(tmp, 'bad')), /-kernel .*bad: not a valid gzip file/);
});
