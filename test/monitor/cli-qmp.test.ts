/** QMP through the real CLI: `-qmp unix:`/`tcp:`, `-chardev socket` + `-mon`, `-S`, events, quit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { guestFixtures } from '../helpers/guest-programs.js';
import { freePort } from '../helpers/host-utils.js';
import { describeRun, runCli, type RunResult } from '../helpers/run-vm.js';
import { Qmp, socketReady, type Msg } from './client.js';

const { tmp, idleElf, echoElf } = guestFixtures('cli-qmp');
const BASE = ['-M', 'virt', '-nographic', '-bios', 'none'];
const TIMEOUT_MS = 15_000;

/** Connects to a TCP port, retrying while the VM starts. */
async function tcpConnect(port: number, run: Promise<RunResult>): Promise<Qmp> {
  let exited: RunResult | undefined;
  void run.then((r) => { exited = r; });
  const deadline = Date.now() + 8000;
  for (;;) {
    try {
      return await Qmp.connect({ kind: 'tcp', host: '127.0.0.1', port });
    } catch (e) {
      if (exited !== undefined) throw new Error(`the VM exited early: ${describeRun(exited)}`);
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}


test('-qmp unix: status, stop/cont, cpus, registers, reset, two clients, quit', async () => {
  const sock = join(tmp, 'qmp.sock');
  const run = runCli([...BASE, '-smp', '2', '-qmp', `unix:${sock},server=on,wait=off`, '-kernel', idleElf], [], TIMEOUT_MS);
  await socketReady(sock, run);
  const a = await Qmp.connect({ kind: 'unix', path: sock });
  const b = await Qmp.connect({ kind: 'unix', path: sock });
  assert.deepEqual(await a.exec('query-status'), { status: 'running', singlestep: false, running: true });
  assert.deepEqual(await a.exec('stop'), {});
  await a.event('STOP');
  await b.event('STOP');
  assert.deepEqual(await a.exec('query-status'), { status: 'paused', singlestep: false, running: false });
  assert.deepEqual(await a.exec('cont'), {});
  await a.event('RESUME');
  await b.event('RESUME');
  const cpus = await a.exec('query-cpus-fast') as Msg[];
  assert.equal(cpus.length, 2);
  assert.deepEqual(cpus.map((c) => c['cpu-index']), [0, 1]);
  const regs = await a.exec('human-monitor-command', { 'command-line': 'info registers' }) as string;
  assert.match(regs, / pc {7}[0-9a-f]{8}/);
  assert.match(regs, /mstatus/);
  const mem = await a.exec('human-monitor-command', { 'command-line': 'xp /2xw 0x80000000' }) as string;
  assert.match(mem, /^0000000080000000: 0x10500073 0xffdff06f/); // wfi; j .-4
  assert.deepEqual(await a.exec('system_reset'), {});
  const reset = await b.event('RESET');
  assert.deepEqual(reset.data, { guest: false, reason: 'host-qmp-system-reset' });
  assert.deepEqual(await a.exec('system_powerdown'), {});
  await b.event('POWERDOWN');
  assert.deepEqual(await a.exec('query-status'), { status: 'running', singlestep: false, running: true });
  assert.deepEqual(await a.exec('quit'), {});
  const shutdown = await b.event('SHUTDOWN');
  assert.deepEqual(shutdown.data, { guest: false, reason: 'host-qmp-quit' });
  const r = await run;
  assert.equal(r.status, 0, describeRun(r));
  assert.equal(existsSync(sock), false, 'the socket file is removed');
});

test('-qmp tcp: on a free port; garbage gets an error and the guest keeps echoing; guest poweroff -> SHUTDOWN', async () => {
  const port = await freePort();
  const run = runCli([...BASE, '-S', '-qmp', `tcp:127.0.0.1:${port},server=on,wait=off`, '-kernel', echoElf],
    [{ afterOutput: '>', bytes: 'x' }, { afterOutput: '>x', bytes: 'q' }], TIMEOUT_MS);
  const q = await tcpConnect(port, run);
  q.c.send('{"execute": nonsense}\n');
  await q.find((m) => typeof m.error === 'object' && (m.error as Msg).class === 'GenericError', 'a JSON error');
  assert.deepEqual(await q.exec('query-status'), { status: 'prelaunch', singlestep: false, running: false });
  assert.deepEqual(await q.exec('cont'), {});
  await q.event('RESUME');
  const shutdown = await q.event('SHUTDOWN');
  assert.deepEqual(shutdown.data, { guest: true, reason: 'guest-shutdown' });
  const r = await run;
  assert.equal(r.status, 0, describeRun(r));
  assert.match(r.stdout, />xq/);
});

test('-S: the guest runs only after cont (-chardev socket + -mon mode=control)', async () => {
  const sock = join(tmp, 'mon.sock');
  const run = runCli([...BASE, '-S', '-chardev', `socket,id=qmp0,path=${sock},server=on,wait=off`, '-mon', 'chardev=qmp0,mode=control',
    '-kernel', echoElf], [{ afterOutput: '>', bytes: 'q' }], TIMEOUT_MS);
  await socketReady(sock, run);
  const q = await Qmp.connect({ kind: 'unix', path: sock });
  assert.deepEqual(await q.exec('query-status'), { status: 'prelaunch', singlestep: false, running: false });
  await new Promise((r) => setTimeout(r, 200));
  const regs = await q.exec('human-monitor-command', { 'command-line': 'info registers' }) as string;
  assert.match(regs, / pc {7}00001000/, 'still at the reset vector');
  assert.equal(q.messages().some((m) => m.event === 'SHUTDOWN'), false);
  assert.deepEqual(await q.exec('cont'), {});
  await q.event('RESUME');
  await q.event('SHUTDOWN');
  const r = await run;
  assert.equal(r.status, 0, describeRun(r));
  assert.equal(r.stdout, '>q');
});
