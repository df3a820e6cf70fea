// The state walk (src/memory/state-walk.ts) is the one definition of machine state: save and
// restore round-trip every device's state through it, and the state hash and the replay digest
// see exactly the state it visits (a change in any guest section or RAM page changes both; a
// change in a host-derived section changes neither).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtMachine } from '../../src/board/virt.js';
import type { Machine, MachineHost } from '../../src/board/machine-api.js';
import { StateDigester } from '../../src/replay/index.js';
import { restoreMachineState, saveMachineState, walkMachineState, type MachineStateImage } from '../../src/memory/state-walk.js';
import { makeElf } from '../support/cpu/elf.js';
import { timerProgram } from '../support/board/asm.js';

const MiB = 1024 * 1024;

function host(): MachineHost {
  return {
    console: { write: () => {} },
    time: { monotonicNs: () => 42, realtimeNs: () => 1_000_000_000 },
    log: () => {},
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

/** Two harts and every device of the board, virtio blk, rng and net included. */
function machine(): Machine {
  return createVirtMachine({
    ramSize: 16 * MiB, smp: 2, bios: { kind: 'none' }, noReboot: false,
    icount: { shift: 2, align: false, sleep: false }, rtc: { clock: 'vm', startNs: 1e18 },
    kernel: { path: 't.elf', data: makeElf(timerProgram(false, 50), 0x80000000) },
    virtio: [
      { slot: 0, spec: { kind: 'blk', byteLength: 4096, readOnly: false } },
      { slot: 1, spec: { kind: 'rng' } },
      { slot: 2, spec: { kind: 'net' } },
    ],
  }, host());
}

/** Each owner's guest words, as the walk visits them. */
function sectionsByOwner(m: Machine): Map<string, number[]> {
  const out = new Map<string, number[]>();
  walkMachineState(m.arena, m.ram, {
    section: (f, words) => out.set(f.owner, [...(out.get(f.owner) ?? []), ...words]),
  });
  return out;
}

/** A deterministic scribble over every guest word of the arena and a few RAM pages. */
function scribble(m: Machine): void {
  let x = 0x12345678;
  walkMachineState(m.arena, m.ram, {
    section: (_f, words) => {
      for (let i = 0; i < words.length; i++) words[i] = x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    },
  });
  for (const page of [0, 3, 100]) {
    m.ram.u32[page * 1024 + 5] = 0xdeadbeef;
    m.ram.markWritten(page * 4096);
  }
}

function runSteps(m: Machine, steps: number): void {
  while (m.totalSteps < steps) {
    const r = m.runSlice(steps - m.totalSteps);
    assert.equal(r.kind, 'running', `the program ended early, at ${m.totalSteps} steps`);
  }
}

test('save -> restore of the state walk round-trips a machine: every device, the harts, the clocks, RAM', () => {
  const m = machine();
  runSteps(m, 3000);
  const owners = sectionsByOwner(m);
  for (const owner of ['hart0', 'hart1', 'clint', 'plic', 'uart0', 'rtc', 'virtio0', 'virtio1', 'virtio2', 'clocks', 'board', 'console']) {
    assert.ok(owners.has(owner), `the walk visits no state of ${owner} (owners: ${[...owners.keys()].join(', ')})`);
  }
  const digester = new StateDigester(m.arena, m.ram, m.harts);
  const hash = m.stateHash();
  const digest = digester.digest();
  const image: MachineStateImage = saveMachineState(m.arena, m.ram);

  scribble(m);
  assert.notEqual(m.stateHash(), hash);
  restoreMachineState(m.arena, m.ram, image);
  for (const h of m.harts) h.stateReplaced();
  m.clocks.stateReplaced();
  const after = sectionsByOwner(m);
  for (const [owner, words] of owners) assert.deepEqual(after.get(owner), words, `${owner}'s state after restore`);
  assert.equal(m.stateHash(), hash);
  assert.deepEqual({ ...digester.digest(), ramPages: 0 }, { ...digest, ramPages: 0 });

  // Into a fresh machine of the same configuration: the same state, hash and digest.
  const fresh = machine();
  restoreMachineState(fresh.arena, fresh.ram, image);
  for (const h of fresh.harts) h.stateReplaced();
  fresh.clocks.stateReplaced();
  assert.equal(fresh.stateHash(), hash);
  assert.deepEqual({ ...new StateDigester(fresh.arena, fresh.ram, fresh.harts).digest(), ramPages: 0 }, { ...digest, ramPages: 0 });
  assert.equal(fresh.totalSteps, m.totalSteps);
  assert.equal(fresh.clocks.now('virtual'), m.clocks.now('virtual'));
});

test('a restore refuses a state image of another machine, naming the section', () => {
  const m = machine();
  const image = saveMachineState(m.arena, m.ram);
  const [first, ...rest] = image.sections;
  assert.ok(first !== undefined);
  const renamed = { ...image, sections: [{ ...first, name: 'other' }, ...rest] };
  const before = m.stateHash();
  assert.throws(() => restoreMachineState(m.arena, m.ram, renamed), (e: Error) =>
    e.message === `state image has ${first.owner}.other (${first.words.length} words) where this machine has section 0 (${first.owner}.${first.name}, ${first.words.length} words)`);
  assert.equal(m.stateHash(), before, 'nothing written');
  assert.throws(() => restoreMachineState(m.arena, m.ram, { ...image, ramSize: 8 * MiB }), /RAM 0x80000000\+8388608, this machine 0x80000000\+16777216/);
});

test('the state hash and the digest cover the same state: every guest section and RAM page, no host-derived one', () => {
  const m = machine();
  runSteps(m, 2000);
  const digester = new StateDigester(m.arena, m.ram, m.harts);
  const key = (): string => {
    const d = digester.digest();
    return JSON.stringify({ harts: d.harts.map((h) => h.regsHash), devices: d.devicesHash, ram: d.ramHash });
  };
  const base = { hash: m.stateHash(), digest: key() };
  let guest = 0;
  let hostDerived = 0;
  for (const f of m.arena.layout()) {
    for (const at of new Set([f.word, f.word + f.words - 1])) {
      const old = m.arena.u32[at]!;
      m.arena.u32[at] = old ^ 0x80000001;
      const changed = { hash: m.stateHash() !== base.hash, digest: key() !== base.digest };
      m.arena.u32[at] = old;
      assert.deepEqual(changed, { hash: !f.host, digest: !f.host }, `a change in ${f.owner}.${f.name} word ${at - f.word}`);
    }
    if (f.host) hostDerived++;
    else guest++;
  }
  assert.ok(guest > 30 && hostDerived >= 3, `${guest} guest and ${hostDerived} host-derived sections`);
  for (const page of [0, 1000, 4095]) {
    const at = page * 1024 + 17;
    m.ram.u32[at] = m.ram.u32[at]! ^ 1;
    m.ram.markWritten(at * 4);
    assert.notEqual(m.stateHash(), base.hash, `a change in RAM page ${page}: state hash`);
    assert.notEqual(key(), base.digest, `a change in RAM page ${page}: digest`);
    m.ram.u32[at] = m.ram.u32[at]! ^ 1;
    m.ram.markWritten(at * 4);
    assert.equal(m.stateHash(), base.hash);
    assert.equal(key(), base.digest);
  }
});
