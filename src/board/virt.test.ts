import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVirtMachine, BoardError } from './virt.js';
import type { BiosChoice, Machine, MachineConfig, MachineHost } from './machine-api.js';
import { R } from '../../test/support/cpu/asm.js';
import { makeElf } from '../../test/support/cpu/elf.js';
import { Asm } from '../../test/support/board/asm.js';
import { parseElf, ElfError } from './boot/elf.js';
import { calcFdtAddr, calcInitrdStart, calcKernelStartAddr } from './boot/placement.js';
import { findNode, parseFdt, propCells } from './fdt/fdt-reader.js';

const MiB = 1024 * 1024;
const UART = 0x10000000;
const TEST = 0x100000;

interface TestHost extends MachineHost {
  out: number[];
  lines: string[];
}

function makeHost(): TestHost {
  const out: number[] = [];
  const lines: string[] = [];
  return {
    out,
    lines,
    console: { write: (b) => out.push(...b) },
    time: { monotonicNs: () => 1_000_000, realtimeNs: () => 1_700_000_000_000_000_000 },
    log: (l) => lines.push(l),
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

function config(over: Partial<MachineConfig> & { bios?: BiosChoice } = {}): MachineConfig {
  return { ramSize: 128 * MiB, smp: 1, bios: { kind: 'none' }, noReboot: false, icount: { shift: 0, align: false, sleep: false }, rtc: { clock: 'vm' }, ...over };
}

function kernel(code: Uint8Array, addr = 0x80000000, path = 'k.elf') {
  return { path, data: makeElf(code, addr) };
}

function runUntilDone(m: Machine, limit = 2_000_000) {
  for (let i = 0; i < limit / 10_000; i++) {
    const r = m.runSlice(10_000);
    if (r.kind !== 'running') return r;
  }
  return { kind: 'running' } as const;
}

function helloProgram(fail?: number): Uint8Array {
  const a = new Asm(0x80000000);
  a.li(R.t0, UART).li(R.t1, 0x68).sb(R.t1, R.t0, 0).li(R.t1, 0x69).sb(R.t1, R.t0, 0);
  a.li(R.t0, TEST).li(R.t1, fail === undefined ? 0x5555 : (fail << 16) | 0x3333).sw(R.t1, R.t0, 0);
  a.label('end').j('end');
  return a.assemble();
}

test('bare-metal ELF prints "hi" and the finisher ends the slice', () => {
  const host = makeHost();
  const m = createVirtMachine(config({ kernel: kernel(helloProgram()) }), host);
  const r = runUntilDone(m);
  assert.deepEqual(r, { kind: 'shutdown', cause: 'finisher-pass', exitCode: 0 });
  assert.equal(String.fromCharCode(...host.out), 'hi');
  const m2 = createVirtMachine(config({ kernel: kernel(helloProgram(3)) }), makeHost());
  assert.deepEqual(runUntilDone(m2), { kind: 'shutdown', cause: 'finisher-fail', exitCode: 3 });
});

test('boot ROM matches QEMU 7.2 (xp /16wx 0x1000 with -bios none, -m 128M)', () => {
  const m = createVirtMachine(config({ kernel: kernel(helloProgram()) }), makeHost());
  // The words QEMU 7.2 shows for the same configuration (checked with the monitor).
  const words = [0x00000297, 0x02828613, 0xf1402573, 0x0202a583, 0x0182a283, 0x00028067, 0x80000000, 0, 0x87e00000, 0,
    0x4942534f, 2, 0x80000000, 1, 0, 0];
  const rom = (m as unknown as { rom: { read(o: number, s: 4): number } }).rom;
  assert.deepEqual(words.map((_, i) => rom.read(i * 4, 4)), words);
});

test('QEMU placement rules: kernel, initrd, device tree', () => {
  assert.equal(calcKernelStartAddr(0x80000000), 0x80000000);
  assert.equal(calcKernelStartAddr(0x80000000 + 0x3f000), 0x80400000);
  assert.equal(calcFdtAddr(0x80000000, 128 * MiB, 0x1000), 0x87e00000);
  assert.equal(calcFdtAddr(0x80000000, 128 * MiB, 3 * MiB), 0x87c00000);
  assert.equal(calcFdtAddr(0x80000000, 2048 * MiB, 0x1000), 0xbfe00000); // capped at 3 GiB
  assert.equal(calcInitrdStart(0x80000000, 128 * MiB), 0x84000000); // half of RAM
  assert.equal(calcInitrdStart(0x80400000, 512 * MiB), 0x88400000); // 128 MiB in
  const initrd = { path: 'rd.img', data: new Uint8Array(1000).fill(7) };
  const m = createVirtMachine(config({ kernel: kernel(helloProgram()), initrd, append: 'console=ttyS0' }), makeHost());
  const chosen = findNode(parseFdt(m.dtb), '/chosen');
  assert.ok(chosen);
  const start = propCells(chosen.props.get('linux,initrd-start')!);
  const end = propCells(chosen.props.get('linux,initrd-end')!);
  assert.deepEqual([start.at(-1), end.at(-1)], [0x84000000, 0x84000000 + 1000]);
  assert.equal(m.ram.u8[0x04000000], 7);
  const fdtOff = 0x87e00000 - 0x80000000;
  assert.deepEqual([...m.ram.u8.subarray(fdtOff, fdtOff + 4)], [0xd0, 0x0d, 0xfe, 0xed]);
});

test('bad configurations and images give one-line BoardErrors naming the option or file', () => {
  const host = makeHost();
  const code = helloProgram();
  const bad = (c: MachineConfig, re: RegExp) =>
    assert.throws(() => createVirtMachine(c, host), (e: unknown) => e instanceof BoardError && re.test(e.message) && !e.message.includes('\n'));
  bad(config({ ramSize: 1 * MiB }), /^-m 1M: too small/);
  bad(config({ ramSize: 4096 * MiB }), /^-m 4096M: too large/);
  bad(config({ smp: 0 }), /^-smp 0:/);
  bad(config({ smp: 9 }), /^-smp 9:/);
  bad(config({ kernel: { path: 'k64.elf', data: makeElf(code, 0x80000000, { elfClass: 2 }) } }), /^-kernel k64\.elf: not a 32-bit ELF/);
  bad(config({ kernel: { path: 'x86.elf', data: makeElf(code, 0x80000000, { machine: 62 }) } }), /^-kernel x86\.elf: not a RISC-V ELF \(e_machine 62/);
  bad(config({ kernel: { path: 't.elf', data: makeElf(code, 0x80000000).subarray(0, 40) } }), /^-kernel t\.elf: truncated ELF header/);
  bad(config({ kernel: { path: 't2.elf', data: makeElf(code, 0x80000000).subarray(0, 90) } }), /^-kernel t2\.elf: truncated ELF: segment 0/);
  bad(config({ kernel: kernel(code, 0x40000000, 'low.elf') }), /^-kernel low\.elf: segment at 0x40000000\.\.0x4000\w+ is outside RAM/);
  bad(config({ dtb: { path: 'bad.dtb', data: new Uint8Array(64) } }), /^-dtb bad\.dtb: not a valid device tree blob/);
  bad(config({ ramSize: 8 * MiB, kernel: kernel(code), initrd: { path: 'big.rd', data: new Uint8Array(5 * MiB) } }), /^-initrd big\.rd: .* do not fit in RAM/);
  bad(config({ initrd: { path: 'rd', data: new Uint8Array(4) } }), /^-initrd requires -kernel/);
  bad(config({ bios: { kind: 'default' } }), /^-bios default:/);
  bad(config({ kernel: { path: 'big.bin', data: new Uint8Array(200 * MiB) } }), /^-kernel big\.bin: .* do not fit in RAM/);
  assert.throws(() => parseElf(new Uint8Array(100)), (e: unknown) => e instanceof ElfError && /not an ELF file/.test(e.message));
});

test('-bios FILE: firmware at DRAM base, kernel at the next 4 MiB, a2 = fw_dynamic_info', () => {
  const fw = new Asm(0x80000000);
  // Store a0 (hartid), a1 (fdt), a2 (fw_dynamic_info) and next_addr, then pass.
  fw.lw(R.s0, R.a2, 8).li(R.t0, TEST).li(R.t1, 0x5555).sw(R.t1, R.t0, 0).label('e').j('e');
  const host = makeHost();
  const m = createVirtMachine(
    config({ bios: { kind: 'file', image: { path: 'fw.bin', data: fw.assemble() } }, kernel: { path: 'Image', data: new Uint8Array(4096) } }),
    host,
  );
  assert.equal(runUntilDone(m).kind, 'shutdown');
  const h = m.harts[0]!;
  assert.equal(h.getReg(R.a0), 0);
  assert.equal(h.getReg(R.a1) >>> 0, 0x87e00000);
  assert.equal(h.getReg(R.a2) >>> 0, 0x1028);
  assert.equal(h.getReg(R.s0) >>> 0, 0x80400000);
});

test('-d guest_errors logs accesses no device claims', () => {
  const host = { ...makeHost(), trace: { int: true, guestErrors: true, unimp: false, inAsm: false } };
  const a = new Asm(0x80000000);
  a.li(R.t0, 0x30000000).lw(R.t1, R.t0, 0).label('e').j('e');
  const m = createVirtMachine(config({ kernel: kernel(a.assemble()) }), host);
  m.runSlice(10);
  assert.equal(host.lines[0], "Invalid access at addr 0x30000000, size 4, region '(null)', reason: rejected (read)");
  assert.match(host.lines[1]!, /^riscv_cpu_do_interrupt: hart:0, async:0, cause:00000005, epc:0x80000004, tval:0x30000000, desc=fault_load$/);
});
