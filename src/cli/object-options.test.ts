import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseObjectOption } from './object-options.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseObjectOption(text), (e: unknown) => e instanceof CliError && e.message === `-object ${text}: ${message}`);
}

test('entropy sources', () => {
  assert.deepEqual(parseObjectOption('rng-random,id=rng0,filename=/dev/urandom'),
    { type: 'rng-random', where: '-object rng-random,id=rng0,filename=/dev/urandom', id: 'rng0', filename: '/dev/urandom' });
  assert.deepEqual(parseObjectOption('rng-random,id=r,filename=/tmp/a,,b'),
    { type: 'rng-random', where: '-object rng-random,id=r,filename=/tmp/a,,b', id: 'r', filename: '/tmp/a,b' });
  assert.deepEqual(parseObjectOption('rng-random,id=r'), { type: 'rng-random', where: '-object rng-random,id=r', id: 'r', filename: '/dev/urandom' });
  assert.deepEqual(parseObjectOption('rng-builtin,id=rb'), { type: 'rng-builtin', where: '-object rng-builtin,id=rb', id: 'rb' });
  assert.deepEqual(parseObjectOption('qom-type=rng-builtin,id=rb').type, 'rng-builtin');
});

test('filter-replay is accepted and typed', () => {
  assert.deepEqual(parseObjectOption('filter-replay,id=replay,netdev=net0'),
    { type: 'filter-replay', where: '-object filter-replay,id=replay,netdev=net0', id: 'replay', netdev: 'net0', queue: 'all', status: true });
  const f = parseObjectOption('filter-replay,id=f,netdev=n,queue=rx,status=off');
  assert.equal(f.type === 'filter-replay' && f.queue, 'rx');
  assert.equal(f.type === 'filter-replay' && f.status, false);
  fails('filter-replay,id=f', "Parameter 'netdev' is missing");
  fails('filter-replay,id=f,netdev=n,queue=both', "Parameter 'queue' does not accept value 'both'");
  fails('filter-replay,id=f,netdev=n,position=head', "'position' is not supported");
});

test('object errors carry QEMU messages', () => {
  fails('foo,id=x', 'invalid object type: foo');
  fails('rng-egd,id=x,chardev=c', "object type 'rng-egd' is not supported (rng-random, rng-builtin, filter-replay)");
  fails('memory-backend-ram,id=m,size=1G', "object type 'memory-backend-ram' is not supported (rng-random, rng-builtin, filter-replay)");
  fails('rng-builtin', "Parameter 'id' is missing");
  fails('id=x', "Parameter 'qom-type' is missing");
  fails('rng-builtin,id=x,filename=/dev/random', "Property 'rng-builtin.filename' not found");
  fails('rng-random,id=x,size=1', "Property 'rng-random.size' not found");
  fails('rng-random,id=x,filename=', "Parameter 'filename' expects a file name");
  fails('rng-builtin,id=1x', "Parameter 'id' expects an identifier (letters, digits, '-', '.', '_', starting with a letter)");
});
