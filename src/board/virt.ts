/**
 * The `virt` board: QEMU 7.2's RISC-V virt machine for RV32IMAC harts. It validates the
 * configuration, allocates the state arena and RAM, creates the devices (CLINT, PLIC, UART0,
 * Goldfish RTC, sifive_test, empty virtio-mmio slots) and harts, builds the device tree, loads
 * the images where QEMU puts them, writes the boot ROM and runs the harts in deterministic
 * round-robin slices (like QEMU's single-threaded TCG) on a virtual clock.
 */
import { Hart } from '../cpu/hart.js';
import type { HartApi } from '../cpu/hart-api.js';
import {
  Clint,
  GoldfishRtc,
  Plic,
  SifiveTest,
  Uart16550,
  VIRT_PLIC_NUM_SOURCES,
  VirtioMmioEmptyTransport,
  type SifiveTestRequest,
} from '../devices/index.js';
import { NS_PER_MTIME_TICK, MTIME_HZ } from '../main-loop/clock.js';
import { clockStoreIn, Clocks, type ClockKind } from '../main-loop/clocks.js';
import { alignSleepNs, IcountError, icountConfigProblem } from '../main-loop/icount.js';
import { AddressMap, type MmioDevice } from '../memory/address-map.js';
import type { CharBackend } from '../devices/char-backend.js';
import { createVirtioDevice, type VirtioDevice, type VirtioNetDevice } from '../devices/virtio/index.js';
import { Ram } from '../memory/ram.js';
import { StateArena } from '../memory/state-arena.js';
import { hashMachineState } from '../memory/state-hash.js';
import { ElfError, isElf, parseElf } from './boot/elf.js';
import { calcFdtAddr, calcInitrdStart, calcKernelStartAddr } from './boot/placement.js';
import { buildResetVector, RomDevice } from './boot/reset-vector.js';
import { BoardError } from './errors.js';
import { parseFdt } from './fdt/fdt-reader.js';
import { buildVirtFdt } from './fdt/virt-fdt.js';
import type { BootImage, Machine, MachineConfig, MachineHost, SliceResult } from './machine-api.js';
import { CSR_MIE, CSR_MIP, HSM_STARTED, HSM_STOPPED } from './sbi/constants.js';
import { BuiltinSbi, enterSupervisor } from './sbi/firmware.js';
import { HartStates } from './sbi/hsm.js';
import { createCpuTracer, guestErrorHook } from './tracer.js';
import { VIRT_IRQ, VIRT_MAX_HARTS, VIRT_MAX_RAM, VIRT_MEMMAP, VIRT_MIN_RAM, VIRTIO_COUNT, virtioBase } from './virt-memory-map.js';

export { BoardError } from './errors.js';

/** Steps a hart runs before the next hart's turn, unless `config.quantum` says otherwise. */
export const DEFAULT_QUANTUM = 10_000;
/** Size of the console input ring (bytes typed but not yet taken by UART0). */
const INPUT_RING_BYTES = 4096;

/** What each `-rtc clock=` reads among QEMU's clocks. */
const RTC_CLOCK: Readonly<Record<'host' | 'rt' | 'vm', ClockKind>> = { host: 'host', rt: 'realtime', vm: 'virtual' };

const MiB = 1024 * 1024;
const TWO32 = 0x1_0000_0000;
const RUNNING: SliceResult = { kind: 'running' };

/** One blob placed in RAM at power-on and again at every reset (QEMU's rom_reset). */
interface RamLoad {
  readonly label: string;
  readonly addr: number;
  readonly data: Uint8Array;
}

/** Where the boot code goes, decided once at construction. */
interface BootPlan {
  readonly loads: readonly RamLoad[];
  /** Reset vector jump target (firmware, or DRAM base with `-bios none`). */
  readonly startAddr: number;
  /** Kernel entry (fw_dynamic_info.next_addr; the S-mode entry with the built-in SBI). */
  readonly kernelEntry: number;
  readonly fdtAddr: number;
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function describe(option: string, image: BootImage): string {
  return `${option} ${image.path}`;
}

/** Options of {@link createVirtMachine}. */
export interface VirtMachineOptions {
  /**
   * Attach mode: build the machine's objects over the state arena and RAM buffers of an
   * existing machine with the same configuration (e.g. in a vCPU worker thread). Nothing of the
   * machine state changes: images are not loaded and the machine is not powered on. The caller
   * must keep other threads from touching the machine meanwhile (hold the BQL).
   */
  readonly attach?: { readonly arena: SharedArrayBuffer; readonly ram: SharedArrayBuffer };
}

/** Creates a `virt` machine; throws BoardError on a bad configuration or image. */
export function createVirtMachine(config: MachineConfig, host: MachineHost, options: VirtMachineOptions = {}): Machine {
  return new VirtMachine(config, host, options);
}

function validate(config: MachineConfig): void {
  const m = config.ramSize;
  if (!Number.isInteger(m) || m < VIRT_MIN_RAM) {
    throw new BoardError(`-m ${m / MiB}M: too small, the virt board needs at least ${VIRT_MIN_RAM / MiB}M`);
  }
  if (m > VIRT_MAX_RAM) {
    throw new BoardError(`-m ${m / MiB}M: too large, RAM at ${hex(VIRT_MEMMAP.dram.base)} must end by 4 GiB (at most ${VIRT_MAX_RAM / MiB}M)`);
  }
  if (m % 4096 !== 0) throw new BoardError(`-m ${m}: RAM size must be a multiple of 4 KiB`);
  if (!Number.isInteger(config.smp) || config.smp < 1 || config.smp > VIRT_MAX_HARTS) {
    throw new BoardError(`-smp ${config.smp}: the virt board supports 1 to ${VIRT_MAX_HARTS} harts`);
  }
  const q = config.quantum;
  if (q !== undefined && (!Number.isInteger(q) || q < 1)) throw new BoardError(`quantum ${q}: must be a positive integer`);
  const problem = config.icount === undefined ? undefined : icountConfigProblem(config.icount);
  if (problem !== undefined) throw new BoardError(`-icount: ${problem}`);
  const slots = new Set<number>();
  for (const d of config.virtio ?? []) {
    if (!Number.isInteger(d.slot) || d.slot < 0 || d.slot >= VIRTIO_COUNT) throw new BoardError(`virtio slot ${d.slot}: the virt board has slots 0 to ${VIRTIO_COUNT - 1}`);
    if (slots.has(d.slot)) throw new BoardError(`virtio slot ${d.slot}: used twice`);
    slots.add(d.slot);
  }
  if (config.initrd !== undefined && config.kernel === undefined) throw new BoardError('-initrd requires -kernel');
  if (config.bios.kind === 'default' && config.kernel === undefined) {
    throw new BoardError('-bios default: the built-in SBI needs a -kernel to run (or use -bios none)');
  }
}

class VirtMachine implements Machine {
  readonly config: MachineConfig;
  readonly dtb: Uint8Array;
  readonly arena: StateArena;
  readonly ram: Ram;
  readonly harts: readonly HartApi[];

  private readonly host: MachineHost;
  private readonly bus = new AddressMap();
  private readonly hsm: HartStates;
  private readonly sbi: BuiltinSbi | undefined;
  private readonly clint: Clint;
  private readonly plic: Plic;
  private readonly uart: Uart16550;
  private readonly rtc: GoldfishRtc;
  private readonly virtio: VirtioDevice[];
  /** Console input ring (arena words: read count, write count, then the bytes). */
  private readonly inRing: number;
  private readonly inBytes: Uint8Array;
  private readonly rom = new RomDevice(VIRT_MEMMAP.mrom.size);
  private readonly plan: BootPlan;
  private readonly quantum: number;
  readonly clocks: Clocks;
  /** Whether virtual time counts instructions (`-icount`). */
  private readonly icount: boolean;
  /** The clock the RTC runs on. */
  private readonly rtcClock: ClockKind;
  /** The RTC clock's value at machine creation (a host-derived arena field, shared by threads). */
  private readonly rtcOrigin: Float64Array;
  /** Board state words: totalSteps (2), spare (2), the RTC's start date in ns (2), rrHart, rrUsed. */
  private readonly w: number;

  // Host-side state (not machine state): the hart inside `run`, a request raised during it,
  // (console input waiting for UART0 is machine state: the ring in the arena).
  private running: HartApi | undefined;
  private pending: SliceResult | 'reset' | undefined;
  /** The BQL when harts run in a vCPU thread (MachineHost.bql). */
  private readonly bql: { lock(): void; unlock(): void } | undefined;

  constructor(config: MachineConfig, host: MachineHost, options: VirtMachineOptions = {}) {
    validate(config);
    this.config = config;
    this.host = host;
    this.quantum = config.quantum ?? DEFAULT_QUANTUM;
    this.icount = config.icount !== undefined;

    this.bql = host.bql;
    const attach = options.attach;
    this.arena = attach === undefined ? new StateArena() : new StateArena(attach.arena.byteLength >>> 2, attach.arena);
    // Attach mode: construction writes arena words (resets, allocation); they are put back at the end.
    const savedArena = attach === undefined ? undefined : this.arena.u32.slice();
    this.w = this.arena.allocate('board', 'clock', 8);
    this.arena.u32.fill(0, this.w, this.w + 8);
    try {
      this.clocks = new Clocks(host.time, config.icount, () => this.exactSteps(), {
        store: clockStoreIn(this.arena),
        attach: attach !== undefined,
      });
    } catch (e) {
      if (e instanceof IcountError) throw new BoardError(`-icount: ${e.message}`);
      throw e;
    }
    // The RTC counts ns of its clock since machine creation (the origin, host-derived) plus a
    // fixed offset, the start date, so the guest-visible state holds no host reading.
    this.rtcClock = RTC_CLOCK[config.rtc?.clock ?? 'host'];
    const rtcStartNs = config.rtc?.startNs ?? host.time.realtimeNs();
    this.setI64(4, Math.round(rtcStartNs));
    this.rtcOrigin = new Float64Array(this.arena.buffer, this.arena.allocate('board', 'rtcOrigin', 2, { host: true }) * 4, 1);
    this.rtcOrigin[0] = this.clocks.now(this.rtcClock);
    try {
      this.ram = new Ram(VIRT_MEMMAP.dram.base, config.ramSize, attach?.ram);
    } catch (e) {
      throw new BoardError(`-m ${config.ramSize / MiB}M: cannot allocate guest RAM (${e instanceof Error ? e.message : String(e)})`);
    }
    if (host.trace.guestErrors) this.bus.onUnmapped = guestErrorHook(host.log);
    this.bus.deviceLock = host.bql;

    this.hsm = new HartStates(this.arena, config.smp);
    if (config.bios.kind === 'default') {
      this.sbi = new BuiltinSbi(
        {
          ram: this.ram,
          console: host.console,
          consoleRead: () => this.consoleRead(),
          setTimer: (hartId, ticks) => {
            this.clint.setMtimecmp(hartId, ticks);
            this.clint.update();
          },
          requestShutdown: (exitCode) => this.request({ kind: 'shutdown', cause: 'guest-shutdown', exitCode }),
          requestReset: () => this.request('reset'),
          reschedule: () => this.running?.requestExit(),
          ...(host.trace.unimp ? { logUnimp: host.log } : {}),
        },
        this.hsm,
      );
    }
    const trace = createCpuTracer(host.trace, host.log);
    const sbi = this.sbi;
    const bql = host.bql;
    const firmware = sbi === undefined || bql === undefined ? sbi : {
      handleTrap: (hart: HartApi, cause: number, tval: number): boolean => {
        bql.lock();
        try {
          return sbi.handleTrap(hart, cause, tval);
        } finally {
          bql.unlock();
        }
      },
    };
    const time = { mtime: () => this.clint.mtime() };
    const harts: Hart[] = [];
    for (let i = 0; i < config.smp; i++) {
      harts.push(
        new Hart({
          hartId: i,
          arena: this.arena,
          ram: this.ram,
          bus: this.bus,
          time,
          ...(firmware !== undefined ? { firmware } : {}),
          ...(trace !== undefined ? { trace } : {}),
          ...(host.rr?.interrupt !== undefined ? { onInterrupt: (cause: number) => host.rr?.interrupt?.(i, cause, this.exactSteps()) } : {}),
        }),
      );
    }
    this.harts = harts;
    this.sbi?.attach(harts);

    this.clint = new Clint(this.arena, harts, { mtime: () => this.boardMtime() });
    this.plic = new Plic(this.arena, harts, VIRT_PLIC_NUM_SOURCES);
    // Room in the UART's receiver first takes input from the ring, then tells the host.
    const uartBackend: CharBackend = {
      write: (bytes) => host.console.write(bytes),
      acceptInput: () => {
        this.drainInput();
        if (this.inputRingFree() > 0) host.console.acceptInput?.();
      },
    };
    this.uart = new Uart16550(this.arena, 'uart0', uartBackend, this.plic.irqLine(VIRT_IRQ.uart0));
    this.inRing = this.arena.allocate('console', 'inputRing', 2 + INPUT_RING_BYTES / 4);
    this.inBytes = new Uint8Array(this.arena.buffer, (this.inRing + 2) * 4, INPUT_RING_BYTES);
    // The RTC counts rtcSourceNs (its clock since creation); the start date is its tick offset.
    this.rtc = new GoldfishRtc(this.arena, { realtimeNs: () => this.rtcSourceNs() }, this.plic.irqLine(VIRT_IRQ.rtc));
    const test = new SifiveTest((kind, code) => this.finisher(kind, code));

    const m = VIRT_MEMMAP;
    this.bus.add('mrom', m.mrom.base, m.mrom.size, this.rom);
    this.bus.add('test', m.test.base, m.test.size, test);
    this.bus.add('rtc', m.rtc.base, m.rtc.size, this.exitOnWrite(this.rtc));
    this.bus.add('clint', m.clint.base, m.clint.size, this.exitOnWrite(this.clint));
    this.bus.add('plic', m.plic.base, m.plic.size, this.plic);
    // A guest write to the UART (a FIFO reset, say) may make room for waiting input.
    this.bus.add('uart0', m.uart0.base, m.uart0.size, {
      read: (offset, size) => this.uart.read(offset, size),
      write: (offset, size, value) => {
        this.uart.write(offset, size, value);
        this.drainInput();
      },
    });
    this.virtio = this.createVirtioDevices();
    for (let i = 0; i < VIRTIO_COUNT; i++) {
      const dev = this.virtio.find((d) => d.index === i);
      this.bus.add(`virtio${i}`, virtioBase(i), m.virtio.size, dev?.transport ?? new VirtioMmioEmptyTransport());
    }

    const { plan, dtb } = this.planBoot();
    this.plan = plan;
    this.dtb = dtb;
    this.rom.load(buildResetVector(plan));
    if (savedArena === undefined) this.powerOn();
    else {
      this.arena.u32.set(savedArena);
      for (const h of this.harts) h.stateReplaced();
    }
  }

  /**
   * The virtio devices, in slot order (the arena layout depends only on the configuration).
   * Their queue work happens where the backends are (`processVirtioQueues`); a doorbell rung
   * by a hart asks the host to schedule it, and single-threaded also ends the hart's turn so
   * the main loop runs soon.
   */
  private createVirtioDevices(): VirtioDevice[] {
    const host = this.host;
    const devices: VirtioDevice[] = [];
    const specs = [...(this.config.virtio ?? [])].sort((a, b) => a.slot - b.slot);
    const notifier = {
      kick: (): void => {
        host.virtioKick?.();
        if (host.bql === undefined) this.running?.requestExit();
      },
    };
    const log = host.deviceError ?? host.log;
    for (const { slot, spec } of specs) {
      const line = this.plic.irqLine(VIRT_IRQ.virtio + slot);
      const irq = {
        set: (level: boolean): void => {
          line.set(level);
          if (level) host.wakeHarts?.();
        },
      };
      const backend = host.virtioBackends?.get(slot);
      devices.push(createVirtioDevice(spec, {
        arena: this.arena, ram: this.ram, irq, notifier, log, index: slot, name: `virtio${slot}`,
        ...(backend !== undefined ? { backend } : {}),
        ...(host.trace.guestErrors ? { guestError: host.log } : {}),
      }));
    }
    return devices;
  }

  processVirtioQueues(): void {
    for (const d of this.virtio) if (d.doorbellPending) d.processDoorbell();
  }

  virtioDoorbells(): number[] {
    return this.virtio.filter((d) => d.doorbellPending).map((d) => d.index);
  }

  processVirtioQueue(slot: number): void {
    this.virtio.find((d) => d.index === slot)?.processDoorbell();
  }

  virtioNet(slot: number): VirtioNetDevice | undefined {
    const d = this.virtio.find((x) => x.index === slot);
    return d !== undefined && d.kind === 'net' ? (d as VirtioNetDevice) : undefined;
  }

  // ---- board state words -------------------------------------------------------------------

  private getU64(i: number): number {
    const u = this.arena.u32;
    return u[this.w + i + 1]! * TWO32 + u[this.w + i]!;
  }

  private setU64(i: number, v: number): void {
    const u = this.arena.u32;
    u[this.w + i] = v % TWO32 >>> 0;
    u[this.w + i + 1] = Math.floor(v / TWO32) >>> 0;
  }

  get totalSteps(): number {
    return this.getU64(0);
  }

  /** A signed 64-bit board word pair (two's complement). */
  private setI64(i: number, v: number): void {
    const b = BigInt.asUintN(64, BigInt(v));
    this.arena.writeU64(this.w + i, b);
  }

  private getI64(i: number): bigint {
    return BigInt.asIntN(64, this.arena.readU64(this.w + i));
  }

  private get rrHart(): number {
    return this.arena.u32[this.w + 6]!;
  }

  private get rrUsed(): number {
    return this.arena.u32[this.w + 7]!;
  }

  private setRoundRobin(hart: number, used: number): void {
    this.arena.u32[this.w + 6] = hart;
    this.arena.u32[this.w + 7] = used;
  }

  // ---- time ----------------------------------------------------------------------------------

  /** The virtual clock (ns since power-on unless a snapshot moved it). */
  private virtualNs(): number {
    return this.clocks.now('virtual');
  }

  private boardMtime(): number {
    return Math.floor(this.virtualNs() / NS_PER_MTIME_TICK);
  }

  /** Virtual-clock ns of the next CLINT deadline, or RTC alarm when the RTC runs on it; Infinity if none. */
  private nextVirtualEventNs(): number {
    const d = this.clint.nextDeadline();
    let ns = d === Infinity ? Infinity : d * NS_PER_MTIME_TICK;
    if (this.rtcClock === 'virtual') ns = Math.min(ns, this.rtc.nextAlarmNs());
    return ns;
  }

  /** Host monotonic ns of the RTC alarm when the RTC runs on a host clock; Infinity if none. */
  private nextHostEventNs(): number {
    if (this.rtcClock === 'virtual') return Infinity;
    const alarm = this.rtc.nextAlarmNs();
    if (alarm === Infinity) return Infinity;
    return this.host.time.monotonicNs() + Math.max(0, alarm - this.rtcSourceNs(false));
  }

  /**
   * The RTC's clock: ns of `-rtc clock=` since machine creation. A host clock's reading is
   * non-deterministic: when the guest sees it (`guestVisible`), a recording logs it and a replay
   * takes it from the log. Host-side decisions (when to wake) read it directly.
   */
  private rtcSourceNs(guestVisible = true): number {
    const ns = this.clocks.now(this.rtcClock) - this.rtcOrigin[0]!;
    const rr = this.host.rr;
    if (!guestVisible || rr === undefined || this.rtcClock === 'virtual') return ns;
    const clock = this.rtcClock === 'host' ? 'host' : 'realtime';
    if (rr.mode === 'replay') return rr.clockRead(clock, ns, this.exactSteps());
    rr.clockRead(clock, ns, this.exactSteps());
    return ns;
  }

  /** Instructions executed so far, including the running hart's current run (exact inside MMIO). */
  private exactSteps(): number {
    return this.totalSteps + (this.running?.runSteps ?? 0);
  }

  /**
   * Every hart waits for an interrupt. icount with sleep=off: warp the virtual clock to the next
   * virtual deadline and go on (undefined). Otherwise idle until the deadline in host time; with
   * icount and sleep=on the virtual clock follows host time meanwhile (an idle warp, ended by the
   * next runSlice).
   */
  private idle(): SliceResult | undefined {
    const now = this.virtualNs();
    const ev = this.nextVirtualEventNs();
    const hostEv = this.nextHostEventNs();
    const icount = this.config.icount;
    if (icount !== undefined && !icount.sleep) {
      if (ev === Infinity) return { kind: 'idle', wakeAtHostNs: hostEv };
      // Jump to the deadline; if a device reports one that is already due but did not fire,
      // still move time forward so the machine always makes progress.
      this.clocks.warp(Math.max(ev - now, 2 ** this.clocks.shift));
      return undefined;
    }
    // Replaying, idle time comes from the log (recorded warps), never from the host.
    if (icount !== undefined && this.host.rr?.mode === 'replay') return { kind: 'idle', wakeAtHostNs: Infinity };
    if (icount !== undefined) this.clocks.startIdleWarp();
    const hostNow = this.host.time.monotonicNs();
    return { kind: 'idle', wakeAtHostNs: Math.min(ev === Infinity ? Infinity : hostNow + Math.max(0, ev - now), hostEv) };
  }

  /** align=on: when the guest is ahead of host time by more than QEMU's margin, sleep it off. */
  private alignSleep(): SliceResult | undefined {
    const ahead = alignSleepNs(this.clocks.alignAheadNs());
    return ahead > 0 ? { kind: 'idle', wakeAtHostNs: this.host.time.monotonicNs() + ahead } : undefined;
  }

  private updateDevices(): void {
    this.clint.update();
    this.rtc.update();
  }

  /** Wraps a timer device so a guest write ends the running hart's turn (deadlines changed). */
  private exitOnWrite(dev: MmioDevice): MmioDevice {
    return {
      read: (offset, size) => dev.read(offset, size),
      write: (offset, size, value) => {
        dev.write(offset, size, value);
        this.running?.requestExit();
      },
    };
  }

  // ---- requests from the guest ------------------------------------------------------------

  private request(r: SliceResult | 'reset'): void {
    if (this.pending === undefined || (this.pending !== 'reset' && this.pending.kind !== 'shutdown')) this.pending = r;
    this.running?.requestExit();
  }

  private finisher(kind: SifiveTestRequest, code: number): void {
    if (kind === 'pass') this.request({ kind: 'shutdown', cause: 'finisher-pass', exitCode: 0 });
    else if (kind === 'fail') this.request({ kind: 'shutdown', cause: 'finisher-fail', exitCode: code });
    else this.request('reset');
  }

  // ---- boot ----------------------------------------------------------------------------------

  private loadImageAt(label: string, data: Uint8Array, addr: number, loads: RamLoad[]): void {
    if (data.length === 0) throw new BoardError(`${label}: file is empty`);
    if (!this.ram.contains(addr, data.length)) {
      throw new BoardError(
        `${label}: ${data.length} bytes at ${hex(addr)} do not fit in RAM ` +
          `(${hex(this.ram.base)}..${hex(this.ram.base + this.ram.size)}, -m ${this.ram.size / MiB}M)`,
      );
    }
    loads.push({ label, addr, data });
  }

  /** Parses and places an ELF; returns its lowest and highest address. */
  private loadElfImage(label: string, data: Uint8Array, loads: RamLoad[]): { low: number; high: number } {
    try {
      const image = parseElf(data);
      const scratch = { contains: (a: number, n: number) => this.ram.contains(a, n), base: this.ram.base, size: this.ram.size };
      // Validate every segment against RAM first (loadElf's checks), then record the bytes.
      for (const s of image.segments) {
        if (!scratch.contains(s.paddr, s.memSize)) {
          throw new ElfError(
            `segment at ${hex(s.paddr)}..${hex(s.paddr + s.memSize)} is outside RAM (${hex(scratch.base)}..${hex(scratch.base + scratch.size)})`,
          );
        }
        const bytes = new Uint8Array(s.memSize);
        bytes.set(data.subarray(s.fileOffset, s.fileOffset + s.fileSize));
        loads.push({ label, addr: s.paddr, data: bytes });
      }
      return { low: image.lowAddr, high: image.highAddr };
    } catch (e) {
      if (e instanceof ElfError) throw new BoardError(`${label}: ${e.message}`);
      throw e;
    }
  }

  private planBoot(): { plan: BootPlan; dtb: Uint8Array } {
    const config = this.config;
    const dramBase = VIRT_MEMMAP.dram.base;
    const loads: RamLoad[] = [];
    const startAddr = dramBase;
    let firmwareEnd: number = dramBase;
    if (config.bios.kind === 'file') {
      const label = describe('-bios', config.bios.image);
      const data = config.bios.image.data;
      if (isElf(data)) {
        firmwareEnd = this.loadElfImage(label, data, loads).high;
      } else {
        this.loadImageAt(label, data, dramBase, loads);
        firmwareEnd = dramBase + data.length;
      }
    } else if (config.bios.kind === 'default') {
      // The built-in SBI occupies no RAM, but kernels go where they would after OpenSBI.
      firmwareEnd = dramBase + 1;
    }

    let kernelEntry = 0;
    let initrd: { start: number; end: number } | undefined;
    if (config.kernel !== undefined) {
      const label = describe('-kernel', config.kernel);
      const data = config.kernel.data;
      const kernelStart = calcKernelStartAddr(firmwareEnd);
      if (isElf(data)) {
        // As QEMU 7.2's riscv_load_kernel: the ELF's lowest address is the "entry".
        kernelEntry = this.loadElfImage(label, data, loads).low;
        if (config.bios.kind !== 'none' && kernelEntry < kernelStart) {
          // QEMU refuses this too (the kernel overlaps the firmware's region); a bare-metal
          // M-mode program started in S-mode under an SBI would only spin in trap loops.
          throw new BoardError(
            `${label}: loads at ${hex(kernelEntry)}, inside the firmware region ${hex(dramBase)}..${hex(kernelStart)}; ` +
              'bare-metal programs need -bios none',
          );
        }
      } else {
        this.loadImageAt(label, data, kernelStart, loads);
        kernelEntry = kernelStart;
      }
      if (config.initrd !== undefined) {
        const ilabel = describe('-initrd', config.initrd);
        const start = calcInitrdStart(kernelEntry, config.ramSize);
        this.loadImageAt(ilabel, config.initrd.data, start, loads);
        initrd = { start, end: start + config.initrd.data.length };
      }
    }

    let dtb: Uint8Array;
    if (config.dtb !== undefined) {
      dtb = config.dtb.data;
      try {
        parseFdt(dtb);
      } catch (e) {
        throw new BoardError(`${describe('-dtb', config.dtb)}: not a valid device tree blob (${e instanceof Error ? e.message : String(e)})`);
      }
    } else {
      dtb = buildVirtFdt({
        ramBase: dramBase,
        ramSize: config.ramSize,
        smp: config.smp,
        ...(config.append !== undefined ? { bootargs: config.append } : {}),
        ...(initrd !== undefined ? { initrd } : {}),
        timebaseFrequency: MTIME_HZ,
      });
    }
    const fdtAddr = calcFdtAddr(dramBase, config.ramSize, dtb.length);
    this.loadImageAt(config.dtb !== undefined ? describe('-dtb', config.dtb) : 'device tree', dtb, fdtAddr, loads);

    // Images may not overlap (QEMU refuses overlapping ROM blobs too).
    const sorted = [...loads].sort((a, b) => a.addr - b.addr);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      if (a.label !== b.label && a.addr + a.data.length > b.addr) {
        throw new BoardError(`${b.label}: ${hex(b.addr)}..${hex(b.addr + b.data.length)} overlaps ${a.label} at ${hex(a.addr)}..${hex(a.addr + a.data.length)}`);
      }
    }
    return { plan: { loads, startAddr, kernelEntry, fdtAddr }, dtb };
  }

  /** Copies the images into RAM, resets devices and harts, and starts the boot hart(s). */
  private powerOn(): void {
    for (const l of this.plan.loads) this.ram.writeBytes(l.addr, l.data);
    this.clint.reset();
    this.plic.reset();
    this.uart.reset();
    for (const d of this.virtio) d.reset();
    this.rtc.reset(this.getI64(4));
    this.setRoundRobin(0, 0);
    for (const h of this.harts) h.reset(VIRT_MEMMAP.mrom.base);
    if (this.sbi !== undefined) {
      this.hsm.resetAll(HSM_STARTED, HSM_STOPPED);
      enterSupervisor(this.harts[0]!, this.plan.kernelEntry, 0, this.plan.fdtAddr);
    } else {
      this.hsm.resetAll(HSM_STARTED, HSM_STARTED);
    }
    this.drainInput();
  }

  reset(): void {
    this.pending = undefined;
    this.powerOn();
  }

  // ---- console -----------------------------------------------------------------------------

  get pendingConsoleInput(): number {
    const u = this.arena.u32;
    return (u[this.inRing + 1]! - u[this.inRing]!) >>> 0;
  }

  private inputRingFree(): number {
    return INPUT_RING_BYTES - this.pendingConsoleInput;
  }

  /**
   * Console input enters the machine here: into the input ring (machine state, so both threads
   * and a replay see the same bytes), then into UART0 as far as its receiver has room. The rest
   * goes in only when the guest reads the receiver or writes the UART: points the guest's own
   * execution decides, so a replay moves bytes into the UART at the same instruction.
   */
  receiveConsoleInput(bytes: Uint8Array): number {
    const u = this.arena.u32;
    const n = Math.min(bytes.length, this.inputRingFree());
    let tail = u[this.inRing + 1]!;
    for (let i = 0; i < n; i++) {
      this.inBytes[tail % INPUT_RING_BYTES] = bytes[i]!;
      tail = (tail + 1) >>> 0;
    }
    u[this.inRing + 1] = tail;
    this.drainInput();
    return n;
  }

  private drainInput(): void {
    const u = this.arena.u32;
    let head = u[this.inRing]!;
    const tail = u[this.inRing + 1]!;
    while (head !== tail) {
      const chunk = new Uint8Array(Math.min(64, (tail - head) >>> 0));
      for (let i = 0; i < chunk.length; i++) chunk[i] = this.inBytes[(head + i) % INPUT_RING_BYTES]!;
      const taken = this.uart.receive(chunk);
      if (taken === 0) break;
      head = (head + taken) >>> 0;
    }
    u[this.inRing] = head;
  }

  /** One byte from UART0's receiver for the SBI console calls, or -1. */
  private consoleRead(): number {
    this.drainInput();
    if ((this.uart.read(5, 1) & 1) === 0) return -1;
    return this.uart.read(0, 1) & 0xff;
  }

  // ---- scheduling ----------------------------------------------------------------------------

  private runnable(i: number): boolean {
    const h = this.harts[i]!;
    const ok = this.sbi !== undefined ? this.sbi.pollSuspended(h) : this.hsm.isStarted(i);
    // A hart in WFI may run again once an enabled interrupt is pending (its run() wakes it).
    return ok && (!h.waitingForInterrupt || (h.csrRead(CSR_MIP) & h.csrRead(CSR_MIE)) !== 0);
  }

  /** The hart whose turn it is (rotating past harts that cannot run), or -1 if none can. */
  private pick(): number {
    const n = this.harts.length;
    const cur = this.rrHart;
    for (let k = 0; k < n; k++) {
      const i = (cur + k) % n;
      if (this.runnable(i)) {
        if (k !== 0) this.setRoundRobin(i, 0);
        return i;
      }
    }
    return -1;
  }

  private takePending(): SliceResult | undefined {
    const p = this.pending;
    if (p === undefined) return undefined;
    this.pending = undefined;
    if (p !== 'reset') return p;
    if (this.config.noReboot) return { kind: 'shutdown', cause: 'guest-reset', exitCode: 0 };
    this.reset();
    return undefined;
  }

  runSlice(maxSteps: number): SliceResult {
    // With a BQL (vCPU thread): held for the board's device work, dropped while a hart runs.
    const bql = this.bql;
    bql?.lock();
    try {
      return this.runSliceLocked(maxSteps, bql);
    } finally {
      bql?.unlock();
    }
  }

  private runSliceLocked(maxSteps: number, bql: { lock(): void; unlock(): void } | undefined): SliceResult {
    if (this.clocks.idleWarping) {
      const ns = this.clocks.endIdleWarp();
      const rr = this.host.rr;
      if (rr?.mode === 'record' && ns > 0) rr.clockWarp(ns, this.totalSteps);
    }
    let budget = Math.max(0, Math.floor(maxSteps));
    while (true) {
      const p = this.takePending();
      if (p !== undefined) return p;
      if (budget <= 0) return RUNNING;
      this.updateDevices();
      const i = this.pick();
      if (i < 0) {
        const idle = this.idle();
        if (idle !== undefined) return idle;
        continue;
      }
      // Record/replay: the vCPU thread's event mailbox is filling up; let the main thread drain it.
      if (this.host.rr?.backlogged?.() === true) return RUNNING;
      const hart = this.harts[i]!;
      let n = Math.min(this.quantum - this.rrUsed, budget);
      if (this.icount) {
        // Stop at the next virtual deadline so the timer interrupt is taken at the exact count.
        const ev = this.nextVirtualEventNs();
        if (ev !== Infinity) n = Math.max(1, Math.min(n, this.clocks.stepsUntil(ev - this.virtualNs())));
      }
      this.running = hart;
      let ran: number;
      bql?.unlock();
      try {
        ran = hart.run(n);
      } finally {
        this.running = undefined;
        bql?.lock();
      }
      this.setU64(0, this.totalSteps + ran);
      budget -= ran;
      const used = this.rrUsed + ran;
      if (ran === 0 || used >= this.quantum || !this.runnable(i)) {
        this.setRoundRobin((i + 1) % this.harts.length, 0);
      } else {
        this.setRoundRobin(i, used);
      }
      if (ran === 0 && budget > 0) budget--; // guarantees progress of the loop
      if (this.config.icount?.align === true) {
        const sleep = this.alignSleep();
        if (sleep !== undefined) return sleep;
      }
    }
  }

  stateHash(): string {
    return hashMachineState(this.arena, this.ram);
  }
}
