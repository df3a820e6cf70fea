import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareOverlays, overlayPath, readOverlayFile, writeOverlayFile } from './overlay-file.js';

const sector = (fill: number): Uint8Array => new Uint8Array(512).fill(fill);

test('a disk overlay round-trips, and differences name the sector and byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-overlay-'));
  try {
    const path = overlayPath(join(dir, 'x.rrlog'), 7);
    assert.match(path, /x\.rrlog\.virtio7\.overlay$/);
    assert.equal(writeOverlayFile(path, [[3, sector(1)], [70000, sector(2)]]), 2);
    const back = readOverlayFile(path);
    assert.deepEqual([...back.keys()], [3, 70000]);
    assert.deepEqual(back.get(70000), sector(2));
    assert.equal(compareOverlays(back, new Map([[3, sector(1)], [70000, sector(2)]])), undefined);
    const changed = sector(2);
    changed[17] = 9;
    assert.equal(compareOverlays(back, new Map([[3, sector(1)], [70000, changed]])), 'sector 70000 differs at byte 17');
    assert.equal(compareOverlays(back, new Map([[3, sector(1)]])), 'sector 70000 written in the recording only');
    assert.equal(compareOverlays(new Map(), new Map([[5, sector(0)]])), 'sector 5 written in the replay only');
    writeFileSync(path, 'garbage');
    assert.throws(() => readOverlayFile(path), /not a replayvm disk overlay \(bad magic at offset 0\)/);
    writeFileSync(path, new Uint8Array([...new TextEncoder().encode('RVMOVL1\n'), 1, 2, 3]));
    assert.throws(() => readOverlayFile(path), /truncated overlay/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
