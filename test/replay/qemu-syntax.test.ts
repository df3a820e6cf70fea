/**
 * QEMU's record/replay command line through the CLI: `-icount shift=N,rr=record,rrfile=LOG`
 * then `rr=replay` with the helper objects QEMU's documentation puts on the command line (a
 * blkreplay drive over the image drive, `-object filter-replay` on the user network), on the
 * Linux guest (disk writes and reads, DHCP and ping) and on a bare-metal guest; the disk image
 * never changes. `rrsnapshot=` fails at once with a clear message.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import {
  copyKernel, FIRST_PROMPT, linuxMachine, makeTempDir, seededRandom, pickSeed, sha256File, shellSteps, sleep, withRr, zeroImage, type VmProcess,
} from '../helpers/rr-driver.js';
import { runCli } from '../helpers/run-vm.js';
import { assertRecorded, assertReplayMatches, countOccurrences, inputIgnoredNotice, runVm } from '../helpers/chardev.js';

const tmp = makeTempDir('qemu-syntax');
after(() => tmp.remove());

/** QEMU's record/replay helpers for one disk image and the user network (docs/system/replay.rst). */
function qemuRrHelpers(image: string): string[] {
  return [
    '-drive', `file=${image},if=none,id=img-direct,format=raw`,
    '-drive', 'driver=blkreplay,if=none,image=img-direct,id=img-blkreplay',
    '-device', 'virtio-blk-device,drive=img-blkreplay',
    '-netdev', 'user,id=net0',
    '-device', 'virtio-net-device,netdev=net0',
    '-object', 'filter-replay,id=replay,netdev=net0',
  ];
}

/** `disk writes of virtioN identical to the recording's (K sectors)` on a replay's stderr: K. */
function identicalDiskWrites(stderr: string, describe: string): number {
  const m = /^replayvm: disk writes of virtio\d+ identical to the recording's \((\d+) sectors\)$/m.exec(stderr);
  assert.ok(m !== null, `the replay compares its disk writes with the recording's overlay\n${describe}`);
  return Number(m[1]);
}

test('Linux, QEMU syntax: -icount shift=5,rr=record with blkreplay and filter-replay, then rr=replay and `replayvm replay LOG`: same output and end state, the image never changes', { timeout: 300_000 }, async (t) => {
  const seed = pickSeed();
  const random = seededRandom(seed);
  t.diagnostic(`seed ${seed}`);
  const kernel = copyKernel(tmp.dir);
  const disk = join(tmp.dir, 'disk.img');
  const image = Buffer.alloc(4 << 20);
  image.write('original sector three', 3 * 512, 'latin1');
  writeFileSync(disk, image);
  const diskHash = sha256File(disk);
  const machine = linuxMachine(kernel, [...qemuRrHelpers(disk), '-icount', 'shift=5']);
  const log = join(tmp.dir, 'linux.rrlog');
  const text = `written while recording ${seed.toString(36)}`;

  const rec = await runVm(withRr(machine, 'record', log), {
    label: 'record (rr=record)', dir: tmp.dir, timeoutMs: 150_000, script: async (p: VmProcess) => {
      for (const s of shellSteps(['diskread 3', `diskwrite 5 ${text}`, 'diskread 5', 'net', 'poweroff'])) {
        await p.waitFor(s.waitFor, 120_000);
        await sleep(Math.round(random() * 300));
        await p.type(s.send ?? '', () => Math.round(random() * 20));
      }
    },
  });
  const recFinal = assertRecorded(rec);
  const out = rec.stdout.toString('latin1').replace(/\r/g, '');
  assert.match(out, /^sector 3: original sector three$/m, 'the guest reads the image');
  assert.match(out, new RegExp(`^diskwrite: wrote ${text.length} bytes of text at sector 5$`, 'm'));
  assert.match(out, new RegExp(`^sector 5: ${text}$`, 'm'), 'the guest reads its own write');
  assert.match(out, /^net: leased 10\.0\.2\.15\/24 gw 10\.0\.2\.2 /m);
  assert.match(out, /^ping: 1 sent, 1 received$/m);
  assert.equal(sha256File(disk), diskHash, 'the recording leaves the image unchanged');
  const kept = /^replayvm: disk writes of virtio\d+ \((\d+) sectors; the image is unchanged\) kept in (.+)$/m.exec(rec.stderr);
  assert.ok(kept !== null, `the recording says where it kept the disk writes\n${rec.describe}`);
  assert.ok(Number(kept[1]) > 0 && existsSync(kept[2]!), `the overlay ${kept[2]} holds the written sectors`);
  t.diagnostic(`recording: ${Math.round(rec.wallMs)} ms, ${recFinal.totalSteps} instructions, ${kept[1]} sectors written`);

  await t.test('rr=replay with the same options (input typed into it is ignored)', async () => {
    const rep = await runVm(withRr(machine, 'replay', log), {
      label: 'replay (rr=replay)', dir: tmp.dir, timeoutMs: 150_000, script: async (p) => {
        await p.waitFor(FIRST_PROMPT, 120_000);
        p.write('diskwrite 6 not recorded\n');
      },
    });
    assertReplayMatches(rec, rep);
    assert.equal(identicalDiskWrites(rep.stderr, rep.describe), Number(kept[1]));
    assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, 'Ctrl-A x')), 1, rep.describe);
    assert.equal(sha256File(disk), diskHash, 'the replay leaves the image unchanged');
    t.diagnostic(`rr=replay: ${Math.round(rep.wallMs)} ms`);
  });
  await t.test('`replayvm replay LOG` (the options recorded in the log, blkreplay and filter-replay included)', async () => {
    const rep = await runVm(['replay', log], { label: 'replay LOG', dir: tmp.dir, timeoutMs: 150_000, stdin: 'null' });
    assertReplayMatches(rec, rep);
    assert.equal(identicalDiskWrites(rep.stderr, rep.describe), Number(kept[1]));
    assert.equal(sha256File(disk), diskHash, 'the replay leaves the image unchanged');
    t.diagnostic(`replay LOG: ${Math.round(rep.wallMs)} ms`);
  });
});

test('bare metal, QEMU syntax with the helper objects: -icount shift=3,rr=record then rr=replay match; the image is unchanged', { timeout: 120_000 }, async () => {
  const elf = join(tmp.dir, 'echo.elf');
  writeFileSync(elf, guestElf(echoProgram()));
  const disk = zeroImage(join(tmp.dir, 'bare.img'), 1 << 20);
  const diskHash = sha256File(disk);
  const machine = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elf, ...qemuRrHelpers(disk), '-icount', 'shift=3'];
  const log = join(tmp.dir, 'bare.rrlog');
  const rec = await runVm(withRr(machine, 'record', log), {
    label: 'record bare (rr=record)', dir: tmp.dir, script: async (p) => {
      await p.waitFor('>', 30_000);
      await p.type('typed with rr=record', () => 25);
      p.write('q');
    },
  });
  assertRecorded(rec);
  assert.equal(rec.stdout.toString('latin1'), '>typed with rr=recordq', rec.describe);
  const rep = await runVm(withRr(machine, 'replay', log), { label: 'replay bare (rr=replay)', dir: tmp.dir, stdin: 'null' });
  assertReplayMatches(rec, rep);
  assert.equal(identicalDiskWrites(rep.stderr, rep.describe), 0);
  assert.equal(sha256File(disk), diskHash);
});

test('rrsnapshot= is refused at once with "not supported yet" (rr=record, rr=replay, replayvm record)', { timeout: 60_000 }, async (t) => {
  const elf = join(tmp.dir, 'echo-errors.elf');
  writeFileSync(elf, guestElf(echoProgram()));
  const machine = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elf];
  const existing = join(tmp.dir, 'existing.rrlog');
  writeFileSync(existing, 'not touched');
  const cases: ReadonlyArray<readonly [string, readonly string[], string | undefined, RegExp]> = [
    ['-icount shift=4,rr=record,rrfile=F,rrsnapshot=init', [...machine, '-icount', `shift=4,rr=record,rrfile=${join(tmp.dir, 'snap-record.rrlog')},rrsnapshot=init`],
      join(tmp.dir, 'snap-record.rrlog'), /^replayvm: -icount shift=4,rr=record,rrfile=\S+,rrsnapshot=init: rrsnapshot is not supported yet\n$/],
    ['-icount shift=4,rr=replay,rrfile=F,rrsnapshot=init', [...machine, '-icount', `shift=4,rr=replay,rrfile=${existing},rrsnapshot=init`],
      undefined, /^replayvm: -icount shift=4,rr=replay,rrfile=\S+,rrsnapshot=init: rrsnapshot is not supported yet\n$/],
    ['replayvm record -o F -- ... -icount shift=4,rrsnapshot=init', ['record', '-o', join(tmp.dir, 'snap-sub.rrlog'), '--', ...machine, '-icount', 'shift=4,rrsnapshot=init'],
      join(tmp.dir, 'snap-sub.rrlog'), /^replayvm record: -icount shift=4,rrsnapshot=init conflicts with -o \S+snap-sub\.rrlog: record names the log; drop rr=\/rrfile= from -icount\n$/],
  ];
  for (const [name, args, mustNotExist, message] of cases) {
    await t.test(name, async () => {
      const r = await runCli(args, [{ end: true }], 10_000);
      assert.equal(r.timedOut, false, 'it fails at once');
      assert.ok(r.wallMs < 5000, `within 5 s (${Math.round(r.wallMs)} ms)`);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '', 'the machine never ran');
      if (mustNotExist !== undefined) assert.equal(existsSync(mustNotExist), false, `no log at ${mustNotExist}`);
      assert.equal(readFileSync(existing, 'latin1'), 'not touched');
    });
  }
});
