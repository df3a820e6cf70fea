/**
 * The bare-metal programs (the ones the QEMU differential test runs) on both engines, in
 * process, with `-icount shift=0`: the same UART output, exit code, step count and machine
 * state hash at the end, and the same state at 5000-step boundaries on the way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createVirtMachine } from '../../board/virt.js';
import type { Machine, MachineHost } from '../../board/machine-api.js';
import { PROGRAMS } from '../../../test/baremetal/programs.js';
import { elfPath } from '../../../test/helpers/run-vm.js';
import { getDefaultCpuEngine, setDefaultCpuEngine } from '../hart.js';
import type { CpuEngine } from '../hart-api.js';
import { TranslationCache } from './cache.js';

const SLICE = 5000;
const MAX_STEPS = 50_000_000;

/** A host whose clocks stand still (so both machines see the same time) and whose console appends to `out`. */
function host(out: string[]): MachineHost {
  const decoder = new TextDecoder();
  return {
    console: { write: (b: Uint8Array) => { out.push(decoder.decode(b, { stream: true })); } },
    time: { monotonicNs: () => 0, realtimeNs: () => 1_600_000_000_000_000_000 },
    log: () => undefined,
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

function boot(engine: CpuEngine, path: string, out: string[]): Machine {
  const saved = getDefaultCpuEngine();
  setDefaultCpuEngine(engine);
  try {
    return createVirtMachine({
      ramSize: 16 * 1024 * 1024, smp: 1, bios: { kind: 'none' }, kernel: { path, data: new Uint8Array(readFileSync(path)) },
      icount: { shift: 0, align: false, sleep: false }, rtc: { clock: 'vm' }, noReboot: true,
    }, host(out));
  } finally {
    setDefaultCpuEngine(saved);
  }
}

for (const program of PROGRAMS) {
  test(`${program.name}.elf: translator and interpreter reach the same states`, () => {
    const savedHot = TranslationCache.hot;
    TranslationCache.hot = 2;
    try {
      const path = elfPath(program.name);
      const outs: [string[], string[]] = [[], []];
      const ms = [boot('interpreter', path, outs[0]), boot('translator', path, outs[1])];
      const exits: (number | undefined)[] = [undefined, undefined];
      while (exits[0] === undefined && ms[0]!.totalSteps < MAX_STEPS) {
        for (let i = 0; i < 2; i++) {
          const r = ms[i]!.runSlice(SLICE);
          if (r.kind === 'shutdown') exits[i] = r.exitCode;
        }
        assert.equal(ms[1]!.totalSteps, ms[0]!.totalSteps, `step counts differ after ${ms[0]!.totalSteps}`);
        // (Hashing RAM is slow: every slice at first, then every 100 slices.)
        if (ms[0]!.totalSteps < 200_000 || ms[0]!.totalSteps % (100 * SLICE) === 0 || exits[0] !== undefined) {
          assert.equal(ms[1]!.stateHash(), ms[0]!.stateHash(), `states differ after ${ms[0]!.totalSteps} steps`);
        }
      }
      assert.equal(exits[0], program.status, `interpreter exit: ${outs[0].join('')}`);
      assert.equal(exits[1], exits[0]);
      assert.equal(outs[1].join(''), outs[0].join(''));
      assert.ok(outs[0].join('').includes(program.line), outs[0].join(''));
    } finally {
      TranslationCache.hot = savedHot;
    }
  });
}
