import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdtWriter, FdtWriterError } from './fdt-writer.js';
import { FdtError, findNode, parseFdt, parseFdtBlob, propCells, propStrings } from './fdt-reader.js';

function sample(): Uint8Array {
  const w = new FdtWriter();
  w.beginNode('');
  w.propU32('#address-cells', 2);
  w.propStrings('compatible', 'a,b', 'c');
  w.beginNode('child@10');
  w.propU64('reg', 0x10, 0x1_0000_0000n);
  w.propEmpty('flag');
  w.propString('compatible', 'x'); // name reused from the strings table
  w.endNode();
  w.endNode();
  return w.finish({ bootCpuId: 3, reserve: [{ address: 0x80000000, size: 0x1000 }] });
}

test('writer output parses back, with header fields and reservations', () => {
  const blob = sample();
  const parsed = parseFdtBlob(blob);
  assert.equal(parsed.version, 17);
  assert.equal(parsed.bootCpuId, 3);
  assert.deepEqual(parsed.reserve, [{ address: 0x80000000n, size: 0x1000n }]);
  const root = parseFdt(blob);
  assert.equal(root.name, '');
  assert.deepEqual(propCells(root.props.get('#address-cells')!), [2]);
  assert.deepEqual(propStrings(root.props.get('compatible')!), ['a,b', 'c']);
  const child = findNode(root, '/child@10')!;
  assert.deepEqual(propCells(child.props.get('reg')!), [0, 0x10, 1, 0]);
  assert.equal(child.props.get('flag')!.length, 0);
  assert.deepEqual(propStrings(child.props.get('compatible')!), ['x']);
  assert.equal(findNode(root, '/nope'), undefined);
});

test('writer rejects misuse', () => {
  const w = new FdtWriter();
  assert.throws(() => w.beginNode('x'), FdtWriterError);
  assert.throws(() => w.endNode(), FdtWriterError);
  w.beginNode('');
  assert.throws(() => w.finish(), FdtWriterError);
  assert.throws(() => w.propU32('bad', 2 ** 32), FdtWriterError);
  assert.throws(() => w.beginNode('a/b'), FdtWriterError);
  assert.equal(w.allocPhandle(), 1);
  assert.equal(w.allocPhandle(), 2);
});

test('reader errors name the offset', () => {
  const blob = sample();
  const badMagic = blob.slice();
  badMagic[0] = 0;
  assert.throws(() => parseFdt(badMagic), (e: unknown) => e instanceof FdtError && e.offset === 0 && /magic/.test(e.message));
  assert.throws(() => parseFdt(blob.subarray(0, 20)), (e: unknown) => e instanceof FdtError && /truncated/.test(e.message));
  assert.throws(() => parseFdt(blob.subarray(0, blob.length - 4)), (e: unknown) => e instanceof FdtError && /truncated/.test(e.message));
  const badStrings = blob.slice();
  new DataView(badStrings.buffer).setUint32(12, 0xffff);
  assert.throws(() => parseFdt(badStrings), (e: unknown) => e instanceof FdtError && e.offset === 12 && /out of range/.test(e.message));
  const badToken = blob.slice();
  const offStruct = new DataView(blob.buffer).getUint32(8);
  new DataView(badToken.buffer).setUint32(offStruct, 7);
  assert.throws(() => parseFdt(badToken), (e: unknown) => e instanceof FdtError && e.offset === offStruct && /token/.test(e.message));
});
