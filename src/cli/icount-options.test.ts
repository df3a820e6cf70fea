import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIcountOption } from './icount-options.js';
import { parseQemuBool } from './option-syntax.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseIcountOption(text), (e: unknown) => e instanceof CliError && e.message === `-icount ${text}: ${message}`);
}

test('shift=N and the implied shift', () => {
  assert.deepEqual(parseIcountOption('3'), { shift: 3, align: false, sleep: true });
  assert.deepEqual(parseIcountOption('shift=0'), { shift: 0, align: false, sleep: true });
  assert.deepEqual(parseIcountOption('shift=0xa'), { shift: 10, align: false, sleep: true });
  assert.deepEqual(parseIcountOption('shift=7,align=on'), { shift: 7, align: true, sleep: true });
  assert.deepEqual(parseIcountOption('shift=7,sleep=off'), { shift: 7, align: false, sleep: false });
  assert.deepEqual(parseIcountOption('auto'), { shift: 'auto', align: false, sleep: true });
  assert.deepEqual(parseIcountOption('shift=auto,sleep=on,align=off'), { shift: 'auto', align: false, sleep: true });
});

test('without shift, icount stays off (as in QEMU)', () => {
  assert.equal(parseIcountOption('sleep=off'), undefined);
  fails('align=on', 'Please specify shift option when using align');
  fails('align=off', 'Please specify shift option when using align');
  fails('rr=record,rrfile=x', 'Please enable icount to use record/replay');
});

test('invalid shifts and combinations', () => {
  fails('shift=11', 'icount: Invalid shift value');
  fails('shift=-1', 'icount: Invalid shift value');
  fails('shift=3x', 'icount: Invalid shift value');
  fails('', 'icount: Invalid shift value');
  fails('shift=3,align=on,sleep=off', 'align=on and sleep=off are incompatible');
  fails('shift=auto,align=on', 'shift=auto and align=on are incompatible');
  fails('shift=auto,sleep=off', 'shift=auto and sleep=off are incompatible');
  fails('shift=3,speed=2', "Invalid parameter 'speed'");
  fails('shift=3,sleep=maybe', "Parameter 'sleep' expects 'on' or 'off'");
});

test('record/replay is parsed and returned typed', () => {
  assert.deepEqual(parseIcountOption('shift=5,rr=record,rrfile=out.bin'),
    { shift: 5, align: false, sleep: true, rr: 'record', rrfile: 'out.bin' });
  assert.deepEqual(parseIcountOption('shift=5,rr=replay,rrfile=a,,b'),
    { shift: 5, align: false, sleep: true, rr: 'replay', rrfile: 'a,b' });
  fails('shift=5,rr=play,rrfile=x', 'Invalid icount rr option: play');
  fails('shift=5,rr=record', 'File name not specified for replay');
  fails('shift=5,rr=record,rrfile=x,rrsnapshot=init', 'rrsnapshot is not supported yet');
});

test('QEMU booleans', () => {
  for (const v of ['on', 'yes', 'true', 'y']) assert.equal(parseQemuBool(v), true);
  for (const v of ['off', 'no', 'false', 'n']) assert.equal(parseQemuBool(v), false);
  assert.equal(parseQemuBool('1'), undefined);
});
