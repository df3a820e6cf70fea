/**
 * The vCPU thread (issue 4): byte ring and state machine units, bare-metal guests through the
 * CLI with the threaded runner, stop/cont through the controller, icount determinism against
 * the single-thread loop, and a stop/cont + console-input stress test in lock modes none and
 * record. Every wait is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Machine, MachineConfig, MachineHost, TraceFlags } from '../../src/board/machine-api.js';
import { createVirtMachine } from '../../src/board/virt.js';
import { ThreadedRunLoop } from '../../src/host/node/threaded-run-loop.js';
import type { RunOutcome } from '../../src/host/node/run-loop.js';
import type { ReplayMode } from '../../src/threads/lock/index.js';
import { ByteRing, VcpuControl, VcpuError, VcpuState, isValidTransition } from '../../src/threads/vcpu/index.js';
import { timerProgram } from '../support/board/asm.js';
import { makeElf } from '../support/cpu/elf.js';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import { CLI_PATH, elfPath } from '../helpers/run-vm.js';

const tmp = mkdtempSync(join(tmpdir(), 'replayvm-vcpu-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const NO_TRACE: TraceFlags = { int: false, guestErrors: false, unimp: false, inAsm: false };
const MiB = 1024 * 1024;

/** Runs the CLI with extra environment, killed after `timeoutMs`. */
function cli(args: readonly string[], env: Record<string, string>, timeoutMs = 15_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

const BASE = ['-M', 'virt', '-nographic', '-bios', 'none'];

/** A fixed wall clock, so machines built at different times hash equal. */
function fixedHost(out: (b: Uint8Array) => void): MachineHost {
  const t0 = process.hrtime.bigint();
  return {
    console: { write: out },
    time: { monotonicNs: () => Number(process.hrtime.bigint() - t0), realtimeNs: () => 1_700_000_000_000_000_000 },
    log: () => {},
    trace: NO_TRACE,
  };
}

function config(name: string, data: Uint8Array, icountShift?: number): MachineConfig {
  return {
    ramSize: 128 * MiB, smp: 1, bios: { kind: 'none' }, kernel: { path: name, data }, noReboot: false,
    ...(icountShift !== undefined ? { icount: { shift: icountShift, align: false, sleep: false }, rtc: { clock: 'vm' as const } } : {}),
  };
}

/** Bounds a promise. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms); });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

test('byte ring: wraps, keeps order, never drops (producer waits for the consumer)', () => {
  const ring = ByteRing.create(16);
  const other = new ByteRing(ring.buffer);
  const got: number[] = [];
  for (let round = 0; round < 10; round++) {
    const chunk = Uint8Array.from({ length: 11 }, (_, i) => (round * 11 + i) & 0xff);
    assert.equal(other.tryWrite(chunk), 11);
    got.push(...ring.read());
  }
  assert.deepEqual(got, Array.from({ length: 110 }, (_, i) => i & 0xff));
  assert.equal(other.tryWrite(new Uint8Array(20)), 16);
  assert.equal(other.tryWrite(new Uint8Array(1)), 0);
  assert.equal(ring.available(), 16);
  assert.throws(() => ByteRing.create(24), VcpuError);
});

test('vCPU state machine: valid transitions only', () => {
  const s = new VcpuState(new Int32Array(new SharedArrayBuffer(4)));
  assert.equal(s.get(), 'created');
  assert.throws(() => s.transition('paused'), /invalid transition created -> paused/);
  s.transition('running');
  s.transition('paused');
  s.transition('running');
  s.transition('stopping');
  assert.throws(() => s.transition('running'), VcpuError);
  s.transition('stopped');
  assert.equal(isValidTransition('stopped', 'running'), false);
  const c = VcpuControl.create();
  assert.equal(c.pauseRequested(), false);
  c.requestPause();
  assert.equal(c.pauseRequested(), true);
});

for (const name of ['demo', 'interrupts', 'rv32i', 'rv32m', 'rv32a', 'traps', 'devices']) {
  test(`threaded CLI: ${name}.elf passes`, async () => {
    const r = await cli([...BASE, '-kernel', elfPath(name)], { REPLAYVM_THREADS: '1' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.match(r.stdout, new RegExp(`PASS ${name === 'rv32i' || name === 'rv32m' || name === 'rv32a' ? name : ''}`));
  });
}

test('threaded CLI: fail-exit.elf exit status and lock mode record', async () => {
  const r = await cli([...BASE, '-kernel', elfPath('fail-exit')], { REPLAYVM_THREADS: '1' });
  assert.equal(r.status, 3, r.stderr);
  const rec = await cli([...BASE, '-kernel', elfPath('demo')], { REPLAYVM_THREADS: '1', REPLAYVM_LOCK_MODE: 'record' });
  assert.equal(rec.status, 0, rec.stderr);
  assert.match(rec.stdout, /PASS demo/);
});

/** Single-thread reference: runSlice in a loop on this thread. */
function runSingle(cfg: MachineConfig): { totalSteps: number; stateHash: string; out: string } {
  let out = '';
  const m = createVirtMachine(cfg, fixedHost((b) => { out += Buffer.from(b).toString('latin1'); }));
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = m.runSlice(100_000);
    if (r.kind === 'shutdown') break;
    if (Date.now() > deadline) throw new Error('single-thread run did not finish');
  }
  return { totalSteps: m.totalSteps, stateHash: m.stateHash(), out };
}

async function runThreaded(cfg: MachineConfig, mode: ReplayMode): Promise<{ totalSteps: number; stateHash: string; out: string; outcome: RunOutcome }> {
  let out = '';
  const host = fixedHost((b) => { out += Buffer.from(b).toString('latin1'); });
  const m = createVirtMachine(cfg, host);
  const loop = new ThreadedRunLoop(m, host.time, { console: host.console, trace: NO_TRACE, mode });
  const outcome = await within(loop.run(), 20_000, 'threaded run');
  return { totalSteps: m.totalSteps, stateHash: m.stateHash(), out, outcome };
}

for (const useWfi of [true, false]) {
  test(`-icount shift=0: five threaded runs (timer interrupts, ${useWfi ? 'WFI' : 'busy loop'}) equal each other and the single-thread run`, async () => {
    const elf = makeElf(timerProgram(useWfi, useWfi ? 2000 : 400), 0x80000000);
    const cfg = config('timer.elf', elf, 0);
    const ref = runSingle(cfg);
    for (let i = 0; i < 5; i++) {
      const r = await runThreaded(cfg, i % 2 === 0 ? 'none' : 'record');
      assert.equal(r.outcome.exitCode, 0);
      assert.deepEqual({ totalSteps: r.totalSteps, stateHash: r.stateHash }, { totalSteps: ref.totalSteps, stateHash: ref.stateHash }, `run ${i}`);
    }
    // Through the CLI with REPLAYVM_FINAL_STATE (there the hash includes the wall-clock RTC base).
    const elfFile = join(tmp, `timer-${useWfi}.elf`);
    writeFileSync(elfFile, elf);
    const path = join(tmp, `final-${useWfi}.json`);
    const r = await cli([...BASE, '-icount', 'shift=0,sleep=off', '-kernel', elfFile], { REPLAYVM_THREADS: '1', REPLAYVM_FINAL_STATE: path });
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(readFileSync(path, 'utf8')) as { totalSteps: number; stateHash: string };
    assert.match(j.stateHash, /^[0-9a-f]+$/);
    assert.equal(j.totalSteps, ref.totalSteps);
  });
}

interface EchoRig {
  readonly machine: Machine;
  readonly loop: ThreadedRunLoop;
  readonly outcome: Promise<RunOutcome>;
  output(): string;
  waitOutput(s: string, ms: number): Promise<void>;
}

async function startEcho(mode: ReplayMode): Promise<EchoRig> {
  let out = '';
  let waiter: (() => void) | undefined;
  const host = fixedHost((b) => {
    out += Buffer.from(b).toString('latin1');
    waiter?.();
  });
  const machine = createVirtMachine(config('echo.elf', guestElf(echoProgram())), host);
  const loop = new ThreadedRunLoop(machine, host.time, { console: host.console, trace: NO_TRACE, mode, targetSliceMs: 2 });
  const outcome = loop.run();
  const rig: EchoRig = {
    machine, loop, outcome,
    output: () => out,
    waitOutput: (s, ms) => within(new Promise<void>((resolve) => {
      const check = (): void => { if (out.endsWith(s) || out.includes(s)) { waiter = undefined; resolve(); } };
      waiter = check;
      check();
    }), ms, `waiting for ${JSON.stringify(s)}`),
  };
  await rig.waitOutput('>', 5_000);
  return rig;
}

test('stop/cont through the controller resolve only in the right state', async () => {
  const rig = await startEcho('none');
  const c = rig.loop.controller;
  assert.equal(c.state, 'running');
  await within(rig.loop.pause(), 5_000, 'pause');
  assert.equal(c.state, 'paused');
  const steps = rig.machine.totalSteps;
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(rig.machine.totalSteps, steps, 'no steps while paused');
  rig.loop.input(Buffer.from('a'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rig.output(), '>', 'no echo while paused');
  await within(rig.loop.resume(), 5_000, 'resume');
  assert.equal(c.state, 'running');
  await rig.waitOutput('>a', 5_000);
  // system_reset from the monitor is done by the vCPU thread: the guest starts over.
  rig.loop.machineForMonitor().reset();
  await rig.waitOutput('>a>', 5_000);
  await within(rig.loop.pause(), 5_000, 'pause');
  rig.loop.machineForMonitor().reset();
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(rig.output(), '>a>', 'reset while paused runs no guest code');
  await within(rig.loop.resume(), 5_000, 'resume');
  await rig.waitOutput('>a>>', 5_000);
  rig.loop.input(Buffer.from('q'));
  const o = await within(rig.outcome, 5_000, 'shutdown');
  assert.deepEqual(o, { cause: 'finisher-pass', exitCode: 0 });
  assert.equal(c.state, 'stopped');
});

for (const mode of ['none', 'record'] as const) {
  test(`stress (${mode}): random input and stop/cont, no deadlock, no lost or reordered byte`, async () => {
    const rig = await startEcho(mode);
    let seed = mode === 'none' ? 12345 : 54321;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const sent: string[] = [];
    const end = Date.now() + 8_000;
    let rounds = 0;
    let pauses = 0;
    while (rounds < 300 && Date.now() < end) {
      rounds++;
      const k = rand(4);
      if (k === 0) {
        await within(rig.loop.pause(), 5_000, `pause round ${rounds}`);
        assert.equal(rig.loop.controller.state, 'paused');
        pauses++;
        if (rand(2) === 0) await new Promise((r) => setTimeout(r, rand(3)));
        await within(rig.loop.resume(), 5_000, `resume round ${rounds}`);
        assert.equal(rig.loop.controller.state, 'running');
      } else {
        const n = 1 + rand(3);
        let s = '';
        for (let i = 0; i < n; i++) s += String.fromCharCode(0x61 + rand(16));
        sent.push(s);
        rig.loop.input(Buffer.from(s, 'latin1'));
      }
      if (rand(3) === 0) await new Promise((r) => setTimeout(r, rand(4)));
      else await new Promise((r) => setImmediate(r));
    }
    rig.loop.input(Buffer.from('q'));
    const o = await within(rig.outcome, 10_000, 'shutdown after q');
    assert.deepEqual(o, { cause: 'finisher-pass', exitCode: 0 });
    assert.equal(rig.output(), `>${sent.join('')}q`);
    assert.ok(pauses > 10, `only ${pauses} pauses in ${rounds} rounds`);
  });
}
