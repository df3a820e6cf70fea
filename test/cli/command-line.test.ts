/** End-to-end tests of the command line: help, version, option errors, files, dumpdtb. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/run-vm.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-cli-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Asserts a one-line `replayvm: ...` error and its exit status: 2 for a usage error (the default), 1 at run time. */
function assertError(r: { status: number | null; stderr: string; stdout: string } | undefined, pattern: RegExp, status = 2): void {
  assert.ok(r !== undefined);
  assert.equal(r.status, status, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0] ?? '', /^replayvm: /);
  assert.match(lines[0] ?? '', pattern);
}

test('-version and --version print the version and exit 0', async () => {
  for (const opt of ['-version', '--version']) {
    const r = await runCli([opt]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^replayvm version \d+\.\d+\.\d+ \(QEMU-compatible command line for qemu-system-riscv32\)/);
    assert.equal(r.stderr, '');
  }
});

test('-h lists every supported option, one line each', async () => {
  const r = await runCli(['-h']);
  assert.equal(r.status, 0);
  for (const opt of ['-machine', '-m ', '-smp', '-cpu', '-bios', '-kernel', '-initrd', '-append', '-dtb', '-nographic',
    '-serial', '-display', '-no-reboot', '-name', '-d ', '-D ', '-icount', '-version', '-drive', '-device', '-netdev', '-object', '-snapshot']) {
    assert.ok(r.stdout.split('\n').some((l) => l.startsWith(opt)), `help mentions ${opt}`);
  }
  const r2 = await runCli(['--help']);
  assert.equal(r2.stdout, r.stdout);
});

test('an unknown option is a one-line error naming it, exit 2', async () => {
  assertError(await runCli(['-foo']), /^replayvm: -foo: option not implemented$/);
  assertError(await runCli(['-M', 'virt', '-netdev', 'tap,id=n']), /-netdev tap,id=n: netdev type 'tap' is not supported/);
  assertError(await runCli(['disk.img']), /disk\.img/);
});

test('bad -m, -smp, -M, -cpu, -d, -serial, -icount values are errors', async () => {
  // Every value is covered by src/cli/options.test.ts; here a few go through the real program.
  const cases: Array<[string[], RegExp]> = [
    [['-m', '0'], /^replayvm: -m 0: /],
    [['-m', 'abc'], /^replayvm: -m abc: /],
    [['-m'], /^replayvm: -m: requires an argument$/],
    [['-smp', '9'], /^replayvm: -smp 9: /],
    [['-M', 'sifive_u'], /sifive_u/],
    [['-cpu', 'rv64'], /rv64/],
    [['-d', 'int,foo'], /foo/],
    [['-serial', 'tcp::4444'], /-serial tcp::4444/],
    [['-icount', 'shift=auto,sleep=off'], /shift=auto and sleep=off are incompatible/],
    [['-icount', 'shift=auto,rr=record,rrfile=x.log,rrsnapshot=init'], /rrsnapshot is not supported yet/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  cases.forEach(([, pattern], i) => assertError(results[i], pattern));
});

test('a missing kernel file is an error naming the option and file', async () => {
  const missing = join(tmp, 'no-such.elf');
  const r = await runCli(['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', missing]);
  assertError(r, new RegExp(`-kernel ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*No such file`), 1);
  assertError(await runCli(['-M', 'virt', '-nographic', '-bios', join(tmp, 'no-bios.bin')]), /-bios .*no-bios\.bin/, 1);
});

test('a bad kernel image gets the board\'s one-line error', async () => {
  // An x86-64 ELF header: the board refuses it.
  const bad = new Uint8Array(64);
  bad.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  bad[18] = 62;
  const badPath = join(tmp, 'x86.elf');
  writeFileSync(badPath, bad);
  assertError(await runCli(['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', badPath]), /-kernel .*x86\.elf: /, 1);
  const empty = join(tmp, 'empty.bin');
  writeFileSync(empty, new Uint8Array(0));
  assertError(await runCli(['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', empty]), /empty\.bin/, 1);
});

test('-M virt,dumpdtb=FILE writes the device tree blob and exits 0', async () => {
  const out = join(tmp, 'virt.dtb');
  const r = await runCli(['-M', 'virt,dumpdtb=' + out, '-bios', 'none', '-m', '256M', '-smp', '2']);
  assert.equal(r.status, 0, r.stderr);
  const dtb = readFileSync(out);
  assert.equal(dtb.readUInt32BE(0), 0xd00dfeed);
  assert.equal(dtb.readUInt32BE(4), dtb.length); // totalsize
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp')), [], 'no temporary file left');
});

test('-d help lists the log items and exits 0', async () => {
  const r = await runCli(['-d', 'help']);
  assert.equal(r.status, 0);
  for (const item of ['int', 'guest_errors', 'unimp', 'in_asm']) assert.match(r.stdout, new RegExp(`^${item} `, 'm'));
});
