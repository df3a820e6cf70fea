/**
 * Record/replay through the CLI with different console configurations (bare-metal guests, so
 * each run takes a second or two): a recording replays byte for byte whichever console the
 * replay uses (-nographic, -serial stdio with -display none, -serial stdio with -nographic and
 * -monitor none, mon:stdio, file:PATH, null), a recording made on -serial stdio or file:PATH
 * replays with `replayvm replay LOG` (its recorded options) and on other consoles (socket
 * chardevs: test/replay/socket-serial.test.ts), and a replay is interactive: console input
 * typed into it is ignored with a notice, and Ctrl-A x stops it at once with status 0.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { BAREMETAL_ELF, makeTempDir, sleep, withRr, type VmProcess } from '../helpers/rr-driver.js';
import { runCli } from '../helpers/run-vm.js';
import {
  assertRecorded, assertReplayMatches, countOccurrences, inputIgnoredNotice, runVm, TERMINATED_TEXT, type VmRun,
} from '../helpers/chardev.js';

const tmp = makeTempDir('consoles');
after(() => tmp.remove());

const echoElf = join(tmp.dir, 'echo.elf');
writeFileSync(echoElf, guestElf(echoProgram()));

/** The machine without its console options. */
const bare = (elf: string): string[] => ['-M', 'virt', '-bios', 'none', '-kernel', elf];

/** The stdio console configurations a replay can use, as QEMU accepts them. */
/** Stdio consoles, and the quit keys the input notice names (plain stdio from a pipe has none). */
const STDIO_CONSOLES: ReadonlyArray<readonly [string, readonly string[], string | undefined]> = [
  ['-nographic', ['-nographic'], 'Ctrl-A x'],
  ['-serial stdio -display none', ['-serial', 'stdio', '-display', 'none'], undefined],
  ['-nographic -serial stdio -monitor none', ['-nographic', '-serial', 'stdio', '-monitor', 'none'], undefined],
  ['-serial mon:stdio -display none', ['-serial', 'mon:stdio', '-display', 'none'], 'Ctrl-A x'],
];

/** Text typed into replays: the echo guest would print it (no 'q': that would end it). */
const JUNK = 'typed into the replay\n';

/** Types `text` into the echo guest once it printed '>', then 'q' (it echoes and powers off). */
function typeIntoEcho(text: string, gapMs = 15): (p: VmProcess) => Promise<void> {
  return async (p) => {
    await p.waitFor('>', 30_000);
    await p.type(text, () => gapMs);
    p.write('q');
  };
}

/** Types JUNK into a replay once its output shows '>' (the replay must ignore it). */
async function typeJunk(p: VmProcess): Promise<void> {
  await p.waitFor('>', 30_000);
  p.write(JUNK);
}

test('a recording made with -nographic replays byte for byte on every console configuration', { timeout: 180_000 }, async (t) => {
  const log = join(tmp.dir, 'nographic.rrlog');
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-nographic'], {
    label: 'record -nographic', dir: tmp.dir, script: typeIntoEcho('hello, console 123'),
  });
  assertRecorded(rec);
  assert.equal(rec.stdout.toString('latin1'), '>hello, console 123q', rec.describe);

  await t.test('`replayvm replay LOG` (the recorded -nographic), stdin at EOF', async () => {
    assertReplayMatches(rec, await runVm(['replay', log], { label: 'replay LOG', dir: tmp.dir, stdin: 'null' }));
  });
  for (const [name, consoleArgs, quitKeys] of STDIO_CONSOLES) {
    await t.test(`QEMU syntax rr=replay with ${name}, input typed into it is ignored with one notice`, async () => {
      const rep = await runVm(withRr([...bare(echoElf), ...consoleArgs], 'replay', log), { label: `replay ${name}`, dir: tmp.dir, script: typeJunk });
      assertReplayMatches(rec, rep);
      assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, quitKeys)), 1, `the notice, once\n${rep.describe}`);
    });
  }
  await t.test('QEMU syntax rr=replay with -serial file:PATH -display none: the file holds the recorded output, stdout nothing', async () => {
    const out = join(tmp.dir, 'replay-nographic.txt');
    const rep = await runVm(withRr([...bare(echoElf), '-display', 'none', '-serial', `file:${out}`], 'replay', log), {
      label: 'replay file:', dir: tmp.dir, stdin: 'null',
    });
    assert.ok(existsSync(out), `the replay created ${out}\n${rep.describe}`);
    assertReplayMatches(rec, rep, { repOut: readFileSync(out) });
    assert.equal(rep.stdout.length, 0, `nothing on stdout\n${rep.describe}`);
  });
  await t.test('QEMU syntax rr=replay with -serial null -display none: same end state, no output', async () => {
    const rep = await runVm(withRr([...bare(echoElf), '-display', 'none', '-serial', 'null'], 'replay', log), { label: 'replay null', dir: tmp.dir, stdin: 'null' });
    assertReplayMatches(rec, rep, { recOut: Buffer.alloc(0) });
  });
  await t.test('QEMU syntax rr=replay with -nographic -serial stdio (no -monitor none) is refused as QEMU does, and quickly', async () => {
    const r = await runCli(withRr([...bare(echoElf), '-nographic', '-serial', 'stdio'], 'replay', log));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^replayvm: -serial stdio: cannot use stdio by multiple character devices/m);
    assert.equal(r.stdout, '');
  });
});

test('a recording made with -serial stdio -display none replays with `replayvm replay LOG` (stdin typed into, ignored) and with -nographic', { timeout: 120_000 }, async (t) => {
  const log = join(tmp.dir, 'stdio.rrlog');
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-serial', 'stdio', '-display', 'none'], {
    label: 'record -serial stdio', dir: tmp.dir, script: typeIntoEcho('plain stdio\n\t\x01\x01 bytes', 10),
  });
  assertRecorded(rec);
  // Plain stdio has no Ctrl-A keys: the 0x01 bytes reach the guest as they are.
  assert.equal(rec.stdout.toString('latin1'), '>plain stdio\n\t\x01\x01 bytesq', rec.describe);
  await t.test('`replayvm replay LOG`, input typed into it', async () => {
    const rep = await runVm(['replay', log], { label: 'replay LOG (stdio)', dir: tmp.dir, script: typeJunk });
    assertReplayMatches(rec, rep);
    // Plain stdio from a pipe: no quit keys to name.
    assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, undefined)), 1, `the notice, once\n${rep.describe}`);
  });
  await t.test('QEMU syntax rr=replay with -nographic', async () => {
    assertReplayMatches(rec, await runVm(withRr([...bare(echoElf), '-nographic'], 'replay', log), { label: 'replay -nographic', dir: tmp.dir, stdin: 'null' }));
  });
});

test('a recording made with -serial file:PATH (output only in the file) replays into the same file, into another file and on stdout', { timeout: 120_000 }, async (t) => {
  const elf = BAREMETAL_ELF('demo');
  const file = join(tmp.dir, 'recorded-console.txt');
  const log = join(tmp.dir, 'file.rrlog');
  const rec = await runVm(['record', '-o', log, '--', ...bare(elf), '-display', 'none', '-serial', `file:${file}`], { label: 'record file:', dir: tmp.dir, stdin: 'null' });
  assertRecorded(rec);
  assert.equal(rec.stdout.length, 0, `the recording prints nothing on stdout\n${rec.describe}`);
  const recorded = readFileSync(file);
  assert.match(recorded.toString('latin1'), /^replayvm bare-metal demo\n[\s\S]*\nPASS demo\n$/, 'the guest\'s output is in the file');
  const kept = join(tmp.dir, 'recorded-console.copy.txt');
  copyFileSync(file, kept);
  writeFileSync(file, 'stale content, overwritten by the replay');

  await t.test('`replayvm replay LOG` writes the recorded file again', async () => {
    const rep = await runVm(['replay', log], { label: 'replay LOG (file)', dir: tmp.dir, stdin: 'null' });
    assertReplayMatches(rec, rep, { recOut: recorded, repOut: readFileSync(file) });
    assert.equal(rep.stdout.length, 0, rep.describe);
  });
  await t.test('QEMU syntax rr=replay with another file:PATH', async () => {
    const other = join(tmp.dir, 'replayed-console.txt');
    const rep = await runVm(withRr([...bare(elf), '-display', 'none', '-serial', `file:${other}`], 'replay', log), { label: 'replay other file', dir: tmp.dir, stdin: 'null' });
    assertReplayMatches(rec, rep, { recOut: recorded, repOut: readFileSync(other) });
  });
  await t.test('QEMU syntax rr=replay with -nographic: stdout is the recorded file', async () => {
    const rep = await runVm(withRr([...bare(elf), '-nographic'], 'replay', log), { label: 'replay -nographic (file)', dir: tmp.dir, stdin: 'null' });
    assertReplayMatches(rec, rep, { recOut: recorded });
  });
  assert.ok(readFileSync(kept).equals(recorded));
});

// ---------------------------------------------------------------------------------------------
// An interactive replay: a recording of about 3 s (the echo guest polls its UART between the
// bytes typed), so its replay runs long enough to be typed into and stopped.

let longRec: { log: string; rec: VmRun } | undefined;

async function longRecording(): Promise<{ log: string; rec: VmRun }> {
  if (longRec !== undefined) return longRec;
  const log = join(tmp.dir, 'long.rrlog');
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-nographic'], {
    label: 'record (long)', dir: tmp.dir, script: async (p) => {
      await p.waitFor('>', 30_000);
      p.write('a');
      await p.waitFor('a', 10_000);
      await sleep(1500);
      p.write('b');
      await p.waitFor('b', 10_000);
      await sleep(1500);
      p.write('q');
    },
  });
  assertRecorded(rec);
  assert.equal(rec.stdout.toString('latin1'), '>abq', rec.describe);
  longRec = { log, rec };
  return longRec;
}

/**
 * Replays `args` (a replay of the long recording): once its output shows '>a', types JUNK, then
 * Ctrl-A x; returns the run and how long it took to exit after Ctrl-A x.
 */
async function stopWithCtrlAx(label: string, args: readonly string[]): Promise<{ rep: VmRun; stopMs: number }> {
  let sentAt = 0;
  const rep = await runVm(args, {
    label, dir: tmp.dir, timeoutMs: 30_000, script: async (p) => {
      await p.waitFor('>a', 30_000);
      p.write(JUNK);
      await sleep(200);
      sentAt = performance.now();
      p.write('\x01x');
    },
  });
  return { rep, stopMs: performance.now() - sentAt };
}

test('replay is interactive: typed input is ignored with one notice, the replay still matches', { timeout: 120_000 }, async () => {
  const { log, rec } = await longRecording();
  const rep = await runVm(['replay', log], {
    label: 'replay (typed into)', dir: tmp.dir, script: async (p) => {
      await p.waitFor('>', 30_000);
      p.write('x');
      await p.waitFor('a', 30_000);
      p.write('yz\r\n');
      await sleep(300);
      p.write('\x01\x01'); // Ctrl-A Ctrl-A: one Ctrl-A typed for the guest, ignored too
      await p.waitFor('b', 30_000);
      p.write('q'); // would end the recorded guest now
    },
  });
  assertReplayMatches(rec, rep);
  assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, 'Ctrl-A x')), 1, `the notice, once\n${rep.describe}`);
});

test('Ctrl-A x stops a replay at once: status 0, "terminated", the output so far is the recording\'s, stopped before the recorded end', { timeout: 120_000 }, async (t) => {
  const { log, rec } = await longRecording();
  const recFinal = assertRecorded(rec);
  const { rep, stopMs } = await stopWithCtrlAx('replay (Ctrl-A x)', ['replay', log]);
  t.diagnostic(`exited ${Math.round(stopMs)} ms after Ctrl-A x; the recording lasted ${Math.round(rec.wallMs)} ms`);
  assert.equal(rep.timedOut, false, rep.describe);
  assert.deepEqual({ status: rep.status, signal: rep.signal }, { status: 0, signal: null }, rep.describe);
  assert.ok(stopMs < 2000, `the replay exits within 2 s of Ctrl-A x (took ${Math.round(stopMs)} ms; the recording lasted ${Math.round(rec.wallMs)} ms)\n${rep.describe}`);
  const out = rep.stdout.toString('latin1');
  assert.ok(out.endsWith(TERMINATED_TEXT), `the console says ${JSON.stringify(TERMINATED_TEXT)}: ${JSON.stringify(out)}`);
  const shown = rep.stdout.subarray(0, rep.stdout.length - TERMINATED_TEXT.length);
  assert.ok(rec.stdout.subarray(0, shown.length).equals(shown) && shown.length < rec.stdout.length,
    `the output before it is a proper prefix of the recording's: ${JSON.stringify(shown.toString('latin1'))} vs ${JSON.stringify(rec.stdout.toString('latin1'))}`);
  const m = /replayvm: replay stopped at instruction (\d+) after (\d+) events\n/.exec(rep.stderr);
  assert.ok(m !== null, `the replay says where it stopped\n${rep.describe}`);
  assert.ok(Number(m[1]) < recFinal.totalSteps, `stopped (instruction ${m[1]}) before the recorded end (${recFinal.totalSteps})`);
  assert.equal(rep.finalState?.totalSteps, Number(m[1]), 'the final state is where the report says it stopped');
  assert.doesNotMatch(rep.stderr, /replay complete|diverged|internal error/, rep.describe);
  assert.equal(countOccurrences(rep.stderr, inputIgnoredNotice(log, 'Ctrl-A x')), 1, `the notice for the typed input, once\n${rep.describe}`);
});

test('the input notice\'s advice holds on every stdio console: if it says "Ctrl-A x quits", Ctrl-A x stops the replay (here -serial stdio -display none)', { timeout: 120_000 }, async () => {
  const { log } = await longRecording();
  const { rep, stopMs } = await stopWithCtrlAx('replay -serial stdio (Ctrl-A x)', withRr([...bare(echoElf), '-serial', 'stdio', '-display', 'none'], 'replay', log));
  const notice = /\r\nreplayvm: replaying .*: console input is ignored([^\r\n]*)\r\n/.exec(rep.stderr);
  assert.ok(notice !== null, `the replay prints the notice for the typed input\n${rep.describe}`);
  if (!notice[1]!.includes('Ctrl-A x')) return; // no promise made: plain stdio has no Ctrl-A keys in QEMU either
  assert.deepEqual({ status: rep.status, signal: rep.signal }, { status: 0, signal: null }, rep.describe);
  assert.match(rep.stderr, /replayvm: replay stopped at instruction \d+ after \d+ events\n/,
    `the notice says ${JSON.stringify(notice[0].trim())}, yet Ctrl-A x did not stop the replay (it exited ${Math.round(stopMs)} ms later)\n${rep.describe}`);
  assert.ok(stopMs < 2000, `it stops within 2 s (took ${Math.round(stopMs)} ms)`);
});

test('with -nographic -serial file:PATH the human monitor owns stdin during a replay: `info status` answers, `quit` stops the replay at once; PATH is left as it was', { timeout: 120_000 }, async () => {
  const { log, rec } = await longRecording();
  const recFinal = assertRecorded(rec);
  const target = join(tmp.dir, 'monitor-replay.txt');
  writeFileSync(target, 'the recording\'s console file');
  // The replay writes under a temporary name beside PATH and renames it only when complete.
  const stagedFile = (): string | undefined => {
    const name = readdirSync(tmp.dir).find((f) => f.startsWith('monitor-replay.txt.replay-'));
    return name === undefined ? undefined : join(tmp.dir, name);
  };
  let file = '';
  let sentAt = 0;
  const rep = await runVm(withRr([...bare(echoElf), '-nographic', '-serial', `file:${target}`], 'replay', log), {
    label: 'replay -serial file: + monitor on stdio', dir: tmp.dir, timeoutMs: 30_000, script: async (p) => {
      await p.waitFor('(qemu) ', 30_000);
      p.write('info status\n');
      await p.waitFor('VM status: running\n', 10_000);
      // The guest runs: its first bytes reach the file.
      const deadline = Date.now() + 20_000;
      for (;;) {
        file = stagedFile() ?? '';
        if (file !== '' && readFileSync(file, 'latin1').startsWith('>a')) break;
        if (Date.now() > deadline || p.exited !== undefined) throw new Error(`no '>a' in ${target}.replay-*`);
        await sleep(20);
      }
      sentAt = performance.now();
      p.write('quit\n');
    },
  });
  const stopMs = performance.now() - sentAt;
  assert.deepEqual({ status: rep.status, signal: rep.signal, timedOut: rep.timedOut }, { status: 0, signal: null, timedOut: false }, rep.describe);
  assert.ok(stopMs < 2000, `the replay exits within 2 s of quit (took ${Math.round(stopMs)} ms)\n${rep.describe}`);
  const m = /replayvm: replay stopped at instruction (\d+) after (\d+) events\n/.exec(rep.stderr);
  assert.ok(m !== null, `the replay says where it stopped\n${rep.describe}`);
  assert.ok(Number(m[1]) < recFinal.totalSteps, `stopped (instruction ${m[1]}) before the recorded end (${recFinal.totalSteps})`);
  const shown = readFileSync(file);
  assert.ok(shown.length > 0 && shown.length < rec.stdout.length && rec.stdout.subarray(0, shown.length).equals(shown),
    `the file holds a proper prefix of the recorded output: ${JSON.stringify(shown.toString('latin1'))}`);
  assert.doesNotMatch(rep.stderr, /console input is ignored/, 'monitor input is not console input');
  assert.equal(readFileSync(target, 'latin1'), 'the recording\'s console file', 'a stopped replay leaves PATH as it was');
  assert.ok(rep.stderr.includes(`the replay's console output is in ${file}; ${target} is unchanged`), `the replay says where its output is\n${rep.describe}`);
});

test('a recording ended with Ctrl-A x replays to its recorded end: the same guest output and end state', { timeout: 120_000 }, async () => {
  const log = join(tmp.dir, 'quit.rrlog');
  const rec = await runVm(['record', '-o', log, '--', ...bare(echoElf), '-nographic'], {
    label: 'record ended by Ctrl-A x', dir: tmp.dir, script: async (p) => {
      await p.waitFor('>', 30_000);
      await p.type('ab', () => 20);
      await p.waitFor('ab', 10_000);
      await sleep(100);
      p.write('\x01x');
    },
  });
  assertRecorded(rec);
  assert.equal(rec.stdout.toString('latin1'), `>ab${TERMINATED_TEXT}`, rec.describe);
  const rep = await runVm(['replay', log], { label: 'replay of a Ctrl-A x end', dir: tmp.dir, stdin: 'null' });
  // "replayvm: terminated" is the host's reply to Ctrl-A x, not guest output: a replay may show it or not.
  const strip = (b: Buffer): Buffer => (b.toString('latin1').endsWith(TERMINATED_TEXT) ? b.subarray(0, b.length - TERMINATED_TEXT.length) : b);
  assertReplayMatches(rec, rep, { recOut: strip(rec.stdout), repOut: strip(rep.stdout) });
});
