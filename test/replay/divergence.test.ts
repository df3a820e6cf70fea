/**
 * A replay that cannot follow its log must say so and stop, never hang: a log rebuilt with ONE
 * payload byte of one event changed (console input; a block read's data) replays to a
 * divergence report (exit status 3) naming an instruction count at or after the changed
 * event, what the log expected there, and the last digest that matched. A replay whose images
 * changed since the recording is refused before the machine starts, naming the image.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeCompress, readLogFile } from '../../src/host/node/replay/log-file.js';
import { LogWriter, type ReplayEvent } from '../../src/replay/index.js';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { copyKernel, linuxMachine, makeTempDir, sha256File, shellSteps, startVm, zeroImage, type VmProcess } from '../helpers/rr-driver.js';

const tmp = makeTempDir('divergence');
after(() => tmp.remove());

/** Writes `events` as a new log at `path` with `source`'s header. */
function rewriteLog(source: string, path: string, events: readonly ReplayEvent[]): void {
  const { header } = readLogFile(source);
  const parts: Uint8Array[] = [];
  const writer = new LogWriter({ write: (b) => parts.push(b.slice()), sync: () => {} }, {
    replayvm: header.body.replayvm, created: header.body.created, machine: header.body.machine, images: header.body.images,
    ...(Array.isArray(header.body['checkpoints']) ? { checkpoints: header.body['checkpoints'] as string[] } : {}),
  }, { compress: nodeCompress() });
  for (const e of events) writer.append(e);
  writer.close();
  writeFileSync(path, Buffer.concat(parts));
}

/** Runs `replayvm ARGS` to its end (stdin open); returns the process. */
async function run(args: readonly string[], timeoutMs = 120_000): Promise<VmProcess> {
  const p = startVm(args, timeoutMs);
  await p.exit();
  return p;
}

// One Linux recording (console input, entropy, block reads), shared by the divergence tests.
let recorded: { log: string; stdout: Buffer; events: ReplayEvent[] } | undefined;
let recordError: unknown;

before(async () => {
  try {
    const kernel = copyKernel(tmp.dir);
    const disk = zeroImage(join(tmp.dir, 'disk.img'), 1 << 20);
    writeFileSync(disk, Buffer.from('sector three text'), { flag: 'r+' });
    const log = join(tmp.dir, 'linux.rrlog');
    const rec = startVm(['record', '-o', log, '--', ...linuxMachine(kernel, ['-device', 'virtio-rng-device', '-drive', `file=${disk},format=raw,if=virtio`])], 120_000);
    try {
      for (const s of shellSteps(['echo marker line', 'diskread 0', 'random 8', 'poweroff'])) {
        await rec.waitFor(s.waitFor, 90_000);
        rec.write(s.send ?? '');
      }
      const ex = await rec.exit();
      assert.deepEqual(ex, { status: 0, signal: null }, rec.describe());
    } finally {
      rec.kill();
      await rec.exit();
    }
    recorded = { log, stdout: rec.stdout, events: readLogFile(log).events };
  } catch (e) {
    recordError = e;
  }
});

const DIVERGENCE_RE = /replayvm: replay diverged at instruction (\d+): expected (.+?); found (.+?); (?:last matching digest at instruction (\d+)|no digest matched before)\n/;
const EXPECTED_KINDS = /^(state digest|console input|completion of block request|entropy for request|a \d+-byte frame|queue work|end of recording|interrupt \d+|.* event) .*at instruction \d+/;

/**
 * Changes one payload byte of the first (or `last`) event `pick` accepts, replays, checks the
 * report.
 */
async function divergeOn(name: string, pick: (e: ReplayEvent) => Uint8Array | undefined, newByte: (old: number, bytes: Uint8Array) => { at: number; value: number }, last = false): Promise<string> {
  if (recorded === undefined) throw recordError instanceof Error ? recordError : new Error(String(recordError));
  const events = recorded.events.map((e) => ({ ...e }));
  const matching = events.flatMap((e, i) => (pick(e) !== undefined ? [i] : []));
  const index = (last ? matching.at(-1) : matching[0]) ?? -1;
  assert.ok(index >= 0, `the recording has an event to change (${name}): ${events.map((e) => e.kind).join(',')}`);
  const target = events[index]!;
  const bytes = pick(target)!.slice();
  const { at, value } = newByte(bytes[0]!, bytes);
  assert.notEqual(bytes[at], value);
  bytes[at] = value;
  const key = target.kind === 'console-input' || target.kind === 'entropy' ? 'bytes' : target.kind === 'net-receive' ? 'frame' : 'data';
  events[index] = { ...target, [key]: bytes } as ReplayEvent;
  const log = join(tmp.dir, `${name}.rrlog`);
  rewriteLog(recorded.log, log, events);

  const p = await run(['replay', log], 120_000);
  const what = `replay of ${name} (changed event ${index}: ${target.kind} at instruction ${target.icount}, byte ${at})\n${p.describe()}`;
  assert.equal(p.timedOut, false, `the replay ends by itself: ${what}`);
  assert.deepEqual(p.exited, { status: 3, signal: null }, `a diverging replay exits with status 3: ${what}`);
  const m = DIVERGENCE_RE.exec(p.stderr);
  assert.ok(m !== null, `one-line divergence report: ${what}`);
  const at2 = Number(m[1]);
  assert.ok(at2 >= target.icount, `the divergence is reported at or after the changed event (${at2} >= ${target.icount}): ${what}`);
  assert.match(m[2]!, EXPECTED_KINDS, `the report names the event the log expected: ${what}`);
  assert.ok(m[4] !== undefined, `a digest matched before the changed event (the first is at instruction 0): ${what}`);
  assert.ok(Number(m[4]) <= target.icount, `the last matching digest (${m[4]}) is not after the changed event (${target.icount}): ${what}`);
  assert.ok(Number(m[4]) <= at2);
  assert.doesNotMatch(p.stderr, /replay complete|internal error/, what);
  // The console output up to the changed input is the recording's.
  const n = Math.min(p.stdout.length, recorded.stdout.length);
  assert.ok(n > 0 && p.stdout.subarray(0, 200).equals(recorded.stdout.subarray(0, 200)), `the replay starts like the recording: ${what}`);
  return m[0].trim();
}

test('one console-input byte changed in the log (CRC recomputed): the replay stops with a divergence report, status 3', { timeout: 300_000 }, async (t) => {
  const report = await divergeOn('console-byte',
    (e) => (e.kind === 'console-input' && new TextDecoder().decode(e.bytes).includes('m') ? e.bytes : undefined),
    (_old, bytes) => ({ at: bytes.indexOf(0x6d), value: 0x4d })); // 'm' -> 'M'
  t.diagnostic(report);
});

test('one byte of a block read\'s data changed in the log: the replay stops with a divergence report, status 3', { timeout: 300_000 }, async (t) => {
  // The last read of sector 0 (`diskread 0`): its page stays in the guest's page cache. (A
  // change to a read whose page is later overwritten by the same data cannot be detected by
  // state digests: the states converge again.)
  const report = await divergeOn('block-byte',
    (e) => (e.kind === 'block-complete' && e.data !== undefined && Buffer.from(e.data.subarray(0, 17)).toString('latin1') === 'sector three text' ? e.data : undefined),
    () => ({ at: 0, value: 0x53 }), true); // 's' -> 'S'
  t.diagnostic(report);
});

test('one byte of entropy changed in the log: the replay stops with a divergence report, status 3', { timeout: 300_000 }, async (t) => {
  const report = await divergeOn('entropy-byte',
    (e) => (e.kind === 'entropy' && e.bytes.length > 0 ? e.bytes : undefined),
    (old) => ({ at: 0, value: old ^ 0xff }));
  t.diagnostic(report);
});

/** Replays `events` (a changed copy of the recording's) and returns the divergence report's parts. */
async function replayChanged(name: string, events: readonly ReplayEvent[]): Promise<{ icount: number; expected: string; found: string; line: string }> {
  if (recorded === undefined) throw recordError instanceof Error ? recordError : new Error(String(recordError));
  const log = join(tmp.dir, `${name}.rrlog`);
  rewriteLog(recorded.log, log, events);
  const p = await run(['replay', log], 120_000);
  assert.deepEqual(p.exited, { status: 3, signal: null }, `a diverging replay exits with status 3: ${p.describe()}`);
  const m = DIVERGENCE_RE.exec(p.stderr);
  assert.ok(m !== null, `one-line divergence report: ${p.describe()}`);
  return { icount: Number(m[1]), expected: m[2]!, found: m[3]!, line: m[0].trim() };
}

test('interrupt checkpoints: a logged interrupt with another cause, or one instruction later, is reported where it happens', { timeout: 300_000 }, async (t) => {
  if (recorded === undefined) throw recordError instanceof Error ? recordError : new Error(String(recordError));
  const interrupts = recorded.events.flatMap((e, i) => (e.kind === 'interrupt' ? [i] : []));
  assert.ok(interrupts.length > 100, `the Linux recording has interrupt checkpoints (${interrupts.length})`);
  const index = interrupts[Math.floor(interrupts.length / 2)]!;
  const target = recorded.events[index]!;
  assert.ok(target.kind === 'interrupt');
  const name = (c: number): string => ({
    1: 'supervisor software', 3: 'machine software', 5: 'supervisor timer', 7: 'machine timer', 9: 'supervisor external', 11: 'machine external',
  } as Record<number, string>)[c] ?? '';

  const otherCause = target.cause === 5 ? 9 : 5;
  const cause = await replayChanged('interrupt-cause', recorded.events.map((e, i) => (i === index ? { ...target, cause: otherCause } : e)));
  t.diagnostic(cause.line);
  assert.equal(cause.icount, target.icount, 'reported at the interrupt\'s instruction count');
  assert.equal(cause.expected, `interrupt ${otherCause} (${name(otherCause)}) on hart ${target.hart} at instruction ${target.icount}`);
  assert.equal(cause.found, `interrupt ${target.cause} (${name(target.cause)}) on hart ${target.hart} at instruction ${target.icount}`);

  const later = await replayChanged('interrupt-later', recorded.events.map((e, i) => (i === index ? { ...target, icount: target.icount + 1 } : e)));
  t.diagnostic(later.line);
  assert.match(later.expected, new RegExp(`^interrupt ${target.cause} .* at instruction ${target.icount + 1}$`));
  assert.match(later.found, new RegExp(`^interrupt ${target.cause} .* at instruction ${target.icount}$`));

  const dropped = await replayChanged('interrupt-missing', recorded.events.filter((_, i) => i !== index));
  t.diagnostic(dropped.line);
  assert.match(dropped.found, new RegExp(`^interrupt ${target.cause} .* at instruction ${target.icount}$`), 'an interrupt the log does not have');
});

test('the unchanged rebuilt log still replays completely (the rewriting itself is faithful)', { timeout: 300_000 }, async () => {
  if (recorded === undefined) throw recordError instanceof Error ? recordError : new Error(String(recordError));
  const log = join(tmp.dir, 'unchanged.rrlog');
  rewriteLog(recorded.log, log, recorded.events);
  const p = await run(['replay', log]);
  assert.deepEqual(p.exited, { status: 0, signal: null }, p.describe());
  assert.match(p.stderr, /replay complete/, p.describe());
  assert.ok(p.stdout.equals(recorded.stdout), 'byte-identical output');
});

test('a replay whose kernel or drive image changed since the recording is refused, naming the image', { timeout: 120_000 }, async () => {
  const elf = join(tmp.dir, 'echo-copy.elf');
  writeFileSync(elf, guestElf(echoProgram()));
  const disk = zeroImage(join(tmp.dir, 'echo-disk.img'), 64 << 10);
  const log = join(tmp.dir, 'images.rrlog');
  const machine = ['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elf, '-drive', `file=${disk},format=raw,if=virtio`];
  const rec = startVm(['record', '-o', log, '--', ...machine], 60_000);
  await rec.waitFor('>', 30_000);
  rec.write('hi q');
  await rec.exit();
  assert.deepEqual(rec.exited, { status: 0, signal: null }, rec.describe());

  const ok = await run(['replay', log], 60_000);
  assert.match(ok.stderr, /replay complete/, `unchanged images replay: ${ok.describe()}`);

  const elfBytes = readFileSync(elf);
  const changed = Buffer.from(elfBytes);
  changed.writeUInt8(changed.readUInt8(changed.length - 1) ^ 1, changed.length - 1);
  writeFileSync(elf, changed);
  const k = await run(['replay', log], 60_000);
  const wk = k.describe();
  assert.equal(k.exited?.status, 1, `refused: ${wk}`);
  assert.equal(k.stdout.length, 0, `the machine did not start: ${wk}`);
  assert.ok(k.wallMs < 10_000, `refused quickly: ${wk}`);
  assert.match(k.stderr, new RegExp(`^replayvm replay: kernel ${elf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: no file with sha256 [0-9a-f]{64} at ${elf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(sha256 ${sha256File(elf).slice(0, 16)}\\.\\.\\. differs\\)`), wk);
  assert.equal(k.stderr.trim().split('\n').length, 1, `one line: ${wk}`);
  writeFileSync(elf, elfBytes);

  const diskBytes = readFileSync(disk);
  writeFileSync(disk, Buffer.concat([Buffer.from('x'), diskBytes.subarray(1)]));
  const d = await run(['replay', log], 60_000);
  const wd = d.describe();
  assert.equal(d.exited?.status, 1, `refused: ${wd}`);
  assert.equal(d.stdout.length, 0, `the machine did not start: ${wd}`);
  assert.match(d.stderr, /^replayvm replay: drive \S+ \S+: no file with sha256 [0-9a-f]{64} at .*differs/, wd);
  assert.ok(d.stderr.includes(disk), `names the drive image's path: ${wd}`);
  writeFileSync(disk, diskBytes);
});
