import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HmpInterpreter } from '../../src/monitor/hmp/interpreter.js';
import { startHmpServer, parseMonitorSocket } from '../../src/monitor/server.js';
import { FakeVm } from './fake-vm.js';
import { TestClient } from './client.js';

const run = async (h: HmpInterpreter, line: string): Promise<string> => (await h.execute(line)).output;

test('x / xp layouts follow QEMU', async () => {
  const vm = new FakeVm();
  const h = new HmpInterpreter(vm);
  assert.equal(await run(h, 'xp /4xw 0x80000000'), '0000000080000000: 0x00000297 0x02828613 0xf1402573 0x0202a583\n');
  assert.equal(await run(h, 'x /2xw 0x80000000+4'), '80000004: 0x02828613 0xf1402573\n');
  assert.equal(await run(h, 'xp /3xh 0x80000000'), '0000000080000000: 0x0297 0x0000 0x8613\n');
  assert.equal(await run(h, 'xp /3dh 0x80000000'), '0000000080000000:   663     0 34323\n');
  assert.equal(await run(h, 'xp /10xb 0x80000000'), '0000000080000000: 0x97 0x02 0x00 0x00 0x13 0x86 0x82 0x02\n0000000080000008: 0x73 0x25\n');
  assert.equal(await run(h, 'xp /2 0x80000000'), '0000000080000000: 0x97 0x02\n'); // remembers the size
  assert.equal(await run(h, 'xp /3ow 0x80000000'), '0000000080000000:       01227  0240503023 036120022563\n');
  assert.equal(await run(h, 'xp /4cb 0x80000010'), "0000000080000010: 'A' '\\'' '\\n' '\\x00'\n");
  assert.equal(await run(h, 'xp /1xg 0x80000000'), '0000000080000000: 0x0282861300000297\n');
  assert.equal(await run(h, 'xp /2xw 0x10'), '0000000000000010: Cannot access memory\n');
  assert.match(await run(h, 'x /2i $pc-4'), /^0x80000000: {2}00000297 {10}auipc t0,0x0\n0x80000004: {2}02828613 {10}addi a2,t0,40\n$/);
  assert.equal(await run(h, 'xp /3xz 0'), 'invalid char in format: \'z\'\nTry "help xp" for more information\n');
  assert.equal(await run(h, 'xp'), 'unexpected end of expression\nTry "help xp" for more information\n');
});

test('info commands, help, unknown command', async () => {
  const vm = new FakeVm();
  const h = new HmpInterpreter(vm);
  assert.equal(await run(h, 'info status'), 'VM status: paused\n');
  vm.state = 'prelaunch';
  assert.equal(await run(h, 'info status'), 'VM status: paused (prelaunch)\n');
  assert.equal(await run(h, 'info cpus'), '* CPU #0: thread_id=4242\n');
  const regs = await run(h, 'info registers');
  assert.match(regs, /^\nCPU#0\n V {6}= {3}0\n pc {7}80000004\n mstatus {2}00001800\n mepc {5}80000000\n x0\/zero {2}00000000 x1\/ra {4}00000011 x2\/sp {4}00000022 x3\/gp {4}00000033\n/);
  assert.equal(await run(h, 'foo'), "unknown command: 'foo'\n");
  assert.equal(await run(h, 'info foo'), "unknown command: 'info foo'\n");
  assert.equal(await run(h, 'help stop'), 'stop|s  -- stop emulation\n');
  assert.match(await run(h, 'help'), /^cont\|c {2}-- resume emulation\n/);
  await run(h, 'c');
  await run(h, 'stop');
  await run(h, 'system_reset');
  assert.deepEqual(await h.execute('q'), { output: '', quit: true });
  assert.deepEqual(vm.calls.filter((c) => ['cont', 'stop', 'systemReset'].includes(c)), ['cont', 'stop', 'systemReset']);
});

test('human monitor over tcp: banner, prompt, commands', async () => {
  const vm = new FakeVm();
  const srv = await startHmpServer(parseMonitorSocket('tcp::0,server=on,wait=off').address, vm);
  try {
    const c = await TestClient.connect(srv.address);
    await c.until((t) => t.endsWith('(qemu) '), 'prompt');
    assert.equal(c.text, "replayvm monitor - type 'help' for more information\r\n(qemu) ");
    c.text = '';
    c.send('info status\r\nxp /2xw 0x80000000\nbogus\n');
    await c.until((t) => t.split('(qemu) ').length === 4, 'three prompts');
    assert.equal(c.text, "VM status: paused\r\n(qemu) 0000000080000000: 0x00000297 0x02828613\r\n(qemu) unknown command: 'bogus'\r\n(qemu) ");
    c.send('quit\n');
    await c.until(() => vm.calls.includes('quit'), 'quit');
    c.end();
  } finally {
    await srv.close();
  }
});
