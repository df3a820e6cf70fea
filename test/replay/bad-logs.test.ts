/**
 * Damaged or foreign files given to `replayvm replay`: every one ends quickly with one line on
 * stderr naming the byte offset of the problem; never a hang, a crash or an internal error.
 * Files whose header is unusable are refused before any machine starts (status 1, < 5 s);
 * a log damaged after its header replays its whole chunks, then says "replay log damaged at
 * offset N" and exits 4; a log cut short (a crashed recording) replays its whole chunks, says
 * it is incomplete and exits 5.
 */
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { EXIT_LOG_DAMAGED, EXIT_LOG_INCOMPLETE } from '../../src/host/exit-status.js';
import { join } from 'node:path';
import { crc32 } from '../../src/replay/index.js';
import { readLogFile } from '../../src/host/node/replay/log-file.js';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { makeTempDir, sleep, startVm, type VmProcess } from '../helpers/rr-driver.js';

const tmp = makeTempDir('bad-logs');
after(() => tmp.remove());

let valid: Buffer = Buffer.alloc(0);
let headerLength = 0;
/** [offset, stored payload length] of every chunk of the valid log. */
const chunks: Array<[number, number]> = [];

before(async () => {
  const elf = join(tmp.dir, 'echo.elf');
  writeFileSync(elf, guestElf(echoProgram()));
  const log = join(tmp.dir, 'valid.rrlog');
  const rec = startVm(['record', '-o', log, '--', '-M', 'virt', '-nographic', '-bios', 'none', '-kernel', elf], 60_000);
  await rec.waitFor('>', 30_000);
  for (const ch of 'abcdef') {
    await sleep(250); // > the 200 ms flush interval: about one chunk per key
    rec.write(ch);
  }
  rec.write('q');
  await rec.exit();
  assert.deepEqual(rec.exited, { status: 0, signal: null }, rec.describe());
  valid = readFileSync(log);
  const { header, report } = readLogFile(log);
  assert.equal(report.status, 'complete');
  headerLength = header.length;
  for (let off = headerLength; off < valid.length;) {
    const p = valid.readUInt32LE(off + 4);
    chunks.push([off, p]);
    off += 29 + p;
  }
  assert.ok(chunks.length >= 3, `the valid log has several chunks (${chunks.length})`);
});

/** Writes `bytes` to a file and replays it; returns the finished process. */
async function replayFile(name: string, bytes: Uint8Array, timeoutMs = 30_000): Promise<VmProcess> {
  const path = join(tmp.dir, name);
  writeFileSync(path, bytes);
  const p = startVm(['replay', path], timeoutMs, undefined, 'null');
  await p.exit();
  return p;
}

/** The run was refused before any machine started: status 1, quickly, one line naming `re` and an offset. */
function assertRefused(p: VmProcess, re: RegExp, offset?: number): void {
  const what = p.describe();
  assert.equal(p.timedOut, false, `no hang: ${what}`);
  assert.equal(p.exited?.status, 1, `non-zero exit: ${what}`);
  assert.ok(p.wallMs < 5000, `refused in under 5 s (${Math.round(p.wallMs)} ms): ${what}`);
  assert.equal(p.stdout.length, 0, `no machine ran: ${what}`);
  const lines = p.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${what}`);
  assert.match(lines[0]!, /^replayvm replay: /, what);
  assert.match(lines[0]!, re, what);
  assert.match(lines[0]!, offset === undefined ? /offset \d+/ : new RegExp(`offset ${offset}\\b`), `names the byte offset: ${what}`);
  assert.doesNotMatch(p.stderr, /internal error|\n\s+at /, what);
}

/** A copy of the valid log with its header's CRC recomputed after `edit`. */
function withHeader(edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(valid);
  edit(b);
  const bodyEnd = 16 + b.readUInt32LE(12);
  b.writeUInt32LE(crc32(b.subarray(0, bodyEnd)), bodyEnd);
  return b;
}

test('a file that does not exist: refused at once', async () => {
  const p = startVm(['replay', join(tmp.dir, 'missing.rrlog')], 30_000, undefined, 'null');
  await p.exit();
  assert.equal(p.exited?.status, 1, p.describe());
  assert.match(p.stderr, /^replayvm replay: \S+missing\.rrlog: no such file\n$/, p.describe());
  assert.ok(p.wallMs < 5000);
});

test('an empty file: "not a replayvm log (empty file, offset 0)"', async () => {
  assertRefused(await replayFile('empty.rrlog', new Uint8Array(0)), /not a replayvm log \(empty file, offset 0\)/, 0);
});

test('4 KiB of garbage: bad magic at offset 0', async () => {
  const g = randomBytes(4096);
  g[0] = 0x00;
  assertRefused(await replayFile('garbage.rrlog', g), /not a replayvm log \(bad magic at offset 0\)/, 0);
});

test('32 MiB of garbage: refused as fast (only the magic is read)', async () => {
  const g = Buffer.alloc(32 << 20, 0xa5);
  assertRefused(await replayFile('big-garbage.rrlog', g), /bad magic at offset 0/, 0);
});

test('a log with a wrong magic byte: bad magic at offset 0', async () => {
  const b = Buffer.from(valid);
  b[3]! ^= 0x20;
  assertRefused(await replayFile('wrong-magic.rrlog', b), /bad magic at offset 0/, 0);
});

test('a header cut inside its fixed part: truncated header, naming where the file ends', async () => {
  assertRefused(await replayFile('cut-10.rrlog', valid.subarray(0, 10)), /truncated header/, 10);
});

test('a header cut inside its JSON body: truncated header, naming an offset', async () => {
  assertRefused(await replayFile('cut-body.rrlog', valid.subarray(0, 40)), /truncated header/);
});

test('a header cut just before its CRC: truncated header', async () => {
  assertRefused(await replayFile('cut-crc.rrlog', valid.subarray(0, headerLength - 2)), /truncated header/);
});

test('a header whose body length is huge: refused before reading it, offset 12', async () => {
  const b = Buffer.from(valid);
  b.writeUInt32LE(0x7fffffff, 12);
  assertRefused(await replayFile('huge-header.rrlog', b), /header length 2147483647 at offset 12 exceeds the maximum/, 12);
});

test('a log of a newer major version: refused naming the version and offset 8', async () => {
  const b = withHeader((x) => x.writeUInt16LE(3, 8));
  assertRefused(await replayFile('v3.rrlog', b), /log version 3\.\d+ at offset 8 is newer than this replayvm/, 8);
});

test('a header whose JSON body was changed: header CRC mismatch at offset 16+B', async () => {
  const b = Buffer.from(valid);
  const i = b.indexOf('"replayvm"', 16);
  b[i + 2]! ^= 0x01;
  assertRefused(await replayFile('header-crc.rrlog', b), /header CRC mismatch/, headerLength - 4);
});

test('a header whose JSON is valid but lacks fields: refused naming the field and offset 16', async () => {
  const b = Buffer.from(valid);
  const bodyLength = b.readUInt32LE(12);
  const json = Buffer.from(JSON.stringify({ replayvm: '0.1.0', created: 'x', machine: { argv: [] } }).padEnd(bodyLength, ' '));
  assert.ok(json.length === bodyLength);
  json.copy(b, 16);
  b.writeUInt32LE(crc32(b.subarray(0, 16 + bodyLength)), 16 + bodyLength);
  assertRefused(await replayFile('no-images.rrlog', b), /images/, 16);
});

// --- damage after a valid header: the machine starts, the whole chunks replay, then the damage is named.

/**
 * Ends within the timeout with `status`, no internal error, one stderr line naming `re` and
 * `offset`.
 */
function assertDamageNamed(p: VmProcess, re: RegExp, offset: number, status: number): void {
  const what = p.describe();
  assert.equal(p.timedOut, false, `no hang: ${what}`);
  assert.equal(p.exited?.status, status, what);
  assert.ok(p.wallMs < 30_000, `ends in under 30 s: ${what}`);
  const line = p.stderr.split('\n').find((l) => re.test(l));
  assert.ok(line !== undefined, `stderr names the damage (${String(re)}): ${what}`);
  assert.match(line, new RegExp(`offset ${offset}\\b`), `at offset ${offset}: ${what}`);
  assert.doesNotMatch(p.stderr, /internal error|replay complete/, what);
}

test('a valid header then 20 MB of zeros: damaged at the first chunk\'s offset, promptly; exit 4', async () => {
  const b = Buffer.concat([valid.subarray(0, headerLength), Buffer.alloc(20_000_000)]);
  const p = await replayFile('zeros.rrlog', b);
  assertDamageNamed(p, new RegExp(`replay log damaged at offset ${headerLength}: bad chunk magic`), headerLength, EXIT_LOG_DAMAGED);
  assert.ok(p.wallMs < 5000, `promptly (${Math.round(p.wallMs)} ms)`);
});

test('a payload byte flipped in a middle chunk (CRC not fixed): damaged at that chunk\'s offset, the chunks before replay; exit 4', async () => {
  const [off, p] = chunks[Math.floor(chunks.length / 2)]!;
  const next = chunks[Math.floor(chunks.length / 2) + 1]![0];
  const b = Buffer.from(valid);
  b[off + 25 + Math.floor(p / 2)]! ^= 0x10;
  const r = await replayFile('chunk-crc.rrlog', b);
  assertDamageNamed(r, new RegExp(`replay log damaged at offset ${off}: CRC mismatch in chunk at offset ${off}; the next intact chunk is at offset ${next}`), off, EXIT_LOG_DAMAGED);
  assert.ok(r.stdout.toString('latin1').startsWith('>'), `the chunks before the damage replayed: ${r.describe()}`);
});

test('zeroed bytes across two middle chunks: damaged at the first, exit 4', async () => {
  const i = Math.floor(chunks.length / 2) - 1;
  const [off] = chunks[i]!;
  const b = Buffer.from(valid);
  b.fill(0, off + 20, chunks[i + 1]![0] + 10);
  assertDamageNamed(await replayFile('zeroed.rrlog', b), new RegExp(`replay log damaged at offset ${off}: `), off, EXIT_LOG_DAMAGED);
});

test('a chunk whose length points past the end of the file, with chunks after it: damaged, not a crash; exit 4', async () => {
  const [off] = chunks[1]!;
  const b = Buffer.from(valid);
  b.writeUInt32LE(1 << 23, off + 4);
  assertDamageNamed(await replayFile('chunk-length.rrlog', b), /truncated chunk at offset \d+ \(.*\), but an intact chunk follows/, off, EXIT_LOG_DAMAGED);
});

test('a log cut in the middle of a chunk (a crashed recording): incomplete, the whole chunks replay; exit 5', async () => {
  const [off, p] = chunks[chunks.length - 1]!;
  const r = await replayFile('cut-chunk.rrlog', valid.subarray(0, off + Math.floor((25 + p) / 2)));
  assertDamageNamed(r, /incomplete log \(crashed recording\): .*; then truncated chunk at offset/, off, EXIT_LOG_INCOMPLETE);
  assert.ok(r.stdout.toString('latin1').startsWith('>'), `the chunks before the cut replayed: ${r.describe()}`);
});

test('a header and no chunk at all: the replay ends at once, saying the log is incomplete; exit 5', async () => {
  const r = await replayFile('header-only.rrlog', valid.subarray(0, headerLength));
  assert.equal(r.timedOut, false, r.describe());
  assert.equal(r.exited?.status, EXIT_LOG_INCOMPLETE, r.describe());
  assert.ok(r.wallMs < 5000, r.describe());
  assert.match(r.stderr, /incomplete log \(crashed recording\): it reaches no event in its 0 whole chunks/, r.describe());
  assert.match(r.stderr, new RegExp(`offset ${headerLength}\\b`), r.describe());
});
