/**
 * Compares the single-thread RunLoop with the threaded runner (vCPU worker) on bare-metal ELFs,
 * in-process: `node dist/src/host/node/vcpu-bench.js [-n RUNS] ELF...` prints MIPS (guest steps
 * per host microsecond) of each loop, best and median of RUNS alternating runs.
 */
import { readFileSync } from 'node:fs';
import type { Machine, MachineHost } from '../../board/machine-api.js';
import { createVirtMachine } from '../../board/virt.js';
import { NodeHostTime } from './host-time.js';
import { RunLoop } from './run-loop.js';
import { ThreadedRunLoop } from './threaded-run-loop.js';

type Kind = 'single' | 'threaded';

async function once(elf: Uint8Array, path: string, kind: Kind): Promise<number> {
  const host: MachineHost = {
    console: { write: () => {} },
    time: new NodeHostTime(),
    log: () => {},
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
  const m: Machine = createVirtMachine(
    { ramSize: 128 * 1024 * 1024, smp: 1, bios: { kind: 'none' }, kernel: { path, data: elf }, noReboot: false }, host);
  const t0 = process.hrtime.bigint();
  const loop = kind === 'single' ? new RunLoop(m, host.time) : new ThreadedRunLoop(m, host.time, { console: host.console, trace: host.trace });
  await loop.run();
  const us = Number(process.hrtime.bigint() - t0) / 1e3;
  return m.totalSteps / us;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let runs = 3;
  if (args[0] === '-n') {
    runs = Number(args[1]);
    args.splice(0, 2);
  }
  for (const path of args) {
    const elf = readFileSync(path);
    const r: Record<Kind, number[]> = { single: [], threaded: [] };
    for (let i = 0; i < runs; i++) {
      for (const k of (i % 2 === 0 ? ['single', 'threaded'] : ['threaded', 'single']) as Kind[]) r[k].push(await once(elf, path, k));
    }
    const fmt = (xs: number[]): string => `best ${Math.max(...xs).toFixed(1)} median ${median(xs).toFixed(1)} MIPS`;
    const ratio = median(r.threaded) / median(r.single);
    process.stdout.write(`${path}: single ${fmt(r.single)}; threaded ${fmt(r.threaded)}; threaded/single ${(ratio * 100).toFixed(1)}%\n`);
  }
}

await main();
