// Issue 4 stress test: while the echo guest runs in the vCPU thread, the main loop injects
// console input and QMP stop/cont at random host times, for thousands of rounds. Nothing may
// deadlock, and every byte typed must come back exactly once, in order (input typed while the
// VM is stopped waits in the UART and is echoed after cont).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { guestFixtures } from '../helpers/guest-programs.js';
import { CLI_PATH } from '../helpers/run-vm.js';
import type { RunResult } from '../helpers/run-vm.js';
import { Qmp, socketReady } from '../monitor/client.js';
import { seededRandom } from '../helpers/host-utils.js';

const { tmp, echoElf } = guestFixtures('stress');
const ROUNDS = 2000;


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(`stress: ${ROUNDS} rounds of console input and QMP stop/cont at random times lose and reorder nothing`, async () => {
  const seed = Number(process.env['REPLAYVM_STRESS_SEED'] ?? Date.now() % 1_000_000);
  const random = seededRandom(seed);
  const sock = join(tmp, 'qmp.sock');
  const child = spawn(process.execPath, [CLI_PATH, '-M', 'virt', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
    '-bios', 'none', '-qmp', `unix:${sock},server=on,wait=off`, '-kernel', echoElf], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString('latin1'); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString('latin1'); });
  const exited = new Promise<RunResult>((resolve) => {
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr, timedOut: false } as RunResult));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  try {
    await socketReady(sock, exited);
    const qmp = await Qmp.connect({ kind: 'unix', path: sock });
    let typed = '';
    let stopped = false;
    let toggles = 0;
    const t0 = performance.now();
    for (let round = 0; round < ROUNDS; round++) {
      // Some printable bytes (never 'q', which ends the guest).
      const n = 1 + Math.floor(random() * 8);
      let chunk = '';
      for (let i = 0; i < n; i++) chunk += String.fromCharCode(0x21 + Math.floor(random() * 0x50)).replace('q', 'Q');
      child.stdin.write(chunk);
      typed += chunk;
      const r = random();
      if (r < 0.25) {
        await qmp.exec(stopped ? 'cont' : 'stop');
        stopped = !stopped;
        toggles++;
      } else if (r < 0.5) {
        await sleep(random() < 0.5 ? 0 : 1);
      }
    }
    const loopMs = performance.now() - t0;
    if (stopped) await qmp.exec('cont');
    const status = await qmp.exec('query-status') as { status: string };
    assert.equal(status.status, 'running', `seed ${seed}`);
    child.stdin.write('q');
    const r = await exited;
    console.log(`stress: seed ${seed}, ${toggles} stop/cont, ${typed.length} bytes; rounds took ${loopMs.toFixed(0)} ms, drain ${(performance.now() - t0 - loopMs).toFixed(0)} ms`);
    assert.equal(r.status, 0, `seed ${seed}: exit ${r.status} ${r.stderr}`);
    assert.ok(toggles > ROUNDS / 8, `only ${toggles} stop/cont`);
    assert.equal(r.stdout.length, typed.length + 2, `seed ${seed}: echoed ${r.stdout.length - 2} of ${typed.length} bytes`);
    assert.ok(r.stdout === `>${typed}q`, `seed ${seed}: echo differs from the input (first difference at byte ${[...typed].findIndex((c, i) => r.stdout[i + 1] !== c)})`);
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
});
