/**
 * A minimal machine for the CPU unit tests: 1 MiB RAM at 0x80000000, a test MMIO device at
 * 0x10000000 (a word register file that records accesses), a ROM-like device at 0x1000 and a
 * settable guest time.
 */
import { AddressMap, type MmioDevice } from '../../../src/memory/address-map.js';
import { Ram } from '../../../src/memory/ram.js';
import { StateArena } from '../../../src/memory/state-arena.js';
import type { HartOptions } from '../../../src/cpu/hart-api.js';
import { Hart } from '../../../src/cpu/hart.js';
import { assemble } from './asm.js';

export const RAM_BASE = 0x80000000;
export const RAM_SIZE = 1 << 20;
export const MMIO_BASE = 0x10000000;
export const ROM_BASE = 0x1000;

/** An MMIO test device: 256 bytes of registers; logs every access. */
export class TestDevice implements MmioDevice {
  readonly bytes = new Uint8Array(256);
  readonly log: string[] = [];
  onAccess: (() => void) | undefined;
  read(offset: number, size: 1 | 2 | 4): number {
    this.log.push(`r${size}@${offset}`);
    this.onAccess?.();
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.bytes[offset + i]! << (8 * i);
    return v >>> 0;
  }
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.log.push(`w${size}@${offset}=${value >>> 0}`);
    this.onAccess?.();
    for (let i = 0; i < size; i++) this.bytes[offset + i] = (value >>> (8 * i)) & 0xff;
  }
}

/** Everything a CPU test needs. */
export interface TestMachine {
  hart: Hart;
  ram: Ram;
  bus: AddressMap;
  arena: StateArena;
  dev: TestDevice;
  rom: TestDevice;
  /** Value returned by the `time` CSR. */
  now: { mtime: number };
  /** Writes instructions at a physical RAM address. */
  load(addr: number, insns: readonly number[]): void;
  /** Reads/writes a RAM word. */
  peek(addr: number): number;
  poke(addr: number, value: number): void;
}

/** Builds a test machine; the program (if any) is loaded at RAM_BASE and the hart reset there. */
export function makeMachine(program: readonly number[] = [], extra: Partial<HartOptions> = {}, openPmp = true): TestMachine {
  const arena = new StateArena(1 << 12);
  const ram = new Ram(RAM_BASE, RAM_SIZE);
  const bus = new AddressMap();
  const dev = new TestDevice();
  const rom = new TestDevice();
  bus.add('test', MMIO_BASE, 256, dev);
  bus.add('rom', ROM_BASE, 256, rom);
  const now = { mtime: 0 };
  const hart = new Hart({ hartId: 0, arena, ram, bus, time: { mtime: () => now.mtime }, ...extra });
  const m: TestMachine = {
    hart, ram, bus, arena, dev, rom, now,
    load(addr, insns) { ram.writeBytes(addr, assemble(insns)); },
    peek(addr) { return ram.i32[(addr - RAM_BASE) >>> 2]! >>> 0; },
    poke(addr, value) { ram.i32[(addr - RAM_BASE) >>> 2] = value; ram.markWritten(addr - RAM_BASE); },
  };
  m.load(RAM_BASE, program);
  hart.reset(RAM_BASE);
  if (openPmp) {
    // As firmware does: one NAPOT entry covering everything, RWX, so S/U may access memory.
    hart.csrWrite(0x3b0, -1);
    hart.csrWrite(0x3a0, 0x1f);
  }
  return m;
}
