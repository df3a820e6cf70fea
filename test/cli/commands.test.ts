/**
 * End-to-end tests of the commands through the real CLI: help text, subcommand usages, the
 * exit-status and error-prefix convention, record/replay option conflicts, the replay hint a
 * recording prints (pasted into a shell) and replays of a log whose images moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_PATH, elfPath, runCli, runProcess } from '../helpers/run-vm.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-commands-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI from `cwd`. */
function runIn(cwd: string, args: readonly string[]): ReturnType<typeof runCli> {
  return runProcess(process.execPath, [CLI_PATH, ...args], { timeoutMs: 30_000, cwd, input: [{ end: true }] });
}

test('-h: the commands, rr options and QEMU\'s groups, every line within 80 columns', async () => {
  const r = await runCli(['-h']);
  assert.equal(r.status, 0);
  const lines = r.stdout.split('\n');
  for (const l of lines) assert.ok(l.length <= 80, `${l.length} columns: ${l}`);
  for (const word of ['replayvm record', 'replayvm replay', 'replayvm dump', 'rr=record|replay', 'rrfile=', 'rrsnapshot=']) {
    assert.ok(r.stdout.includes(word), `help mentions ${word}`);
  }
  const groups = lines.filter((l) => /^[A-Z].*:$/.test(l));
  assert.deepEqual(groups.slice(0, 8), ['Standard options:', 'Block device options:', 'Display options:', 'Network options:',
    'Character device options:', 'Boot Image or Kernel specific:', 'Debug/Expert options:', 'Generic object creation:']);
  for (const code of [0, 1, 2, 3, 4, 5]) assert.ok(lines.some((l) => l.startsWith(`  ${code} `)), `exit status ${code} listed`);
});

test('record -h, replay -h and dump -h print their own usage and exit 0', async () => {
  for (const sub of ['record', 'replay', 'dump']) {
    for (const h of ['-h', '--help']) {
      const r = await runCli([sub, h]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: replayvm ${sub} `));
      assert.equal(r.stderr, '');
      for (const l of r.stdout.split('\n')) assert.ok(l.length <= 80, `${sub}: ${l}`);
    }
  }
});

test('usage errors exit 2 with the command\'s prefix; runtime errors exit 1', async () => {
  const cases: ReadonlyArray<readonly [readonly string[], number, RegExp]> = [
    [['-foo'], 2, /^replayvm: -foo: option not implemented\n$/],
    [['record'], 2, /^replayvm record: give the machine options to record/],
    [['record', '-o'], 2, /^replayvm record: -o: requires a file name\n$/],
    [['replay'], 2, /^replayvm replay: no log file given/],
    [['replay', 'a', 'b'], 2, /^replayvm replay: one log file at a time/],
    [['replay', '--frob', 'a'], 2, /^replayvm replay: --frob: unknown option/],
    [['dump'], 2, /^replayvm dump: no log file given/],
    [['dump', '--frob', 'x'], 2, /^replayvm dump: unknown option '--frob'/],
    [['replay', join(tmp, 'missing.rrlog')], 1, /^replayvm replay: \S+missing\.rrlog: no such file\n$/],
    [['-M', 'virt', '-bios', 'none', '-nographic', '-kernel', join(tmp, 'missing.elf')], 1, /^replayvm: -kernel \S+missing\.elf: could not read file/],
  ];
  // One at a time: on a loaded machine ten node processes at once can hit the timeout.
  for (const [args, status, re] of cases) {
    const r = await runCli(args, [{ end: true }], 30_000);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('a log named twice (record -o X plus rr=/rrfile= in -icount; the same for replay) is refused naming both', async () => {
  const machine = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elfPath('nop')];
  const x = join(tmp, 'x.rrlog');
  const y = join(tmp, 'y.rrlog');
  const cases: ReadonlyArray<readonly [readonly string[], RegExp]> = [
    [['record', '-o', x, '--', ...machine, '-icount', 'shift=4,rr=replay'], /^replayvm record: -icount shift=4,rr=replay conflicts with -o \S+x\.rrlog/],
    [['record', '-o', x, '--', ...machine, '-icount', `shift=4,rrfile=${y}`], /^replayvm record: -icount shift=4,rrfile=\S+y\.rrlog conflicts with -o \S+x\.rrlog/],
    [['record', '--', ...machine, '-icount', `shift=4,rrfile=${y}`], /conflicts with its own log \(-o LOG/],
    [['replay', x, '-icount', 'shift=4,rr=record'], /^replayvm replay: -icount shift=4,rr=record conflicts with the log to replay, \S+x\.rrlog/],
    [['replay', x, '-icount', `shift=4,rrfile=${y}`], /^replayvm replay: -icount shift=4,rrfile=\S+y\.rrlog conflicts with the log to replay, \S+x\.rrlog/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli(args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '', 'the machine never ran');
  }
});

/** The command `record` prints after "replay with: ". */
function replayHint(stderr: string): string {
  const m = /replayvm: replay with: (.+)\n/.exec(stderr);
  assert.ok(m?.[1] !== undefined, `a replay hint: ${stderr}`);
  return m[1];
}

test('a recording says at once where it records and how to stop; its replay hint works pasted in a shell, here and elsewhere', async () => {
  const dirA = join(tmp, 'hint-a');
  const dirB = join(tmp, 'hint-b');
  mkdirSync(dirA);
  mkdirSync(dirB);
  const r = await runIn(dirA, ['record', '-o', 'nop.rrlog', '--', '-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elfPath('nop')]);
  assert.equal(r.status, 0, r.stderr);
  const first = r.stderr.split('\n')[0] ?? '';
  assert.equal(first, `replayvm: recording to ${join(dirA, 'nop.rrlog')}; it ends when the guest powers off (poweroff), or with Ctrl-A x`);
  const hint = replayHint(r.stderr);
  for (const cwd of [dirA, dirB]) {
    const p = spawnSync('sh', ['-c', hint], { cwd, encoding: 'latin1', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(p.status, 0, `${hint} in ${cwd}: ${p.stderr}`);
    assert.match(p.stderr, /replayvm: replay complete: /);
  }
});

test('a log replays from another folder, with an image beside it or named by --image; a wrong image is refused by sha256', async () => {
  const dirA = join(tmp, 'img-a');
  const dirB = join(tmp, 'img-b');
  const elsewhere = join(tmp, 'img-elsewhere');
  for (const d of [dirA, dirB, elsewhere]) mkdirSync(d);
  copyFileSync(elfPath('nop'), join(dirA, 'guest.elf'));
  const rec = await runIn(dirA, ['record', '-o', 'g.rrlog', '--', '-M', 'virt', '-nographic', '-bios', 'none', '-kernel', 'guest.elf']);
  assert.equal(rec.status, 0, rec.stderr);
  const log = join(dirA, 'g.rrlog');
  // From another folder: the recorded absolute path.
  const fromB = await runIn(dirB, ['replay', log]);
  assert.equal(fromB.status, 0, fromB.stderr);
  assert.doesNotMatch(fromB.stderr, /is not there/);
  // The image moved beside the log (the log moved with it).
  const movedLogDir = join(tmp, 'img-moved');
  mkdirSync(movedLogDir);
  renameSync(log, join(movedLogDir, 'g.rrlog'));
  renameSync(join(dirA, 'guest.elf'), join(movedLogDir, 'guest.elf'));
  const beside = await runIn(dirB, ['replay', join(movedLogDir, 'g.rrlog')]);
  assert.equal(beside.status, 0, beside.stderr);
  assert.match(beside.stderr, new RegExp(`replayvm replay: kernel ${join(dirA, 'guest.elf')} is not there: using ${join(movedLogDir, 'guest.elf')} \\(beside the log, same sha256\\)`));
  // The image elsewhere: not found, the error names the image, the places and the hash.
  renameSync(join(movedLogDir, 'guest.elf'), join(elsewhere, 'renamed.elf'));
  const lost = await runIn(dirB, ['replay', join(movedLogDir, 'g.rrlog')]);
  assert.equal(lost.status, 1, lost.stderr);
  assert.match(lost.stderr, /^replayvm replay: kernel \S+guest\.elf \(given as guest\.elf\): no file with sha256 [0-9a-f]{64} at \S+img-a\/guest\.elf, \S+img-moved\/guest\.elf; name its new place with --image guest\.elf=PATH\n$/);
  const named = await runIn(dirB, ['replay', '--image', `guest.elf=${join(elsewhere, 'renamed.elf')}`, join(movedLogDir, 'g.rrlog')]);
  assert.equal(named.status, 0, named.stderr);
  assert.match(named.stderr, /using \S+renamed\.elf \(--image, same sha256\)/);
  // A different file with the right name beside the log: refused by its sha256.
  writeFileSync(join(movedLogDir, 'guest.elf'), 'not the guest');
  const wrong = await runIn(dirB, ['replay', join(movedLogDir, 'g.rrlog')]);
  assert.equal(wrong.status, 1, wrong.stderr);
  assert.match(wrong.stderr, /img-moved\/guest\.elf \(sha256 [0-9a-f]{16}\.\.\. differs\)/);
});
