/**
 * `npm run bench`: runs the bare-metal compute workload (guest/baremetal/build/bench.elf, about
 * 400 million instructions; `--quick`: bench-quick.elf, about 7 million) on replayvm in-process
 * with icount shift 0, and on qemu-system-riscv32 (when installed) with and without
 * `-icount shift=0`. MIPS always use replayvm's instruction count (machine.totalSteps): both VMs
 * execute the same deterministic program, and the checksum line proves it. See bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { createVirtMachine } from '../src/board/virt.js';
import { NodeHostTime } from '../src/host/node/host-time.js';
import type { Machine, MachineConfig, MachineHost } from '../src/board/machine-api.js';
import { elfPath, qemuAvailable, runQemu } from '../test/helpers/run-vm.js';

const quick = process.argv.includes('--quick');
const workload = quick ? 'bench-quick' : 'bench';
const QEMU_TIMEOUT_MS = 300_000;
const SLICE = 1_000_000;
/** Give up on replayvm after this many instructions (the workload needs about 4e8). */
const MAX_STEPS = 5_000_000_000;

interface OurRun {
  readonly output: string;
  readonly exitCode: number;
  readonly steps: number;
  readonly wallMs: number;
}

function nodeHost(out: string[]): MachineHost {
  const decoder = new TextDecoder();
  return {
    console: { write: (bytes: Uint8Array) => { out.push(decoder.decode(bytes, { stream: true })); } },
    time: new NodeHostTime(),
    log: (line: string) => { process.stderr.write(`${line}\n`); },
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

function runOurs(path: string): OurRun {
  const out: string[] = [];
  const config: MachineConfig = {
    ramSize: 128 * 1024 * 1024,
    smp: 1,
    bios: { kind: 'none' },
    kernel: { path, data: new Uint8Array(readFileSync(path)) },
    icountShift: 0,
    noReboot: true,
  };
  const machine: Machine = createVirtMachine(config, nodeHost(out));
  const start = performance.now();
  let exitCode = -1;
  while (machine.totalSteps < MAX_STEPS) {
    const r = machine.runSlice(SLICE);
    if (r.kind === 'shutdown') {
      exitCode = r.exitCode;
      break;
    }
    if (r.kind === 'idle') throw new Error(`the workload went idle (WFI) after ${machine.totalSteps} steps: it never should`);
  }
  const wallMs = performance.now() - start;
  return { output: out.join(''), exitCode, steps: machine.totalSteps, wallMs };
}

function checksum(output: string): string | undefined {
  return /^bench checksum (0x[0-9a-f]{8})$/m.exec(output.replace(/\r/g, ''))?.[1];
}

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

async function main(): Promise<void> {
  const elf = elfPath(workload);
  console.log(`workload: ${elf}${quick ? ' (--quick)' : ''}`);
  const ours = runOurs(elf);
  const ourSum = checksum(ours.output);
  const ourMips = ours.steps / (ours.wallMs * 1000);
  console.log(`replayvm: ${ours.steps} instructions in ${fmt(ours.wallMs, 0)} ms, exit ${ours.exitCode}, checksum ${ourSum ?? 'missing'}`);
  let failed = ours.exitCode !== 0 || ourSum === undefined;

  const rows: [string, string, string][] = [['replayvm (icount shift=0)', fmt(ourMips), '1.00']];
  if (!qemuAvailable()) {
    console.log('qemu-system-riscv32 not installed: QEMU columns skipped');
  } else {
    // QEMU's start-up and power-off cost, measured with a program that powers off at once.
    let startupMs = Infinity;
    for (let i = 0; i < 3; i++) {
      const r = await runQemu(elfPath('nop'), QEMU_TIMEOUT_MS, false);
      startupMs = Math.min(startupMs, r.wallMs);
    }
    console.log(`QEMU start-up (nop.elf, best of 3): ${fmt(startupMs, 0)} ms`);
    for (const icount of [false, true]) {
      const r = await runQemu(elf, QEMU_TIMEOUT_MS, icount);
      const sum = checksum(r.stdout);
      const netMs = Math.max(r.wallMs - startupMs, 0.001);
      const mips = ours.steps / (netMs * 1000);
      const label = icount ? 'QEMU -icount shift=0' : 'QEMU (TCG)';
      console.log(`${label}: ${fmt(r.wallMs, 0)} ms wall, ${fmt(netMs, 0)} ms net, exit ${String(r.status)}, checksum ${sum ?? 'missing'}`);
      if (r.status !== 0 || sum !== ourSum) {
        console.log(`  MISMATCH: QEMU checksum ${sum ?? 'missing'} vs replayvm ${ourSum ?? 'missing'}`);
        failed = true;
      }
      rows.push([label, fmt(mips), fmt(ourMips / mips, 3)]);
    }
  }
  console.log('');
  console.log(`${'VM'.padEnd(28)}${'MIPS'.padStart(10)}${'replayvm / VM'.padStart(16)}`);
  for (const [name, mips, ratio] of rows) console.log(`${name.padEnd(28)}${mips.padStart(10)}${ratio.padStart(16)}`);
  if (failed) {
    console.log('\nFAILED: exit status or checksum mismatch');
    process.exitCode = 1;
  }
}

await main();
