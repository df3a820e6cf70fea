import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHuman, checkStatus, sizeText } from './img-report.js';

test('sizeText: three significant digits, the next binary unit from 1000 on (QEMU\'s size_to_str)', () => {
  const cases: ReadonlyArray<readonly [number, string]> = [
    [0, '0 B'], [999, '999 B'], [1000, '0.977 KiB'], [1024, '1 KiB'], [659456, '644 KiB'],
    [4 << 20, '4 MiB'], [1.5 * 2 ** 30, '1.5 GiB'], [1000 * 2 ** 20, '0.977 GiB'], [2 ** 40, '1 TiB'],
  ];
  for (const [bytes, text] of cases) assert.equal(sizeText(bytes), text, String(bytes));
});

test('check summary and status: corruptions and leaks together, an internal error', () => {
  const counts = { corruptions: 2, leaks: 3, checkErrors: 0, totalClusters: 16, allocatedClusters: 4, fragmentedClusters: 1, compressedClusters: 0, imageEndOffset: 327680 };
  assert.equal(checkHuman(counts), '\n2 errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n'
    + '\n3 leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n'
    + '4/16 = 25.00% allocated, 25.00% fragmented, 0.00% compressed clusters\nImage end offset: 327680\n');
  assert.equal(checkStatus(counts), 2);
  assert.equal(checkStatus({ ...counts, corruptions: 0 }), 3);
  assert.equal(checkStatus({ ...counts, checkErrors: 1 }), 1);
  assert.equal(checkStatus({ ...counts, corruptions: 0, leaks: 0 }), 0);
  assert.match(checkHuman({ ...counts, corruptions: 0, leaks: 0, checkErrors: 1 }), /^\n1 internal errors have occurred during the check\.\n/);
});
