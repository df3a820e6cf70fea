/**
 * Monitors with wait=on (QEMU's default) through the real CLI: the machine does not run until
 * the monitor's client connects; QEMU's "waiting for connection" line is printed meanwhile; a
 * signal while waiting ends the program.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { guestFixtures } from '../helpers/guest-programs.js';
import { freePort } from '../helpers/host-utils.js';
import { sleep, startVm, type VmProcess } from '../helpers/rr-driver.js';
import { elfPath } from '../helpers/run-vm.js';
import { Qmp, TestClient } from './client.js';

const { tmp } = guestFixtures('cli-wait');
const BASE = ['-M', 'virt', '-nographic', '-bios', 'none'];
const TIMEOUT_MS = 30_000;
/** demo.elf prints its banner at once and powers off. */
const DEMO = elfPath('demo');

const waitingLine = (option: string, label: string): string => `replayvm: ${option}: info: QEMU waiting for connection on: ${label}\n`;

/** The VM printed `line` and, `holdMs` later, still runs with nothing on the console. */
async function expectWaiting(vm: VmProcess, line: string, holdMs = 500): Promise<void> {
  assert.ok(await vm.waitForStderr(line, 20_000), `the VM says it waits: ${JSON.stringify(line)}\n${vm.describe()}`);
  await sleep(holdMs);
  assert.equal(vm.exited, undefined, `the VM waits for its client\n${vm.describe()}`);
  assert.equal(vm.text, '', `the guest has not run\n${vm.describe()}`);
}

test('-qmp unix:PATH,server=on waits for a client before the guest runs; -chardev + -mon waits too, in order', async () => {
  const qmpSock = join(tmp, 'wait-qmp.sock');
  const hmpSock = join(tmp, 'wait-hmp.sock');
  const vm = startVm([...BASE, '-qmp', `unix:${qmpSock},server=on`,
    '-chardev', `socket,id=h,path=${hmpSock},server=on`, '-mon', 'chardev=h', '-kernel', DEMO], TIMEOUT_MS);
  try {
    await expectWaiting(vm, waitingLine('-qmp', `disconnected:unix:${qmpSock},server=on`));
    const qmp = await Qmp.connect({ kind: 'unix', path: qmpSock });
    // The next monitor is waited for in turn: still no guest output.
    await expectWaiting(vm, waitingLine('-monitor', `disconnected:unix:${hmpSock},server=on`));
    const hmp = await TestClient.connect({ kind: 'unix', path: hmpSock });
    const r = await vm.exit();
    assert.equal(r.status, 0, vm.describe());
    assert.match(vm.text, /replayvm bare-metal demo[\s\S]*PASS demo/, vm.describe());
    qmp.c.socket.destroy();
    hmp.socket.destroy();
  } finally {
    vm.kill();
  }
});

test('-qmp tcp:...,server (bare flag, wait=on): the guest runs once a QMP client connects; SIGTERM while waiting ends the program', async () => {
  const port = await freePort();
  const vm = startVm([...BASE, '-qmp', `tcp:127.0.0.1:${port},server`, '-kernel', elfPath('nop')], TIMEOUT_MS);
  try {
    await expectWaiting(vm, waitingLine('-qmp', `disconnected:tcp:127.0.0.1:${port},server=on`));
    const qmp = await Qmp.connect({ kind: 'tcp', host: '127.0.0.1', port }, false); // the greeting came
    await vm.exit();
    assert.equal(vm.exited?.status, 0, vm.describe());
    assert.match(vm.text, /PASS nop/);
    qmp.c.socket.destroy();
  } finally {
    vm.kill();
  }

  const sock = join(tmp, 'wait-term.sock');
  const waiting = startVm([...BASE, '-qmp', `unix:${sock},server=on`, '-kernel', DEMO], TIMEOUT_MS);
  try {
    await expectWaiting(waiting, waitingLine('-qmp', `disconnected:unix:${sock},server=on`), 100);
    waiting.kill('SIGTERM');
    const r = await waiting.exit();
    assert.equal(r.status, 1, waiting.describe());
    assert.match(waiting.stderr, /terminating on signal 15 \(SIGTERM\) while waiting for a connection on -qmp/);
    assert.equal(waiting.text, '', 'the guest never ran');
  } finally {
    waiting.kill();
  }
});
