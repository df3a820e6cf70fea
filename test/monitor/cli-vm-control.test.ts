/** MachineVmControl over a RunLoop (pause/resume, run states, events) and the Sv32 debug walk. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine, SliceResult } from '../../src/board/machine-api.js';
import { Clocks } from '../../src/main-loop/clocks.js';
import { RunLoop } from '../../src/host/node/run-loop.js';
import { MachineVmControl, translateSv32 } from '../../src/host/node/vm-control.js';
import type { VmEvent } from '../../src/monitor/vm-control.js';

const time = { monotonicNs: (): number => Number(process.hrtime.bigint()), realtimeNs: (): number => Date.now() * 1e6 };

/** A machine that counts slices and resets. */
function fakeMachine(): { machine: Machine; slices: () => number; resets: () => number } {
  let slices = 0;
  let resets = 0;
  const m: Pick<Machine, 'runSlice' | 'reset' | 'harts' | 'clocks'> = {
    harts: [],
    clocks: new Clocks(time, undefined, () => 0),
    runSlice: (): SliceResult => { slices++; return { kind: 'running' }; },
    reset: () => { resets++; },
  };
  return { machine: m as Machine, slices: () => slices, resets: () => resets };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

test('-S: prelaunch, cont runs, stop pauses, quit ends with SHUTDOWN host-qmp-quit', async () => {
  const f = fakeMachine();
  const loop = new RunLoop(f.machine, time, { initialBudget: 1000 });
  const vm = new MachineVmControl(f.machine, loop, { startPaused: true });
  const events: VmEvent[] = [];
  vm.onEvent((e) => events.push(e));
  await loop.pause();
  const done = loop.run();
  await tick();
  assert.equal(vm.runState(), 'prelaunch');
  assert.equal(f.slices(), 0);
  await vm.cont();
  await tick();
  assert.equal(vm.runState(), 'running');
  assert.ok(f.slices() > 0);
  await vm.stop();
  const n = f.slices();
  await tick();
  assert.equal(f.slices(), n, 'no slice runs while paused');
  assert.equal(vm.runState(), 'paused');
  await vm.stop(); // no second STOP
  await vm.systemReset();
  assert.equal(f.resets(), 1);
  await vm.systemPowerdown();
  vm.quit();
  assert.deepEqual(await done, { cause: 'host-request', exitCode: 0 });
  vm.machineEnded('host-request'); // already shut down: no second SHUTDOWN
  assert.equal(vm.runState(), 'shutdown');
  assert.deepEqual(events, [
    { event: 'RESUME' }, { event: 'STOP' },
    { event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } },
    { event: 'POWERDOWN' },
    { event: 'SHUTDOWN', data: { guest: false, reason: 'host-qmp-quit' } },
  ]);
  assert.equal(vm.version.package, 'replayvm');
});

test('translateSv32: 4 KiB pages, megapages, faults', () => {
  const mem = new Map<number, number>();
  const read32 = (pa: number): number => mem.get(pa) ?? 0;
  const satp = (1 << 31) | 0x80000; // root at 0x80000000
  // VPN1 0x200 -> next table at 0x80001000; VPN0 5 -> page 0x80123000 (R|W|V)
  mem.set(0x80000000 + 0x200 * 4, ((0x80001000 / 4096) << 10) | 1);
  mem.set(0x80001000 + 5 * 4, ((0x80123000 / 4096) << 10) | 0x7);
  assert.equal(translateSv32(satp, 0x80005abc, read32), 0x80123abc);
  // VPN1 0x300 -> megapage at 0x80400000 (X|V)
  mem.set(0x80000000 + 0x300 * 4, ((0x80400000 / 4096) << 10) | 0x9);
  assert.equal(translateSv32(satp, 0xc0012345, read32), 0x80412345);
  assert.equal(translateSv32(satp, 0x00001000, read32), undefined);
  // misaligned megapage
  mem.set(0x80000000 + 0x301 * 4, ((0x80401000 / 4096) << 10) | 0x9);
  assert.equal(translateSv32(satp, 0xc0400000, read32), undefined);
});
