import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLogWriter } from '../host/node/replay/log-file.js';
import { sampleEvents, sampleHeader } from '../../test/support/replay/events.js';
import { dumpMain } from './dump.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function dump(args: string[], path: string): Promise<Run> {
  let out = '';
  let err = '';
  const code = await dumpMain(args, { stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out: out.split(path).join('LOG'), err: err.split(path).join('LOG') };
}

function withLog(fn: (path: string, dir: string) => Promise<void>, options: { end?: boolean } = {}): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'replayvm-dump-'));
    try {
      const path = join(dir, 'sample.rlog');
      const w = openLogWriter(path, sampleHeader(), { chunkBytes: 1024 });
      const events = sampleEvents();
      for (const e of options.end === false ? events.slice(0, -1) : events) w.append(e);
      w.close();
      await fn(path, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const TEXT = `replay log LOG: format 2.0, header 353 bytes
recorded by replayvm 0.1.0 on 2024-05-01T12:00:00.000Z
machine {"argv":["-M","virt","-m","128M","-icount","shift=3,rr=record,rrfile=x.rlog"],"ramBytes":134217728,"smp":1,"icountShift":3}
image kernel "guest/demo.elf" 12345 bytes sha256=abababababababababababababababababababababababababababababababab
          icount  kind             details
               0  console-input    6 bytes "ls -l\\n"
               0  clock-read       clock=host value=1700000000123456800
              17  clock-read       clock=realtime value=12.5
            1000  virtio-doorbell  slot=3
            1200  block-complete   slot=3 request=0 data=4096 bytes [01 20 3f 5e 7d 9c bb da f9 18 37 56 75 94 b3 d2 ...]
            1300  block-complete   slot=3 request=1
            1400  block-complete   slot=3 request=2 error="Input/output error"
            1400  block-complete   slot=3 request=3 error="short read" data=3 bytes [02 21 40]
            2000  entropy          slot=5 request=7 64 bytes [03 22 41 60 7f 9e bd dc fb 1a 39 58 77 96 b5 d4 ...]
            3000  net-receive      slot=1 frame=60 bytes [04 23 42 61 80 9f be dd fc 1b 3a 59 78 97 b6 d5 ...]
            4000  timer            id=2 shift=3
            5000  request          what=reset cause="guest-reset"
            5001  request          what=shutdown cause="guest-shutdown" exitCode=-3
            5002  request          what=powerdown cause="host-qmp-system-powerdown" exitCode=0
            6000  monitor          command="system_reset ✓"
            7000  interrupt        hart=1 cause=0x80000007
            8000  digest           hart0.pc=0x80000000 hart0.regs=0123456789abcdef hart1.pc=0xfffffffc hart1.regs=ffffffffffffffff devices=00000000deadbeef ram=a5a5a5a55a5a5a5a ramPages=32768
9007199254740990  console-input    3 bytes "\\x00\\xff\\n"
9007199254740991  end              reason=shutdown exitCode=0
complete recording: 2 chunks, 19 events, instructions 0..9007199254740991, ended by shutdown (exit code 0)
`;

test('dump: text output', withLog(async (path) => {
  const r = await dump([path], path);
  assert.equal(r.err, '');
  assert.equal(r.code, 0);
  assert.equal(r.out, TEXT);
}));

test('dump --json: header line, one line per event with base64 payloads, the report', withLog(async (path) => {
  const r = await dump([path, '--json'], path);
  assert.equal(r.code, 0);
  const lines = r.out.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines[0], { header: { format: '2.0', length: 353, ...sampleHeader() } });
  const events = sampleEvents();
  assert.equal(lines.length, events.length + 2);
  events.forEach((e, i) => {
    const back = { ...lines[i + 1] };
    for (const k of ['bytes', 'data', 'frame']) {
      if (typeof back[k] === 'string') back[k] = new Uint8Array(Buffer.from(back[k] as string, 'base64'));
    }
    assert.deepEqual(back, e);
  });
  assert.deepEqual(lines[lines.length - 1], {
    log: {
      complete: true, status: 'complete', chunks: 2, events: 19, skipped: 0, firstIcount: 0, lastIcount: 2 ** 53 - 1,
      stoppedAtOffset: 1069, fileSize: 1069, reason: null, errorOffset: null,
    },
  });
}));

test('dump --stats, text and JSON', withLog(async (path) => {
  const r = await dump([path, '--stats'], path);
  assert.equal(r.code, 0);
  assert.equal(r.out, `replay log LOG: format 2.0
file            1069 bytes (header 353, chunk framing 58, payloads 658)
chunks          2 (2 compressed)
payload         658 bytes stored, 4491 uncompressed (ratio 6.83)
events          19
icount range    0..9007199254740991
kind                 count  encoded bytes  payload bytes
console-input            2             22              9
virtio-doorbell          1              4              0
block-complete           4           4153           4099
entropy                  1             70             64
net-receive              1             65             60
clock-read               2             22              0
timer                    1              5              0
request                  3             68              0
monitor                  1             20              0
interrupt                1              9              0
digest                   1             49              0
end                      1              4              0
complete        yes (shutdown, exit code 0)
`);
  const j = await dump([path, '--stats', '--json'], path);
  const s = JSON.parse(j.out) as { chunks: number; perKind: Record<string, { count: number }>; log: { complete: boolean } };
  assert.equal(s.chunks, 2);
  assert.equal(s.perKind['block-complete']?.count, 4);
  assert.equal(s.log.complete, true);
}));

test('dump: a damaged log prints what could be read, then the damage with its offset, exit 4', withLog(async (path) => {
  const bytes = readFileSync(path);
  bytes[bytes.length - 10]! ^= 0x40; // inside the last chunk
  writeFileSync(path, bytes);
  const r = await dump([path], path);
  assert.equal(r.code, 4);
  const m = /^replayvm dump: LOG: replay log damaged at offset (\d+): CRC mismatch in chunk at offset (\d+) \(its 1 whole chunk before it reach instruction \d+\)\n$/.exec(r.err);
  assert.ok(m !== null, r.err);
  assert.equal(m[1], m[2]);
  assert.ok(r.out.includes('            1200  block-complete   slot=3 request=0 data=4096 bytes'));
  assert.ok(!r.out.includes('  end  '));
  assert.match(r.out, /\nreplay log damaged at offset \d+: CRC mismatch in chunk at offset \d+ \(its 1 whole chunk before it reach instruction \d+\)\n$/);
  const s = await dump([path, '--stats'], path);
  assert.equal(s.code, 4);
  assert.match(s.out, /\ncomplete {8}no: replay log damaged at offset/);
}));

test('dump: a crashed recording (no end event) prints every event, then a note; exit 5', withLog(async (path) => {
  const r = await dump([path], path);
  assert.equal(r.code, 5);
  assert.equal(r.out.split('\n').filter((l) => /^ *\d+ {2}/.test(l)).length, 18);
  assert.match(r.out, /\nincomplete log \(crashed recording\): it reaches instruction \d+ in its 2 whole chunks; then the log ends at offset 1\d+ without an end event\n$/);
  assert.match(r.err, /^replayvm dump: LOG: incomplete log \(crashed recording\): it reaches instruction \d+ in its 2 whole chunks; then the log ends at offset 1\d+ without an end event\n$/);
}, { end: false }));

test('dump: not a log, missing file, usage', withLog(async (path, dir) => {
  const other = join(dir, 'other.txt');
  writeFileSync(other, 'hello world, not a log');
  let r = await dump([other], other);
  assert.deepEqual(r, { code: 1, out: '', err: 'replayvm dump: LOG: not a replayvm log (bad magic at offset 0)\n' });
  r = await dump([join(dir, 'missing')], dir);
  assert.deepEqual(r, { code: 1, out: '', err: "replayvm dump: cannot open replay log 'LOG/missing': No such file or directory\n" });
  r = await dump([], path);
  assert.equal(r.code, 2);
  assert.match(r.err, /^replayvm dump: no log file given\nusage: replayvm dump \[--json\] \[--stats\] LOG/);
  r = await dump([path, '--frob'], path);
  assert.equal(r.code, 2);
  assert.match(r.err, /^replayvm dump: unknown option '--frob'\n/);
  r = await dump(['--help'], path);
  assert.equal(r.code, 0);
  assert.match(r.out, /^usage: replayvm dump \[--json\] \[--stats\] LOG/);
}));
