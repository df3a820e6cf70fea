import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ReplayLogError, encodeHeader, readLog } from '../../../replay/index.js';
import { sampleEvents, sampleHeader } from '../../../../test/support/replay/events.js';
import { describeImage, LogFileError, nodeDecompress, openLogReader, openLogWriter, readLogFile } from './log-file.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'replayvm-log-'));
}

test('a log file round-trips; the reader streams it chunk by chunk', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'a.rlog');
    const { created: _c, ...fields } = sampleHeader();
    const w = openLogWriter(path, fields, { chunkBytes: 100 });
    const events = sampleEvents();
    for (const e of events) w.append(e);
    w.close();
    assert.equal(statSync(path).size, w.stats.bytes);
    const r = readLogFile(path);
    assert.deepEqual(r.events, events);
    assert.equal(r.report.status, 'complete');
    assert.match(r.header.body.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(r.header.body.machine, sampleHeader().machine);
    // the same through the in-memory reader
    assert.deepEqual(readLog(readFileSync(path), { decompress: nodeDecompress }).events, events);
    const reader = openLogReader(path);
    let chunks = 0;
    for (const c of reader.chunks()) {
      assert.ok(c.events.length > 0);
      chunks++;
    }
    assert.ok(chunks >= 4, `${chunks} chunks`);
    assert.equal(reader.report?.chunks, chunks);
    reader.close();
    reader.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an existing file is never overwritten unless asked; file errors are one line', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'keep.rlog');
    writeFileSync(path, 'precious');
    assert.throws(() => openLogWriter(path, sampleHeader()), (e: unknown) =>
      e instanceof LogFileError && e.message === `replay log '${path}' already exists (refusing to overwrite it)`);
    assert.equal(readFileSync(path, 'utf8'), 'precious');
    const w = openLogWriter(path, sampleHeader(), { overwrite: true });
    w.append({ kind: 'end', icount: 0, reason: 'quit', exitCode: 0 });
    w.close();
    assert.equal(readLogFile(path).report.status, 'complete');
    assert.throws(() => openLogWriter(join(dir, 'no/such/dir.rlog'), sampleHeader()), (e: unknown) =>
      e instanceof LogFileError && /^cannot create replay log '.*dir\.rlog': No such file or directory$/.test(e.message));
    assert.throws(() => openLogReader(join(dir, 'missing.rlog')), (e: unknown) =>
      e instanceof LogFileError && /^cannot open replay log '.*missing\.rlog': No such file or directory$/.test(e.message));
    // a header the writer refuses leaves no file behind
    const bad = join(dir, 'bad.rlog');
    assert.throws(() => openLogWriter(bad, { ...sampleHeader(), images: [{ role: 'x', path: 'y', sha256: 'nope', size: 0 }] }), RangeError);
    assert.throws(() => statSync(bad), /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('describeImage: size and sha256', () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'img.bin');
    const data = Buffer.alloc(3 << 20, 7);
    data[12345] = 1;
    writeFileSync(path, data);
    assert.deepEqual(describeImage('kernel', path), {
      role: 'kernel', path, size: data.length, sha256: createHash('sha256').update(data).digest('hex'),
    });
    assert.throws(() => describeImage('kernel', join(dir, 'nope')), LogFileError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a 100 MB non-log file, and a header followed by 100 MB of zeros, fail at once', () => {
  const dir = tempDir();
  try {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'MZ junk');
    truncateSync(junk, 100 << 20);
    let t = performance.now();
    assert.throws(() => openLogReader(junk), (e: unknown) => e instanceof ReplayLogError && e.message === 'not a replayvm log (bad magic at offset 0)');
    assert.ok(performance.now() - t < 1000);
    const zeros = join(dir, 'zeros.rlog');
    const h = encodeHeader(sampleHeader());
    writeFileSync(zeros, h);
    truncateSync(zeros, 100 << 20);
    t = performance.now();
    const r = readLogFile(zeros);
    assert.ok(performance.now() - t < 1000);
    assert.equal(r.report.reason, `bad chunk magic at offset ${h.length}`);
    // a chunk header claiming 16 MiB just before the end of the file: truncated, nothing allocated beyond the file
    const claim = join(dir, 'claim.rlog');
    const fd = openSync(claim, 'w');
    writeSync(fd, h);
    const head = Buffer.alloc(25);
    head.write('CHNK', 0, 'latin1');
    head.writeUInt32LE(16 << 20, 4);
    head.writeUInt32LE(16 << 20, 8);
    writeSync(fd, head);
    closeSync(fd);
    assert.match(readLogFile(claim).report.reason!, /^truncated chunk at offset \d+ \(it is 16777245 bytes, the file has 25 left\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const CHILD = `
import { writeSync } from 'node:fs';
const { openLogWriter } = await import(process.argv[1]);
const w = openLogWriter(process.argv[2], { replayvm: 'test', machine: {}, images: [] }, { chunkBytes: 512 });
for (let i = 0; i < 50_000_000; i++) {
  w.append({ kind: 'console-input', icount: i * 10, bytes: Uint8Array.of(i & 0xff, (i >> 8) & 0xff) });
  if (i % 64 === 0) w.flushIfDue(Date.now());
  if (i === 5000) writeSync(1, 'ready\\n');
}
w.close();
`;

test('a recorder killed with SIGKILL leaves a log whose complete chunks read back', async () => {
  const dir = tempDir();
  try {
    const path = join(dir, 'killed.rlog');
    const module = fileURLToPath(new URL('./log-file.js', import.meta.url));
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, module, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) setTimeout(resolve, 30);
      });
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');
    const r = readLogFile(path);
    assert.ok(r.report.status === 'no-end' || r.report.status === 'truncated', r.report.reason);
    assert.ok(r.events.length > 5000, `${r.events.length} events`);
    r.events.forEach((e, i) => {
      assert.deepEqual(e, { kind: 'console-input', icount: i * 10, bytes: Uint8Array.of(i & 0xff, (i >> 8) & 0xff) });
    });
    assert.equal(r.report.lastIcount, (r.events.length - 1) * 10);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
