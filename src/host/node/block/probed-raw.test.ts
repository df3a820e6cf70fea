import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlockOpenSpec, ClosableBlockBackend } from './block-backend.js';
import { openBlockBackend, probedRawWarning } from './open.js';
import { guessFormat } from './probe.js';

function write(b: ClosableBlockBackend, offset: number, data: Uint8Array): Promise<string | undefined> {
  return new Promise((resolve) => b.write(offset, data, resolve));
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];

function sector(prefix: readonly number[], fill = 0): Uint8Array {
  const s = new Uint8Array(512).fill(fill);
  s.set(prefix);
  return s;
}

test('guessFormat knows the magics QEMU probes', () => {
  assert.equal(guessFormat(sector(QCOW2_MAGIC)), 'qcow2');
  assert.equal(guessFormat(sector([0x51, 0x45, 0x44, 0])), 'qed');
  const vdi = new Uint8Array(512);
  vdi.set([0x7f, 0x10, 0xda, 0xbe], 0x40);
  assert.equal(guessFormat(vdi), 'vdi');
  assert.equal(guessFormat(sector([...'conectix'].map((c) => c.charCodeAt(0)))), 'vpc');
  assert.equal(guessFormat(sector([0x51, 0x46, 0x49])), 'raw');
  assert.equal(guessFormat(new Uint8Array(2)), 'raw');
  assert.equal(guessFormat(sector([], 0xff)), 'raw');
});

test('a probed raw image: QEMU\'s warning when writable, and no write may make sector 0 look like another format', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-probe-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(4096).fill(7));
  const spec = (over: Partial<BlockOpenSpec>): BlockOpenSpec => ({ file: path, readOnly: false, snapshot: false, cache: 'writeback', ...over });
  const warnings: string[] = [];
  const b = await openBlockBackend(spec({}), (w) => warnings.push(w));
  assert.deepEqual(warnings, [probedRawWarning(path)]);
  assert.match(warnings[0]!, /^Image format was not specified for '.*disk\.img' and probing guessed raw\. Automatically detecting the format is dangerous for raw images, write operations on block 0 will be restricted\. Specify the 'raw' format explicitly to remove the restrictions\.$/);
  const refusal = /^write to sector 0 refused: the image's format was probed as raw and the data would make it probe as qcow2 \(give format=raw to allow it\)$/;
  assert.match(await write(b, 0, sector(QCOW2_MAGIC)) ?? '', refusal);
  assert.match(await write(b, 0, new Uint8Array(QCOW2_MAGIC)) ?? '', refusal); // partial: merged with the old sector
  assert.equal(await write(b, 0, sector([1, 2, 3])), undefined);
  assert.equal(await write(b, 512, sector(QCOW2_MAGIC)), undefined); // sector 1 may hold anything
  assert.equal(await write(b, 0, new Uint8Array([0x51, 0x46, 0x49])), undefined);
  // With the first three magic bytes in place, the fourth would complete it.
  assert.match(await write(b, 3, new Uint8Array([0xfb])) ?? '', refusal);
  await b.close();
  const bytes = new Uint8Array(readFileSync(path));
  assert.deepEqual([...bytes.subarray(0, 4)], [0x51, 0x46, 0x49, 0]); // the refused writes left nothing
  assert.deepEqual(bytes.subarray(512, 1024), sector(QCOW2_MAGIC));

  // format=raw given: no warning, no restriction; read-only and snapshot drives: no warning.
  for (const over of [{ readOnly: true }, { snapshot: true }, { format: 'raw' as const }]) {
    const quiet: string[] = [];
    const d = await openBlockBackend(spec(over), (w) => quiet.push(w));
    assert.deepEqual(quiet, []);
    if (!d.readOnly) assert.equal(await write(d, 0, sector(QCOW2_MAGIC)), undefined);
    await d.close();
  }
  assert.equal(guessFormat(new Uint8Array(readFileSync(path))), 'qcow2'); // format=raw wrote it
});
