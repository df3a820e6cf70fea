import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProgramIo } from './app.js';
import { buildMachineConfig, main, readImage } from './app.js';
import { CliError, parseCommandLine } from './options.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-app-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function capture(): ProgramIo & { out: string; err: string } {
  const c = { out: '', err: '', stdout: (t: string) => { c.out += t; }, stderr: (t: string) => { c.err += t; } };
  return c;
}

test('buildMachineConfig reads every named file and copies the options', () => {
  for (const f of ['k', 'i', 'd', 'b']) writeFileSync(join(tmp, f), Uint8Array.of(1, 2, 3));
  const cmd = parseCommandLine(['-bios', join(tmp, 'b'), '-kernel', join(tmp, 'k'), '-initrd', join(tmp, 'i'),
    '-dtb', join(tmp, 'd'), '-append', 'x y', '-m', '64M', '-smp', '3', '-icount', '2', '-no-reboot']);
  assert.equal(cmd.kind, 'run');
  const c = buildMachineConfig(cmd.options);
  assert.equal(c.ramSize, 64 * 1024 * 1024);
  assert.equal(c.smp, 3);
  assert.deepEqual(c.icount, { shift: 2, align: false, sleep: true });
  assert.deepEqual(c.rtc, { clock: 'vm' });
  assert.equal(c.noReboot, true);
  assert.equal(c.append, 'x y');
  assert.equal(c.bios.kind, 'file');
  assert.deepEqual([...(c.kernel?.data ?? [])], [1, 2, 3]);
  assert.equal(c.initrd?.path, join(tmp, 'i'));
  assert.equal(c.dtb?.data.length, 3);
});

test('readImage names the option and the file', () => {
  assert.throws(() => readImage('-initrd', join(tmp, 'nope')), (e: unknown) =>
    e instanceof CliError && e.message === `-initrd ${join(tmp, 'nope')}: could not read file: No such file or directory`);
  assert.throws(() => readImage('-kernel', tmp), /Is a directory/);
});

test('main prints help and errors and returns the exit status', async () => {
  const io = capture();
  assert.equal(await main(['-version'], io), 0);
  assert.match(io.out, /^replayvm version/);
  const io2 = capture();
  assert.equal(await main(['-smp', '99'], io2), 1);
  assert.equal(io2.out, '');
  assert.match(io2.err, /^replayvm: -smp 99: .*\n$/);
});
