import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { startQmpServer, parseMonitorSocket, type MonitorServerHandle } from '../../src/monitor/server.js';
import { FakeVm } from './fake-vm.js';
import { TestClient } from './client.js';

const clock = (): { seconds: number; microseconds: number } => ({ seconds: 1700000000, microseconds: 123456 });

async function withServer(fn: (vm: FakeVm, h: MonitorServerHandle) => Promise<void>, unix = false): Promise<void> {
  const vm = new FakeVm();
  const addr = unix
    ? parseMonitorSocket(`unix:${path.join(os.tmpdir(), `rvm-qmp-${process.pid}.sock`)},server=on,wait=off`).address
    : parseMonitorSocket('tcp:127.0.0.1:0,server=on,wait=off').address;
  const h = await startQmpServer(addr, vm, { clock, maxMessageBytes: 4096 });
  try { await fn(vm, h); } finally { await h.close(); }
}

async function negotiated(h: MonitorServerHandle): Promise<TestClient> {
  const c = await TestClient.connect(h.address);
  await c.next();
  c.send('{"execute":"qmp_capabilities"}');
  assert.deepEqual(await c.next(), { return: {} });
  return c;
}

test('greeting, negotiation and the command table over a unix socket', async () => {
  await withServer(async (vm, h) => {
    const c = await TestClient.connect(h.address);
    assert.deepEqual(await c.next(), { QMP: { version: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'replayvm-test' }, capabilities: [] } });
    assert.match(c.text, /^\{"QMP": \{"version": \{"qemu": \{"micro": 0, "minor": 2, "major": 7\}/);
    c.send('{"execute":"query-status","id":7}');
    assert.deepEqual(await c.next(), { id: 7, error: { class: 'CommandNotFound', desc: "Expecting capabilities negotiation with 'qmp_capabilities'" } });
    c.send('{"execute":"qmp_capabilities","id":"x"}');
    assert.deepEqual(await c.next(), { return: {}, id: 'x' });
    c.send('{"execute":"qmp_capabilities"}');
    assert.deepEqual(await c.next(), { error: { class: 'CommandNotFound', desc: 'Capabilities negotiation is already complete, command ignored' } });
    c.send('{"execute":"query-status","id":{"a":[1]}}');
    assert.deepEqual(await c.next(), { return: { status: 'paused', singlestep: false, running: false }, id: { a: [1] } });
    c.send('{"execute":"query-version"}{"execute":"query-cpus-fast"}');
    assert.deepEqual(await c.next(), { return: { qemu: { micro: 0, minor: 2, major: 7 }, package: 'replayvm-test' } });
    assert.deepEqual(await c.next(), { return: [{ 'thread-id': 4242, props: { 'core-id': 0 }, 'qom-path': '/machine/soc0/harts[0]', 'cpu-index': 0, target: 'riscv32' }] });
    c.send('{"execute":"query-commands"}');
    const cmds = (await c.next()) as { return: Array<{ name: string }> };
    assert.ok(cmds.return.some((x) => x.name === 'human-monitor-command'));
    c.send('{"execute":"human-monitor-command","arguments":{"command-line":"info status"}}');
    assert.deepEqual(await c.next(), { return: 'VM status: paused\r\n' });
    c.send('{"execute":"cont"}');
    assert.deepEqual(await c.next(), { timestamp: { seconds: 1700000000, microseconds: 123456 }, event: 'RESUME' });
    assert.deepEqual(await c.next(), { return: {} });
    for (const cmd of ['stop', 'system_reset', 'system_powerdown']) {
      c.send(`{"execute":"${cmd}"}`);
      await c.next(); // event
      assert.deepEqual(await c.next(), { return: {} });
    }
    c.send('{"execute":"quit"}');
    assert.deepEqual(await c.next(), { return: {} });
    assert.deepEqual(vm.calls.filter((x) => !x.startsWith('runState')), ['cont', 'stop', 'systemReset', 'systemPowerdown', 'quit']);
    c.end();
  }, true);
});

test('errors: unknown command, bad/extra/missing arguments, malformed JSON, bad shapes', async () => {
  await withServer(async (_vm, h) => {
    const c = await negotiated(h);
    const cases: Array<[string, string, string]> = [
      ['{"execute":"foo","id":5}', 'CommandNotFound', 'The command foo has not been found'],
      ['{"execute":"stop","arguments":{"x":1}}', 'GenericError', "Parameter 'x' is unexpected"],
      ['{"execute":"human-monitor-command"}', 'GenericError', "Parameter 'command-line' is missing"],
      ['{"execute":"human-monitor-command","arguments":{"command-line":5}}', 'GenericError', "Invalid parameter type for 'command-line', expected: string"],
      ['{"execute" "bad"}', 'GenericError', 'JSON parse error, missing : in object pair'],
      ['[1,2]', 'GenericError', 'QMP input must be a JSON object'],
      ['{"execute":1}', 'GenericError', "QMP input member 'execute' must be a string"],
      ['{"execute":"stop","arguments":5}', 'GenericError', "QMP input member 'arguments' must be an object"],
      ['{"execute":"stop","extra":1}', 'GenericError', "QMP input member 'extra' is unexpected"],
    ];
    for (const [input, cls, desc] of cases) {
      c.send(input);
      const r = (await c.next()) as { error: { class: string; desc: string } };
      assert.deepEqual(r.error, { class: cls, desc }, input);
    }
    c.send('{"execute":"query-status"}');
    assert.equal(((await c.next()) as { return: { status: string } }).return.status, 'paused');
    c.send(`{"execute":"${'x'.repeat(5000)}"}`);
    assert.deepEqual(await c.next(), { error: { class: 'GenericError', desc: 'JSON parse error, message exceeds the limit of 4096 bytes' } });
    await c.until(() => c.closed, 'connection drop');
  });
});

test('events reach every negotiated client; a client leaving mid-message does not matter', async () => {
  await withServer(async (vm, h) => {
    const a = await negotiated(h);
    const b = await negotiated(h);
    const idle = await TestClient.connect(h.address); // not negotiated: gets no events
    await idle.next();
    const leaving = await negotiated(h);
    leaving.send('{"execute":"query-sta');
    leaving.end();
    vm.state = 'running';
    vm.emit({ event: 'STOP' });
    vm.emit({ event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    for (const c of [a, b]) {
      assert.deepEqual(await c.next(), { timestamp: { seconds: 1700000000, microseconds: 123456 }, event: 'STOP' });
      assert.deepEqual(await c.next(), { timestamp: { seconds: 1700000000, microseconds: 123456 }, event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } });
    }
    idle.send('{"execute":"qmp_capabilities"}');
    assert.deepEqual(await idle.next(), { return: {} });
    a.end(); b.end(); idle.end();
  });
});

test('the unix socket file is removed on close and a stale one is replaced', async () => {
  const p = path.join(os.tmpdir(), `rvm-qmp-stale-${process.pid}.sock`);
  const vm = new FakeVm();
  const h1 = await startQmpServer(parseMonitorSocket(`unix:${p},server,nowait`).address, vm);
  await h1.close();
  assert.equal(fs.existsSync(p), false);
  const h2 = await startQmpServer(parseMonitorSocket(`unix:${p},server=on,wait=off`).address, vm);
  const h3 = await startQmpServer(parseMonitorSocket(`unix:${p},server=on,wait=off`).address, vm); // replaces it
  await h2.close();
  await h3.close();
});

test('waitForClient resolves once a client connects, at once after that, and with "closed" on close', async () => {
  const vm = new FakeVm();
  const h = await startQmpServer(parseMonitorSocket('tcp:127.0.0.1:0,server=on').address, vm);
  const port = h.address.kind === 'tcp' ? h.address.port : 0;
  assert.equal(h.label, `disconnected:tcp:127.0.0.1:${port},server=on`);
  let result: string | undefined = 'pending';
  const waiting = h.waitForClient().then((r) => { result = r; });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(result, 'pending', 'no client yet');
  const c = await TestClient.connect(h.address);
  await waiting;
  assert.equal(result, undefined);
  assert.equal(await h.waitForClient(), undefined, 'a client came: no more waiting');
  c.end();
  await h.close();
  const h2 = await startQmpServer(parseMonitorSocket('tcp:127.0.0.1:0,server=on').address, vm);
  const closed = h2.waitForClient();
  await h2.close();
  assert.equal(await closed, 'closed');
});
