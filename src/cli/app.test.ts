import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProgramIo } from './app.js';
import { main } from './app.js';

function capture(): ProgramIo & { out: string; err: string } {
  const c = { out: '', err: '', stdout: (t: string) => { c.out += t; }, stderr: (t: string) => { c.err += t; } };
  return c;
}

test('main prints help and errors and returns the exit status', async () => {
  const io = capture();
  assert.equal(await main(['-version'], io), 0);
  assert.match(io.out, /^replayvm version/);
  const io2 = capture();
  assert.equal(await main(['-smp', '99'], io2), 2, 'a usage error');
  assert.equal(io2.out, '');
  assert.match(io2.err, /^replayvm: -smp 99: .*\n$/);
  const io4 = capture();
  assert.equal(await main(['replay', '--bogus', 'x.rrlog'], io4), 2);
  assert.match(io4.err, /^replayvm replay: --bogus: unknown option/);
});

test('main prints a runner error on one line with the program prefix and exits 1', async () => {
  const io = capture();
  assert.equal(await main(['-nographic', '-kernel', '/nonexistent/replayvm-kernel'], io), 1);
  assert.equal(io.err, 'replayvm: -kernel /nonexistent/replayvm-kernel: could not read file: No such file or directory\n');
});
