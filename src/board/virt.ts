/**
 * The `virt` board: QEMU 7.2's RISC-V virt machine for RV32IMAC harts. It validates the
 * configuration (virt-config.ts), allocates the state arena and RAM, creates the devices (CLINT,
 * PLIC, UART0 with its console input ring (console-input.ts), Goldfish RTC, sifive_test,
 * virtio-mmio slots) and harts, builds the device tree, loads the images where the boot plan puts
 * them (boot/plan.ts), writes the boot ROM and runs the harts in deterministic round-robin slices
 * (like QEMU's single-threaded TCG, scheduling.ts) on a virtual clock.
 */
import { Hart, type HartApi } from '../cpu/index.js';
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
import { NS_PER_MTIME_TICK, type ClockKind } from '../main-loop/clock.js';
import { clockStoreIn, Clocks } from '../main-loop/clocks.js';
import { IcountError } from '../main-loop/icount-config.js';
import { AddressMap, type MmioDevice } from '../memory/address-map.js';
import type { CharBackend } from '../devices/char-backend.js';
import { createVirtioDevice, type VirtioDevice, type VirtioNetDevice } from '../devices/virtio/index.js';
import { Ram } from '../memory/ram.js';
import { StateArena } from '../memory/state-arena.js';
import { hashMachineState } from '../memory/state-hash.js';
import { BoardWords } from './board-words.js';
import { planBoot, type BootPlan } from './boot/plan.js';
import { buildResetVector, RomDevice } from './boot/reset-vector.js';
import { ConsoleInputRing } from './console-input.js';
import { BoardError } from './errors.js';
import type { Machine, MachineConfig, MachineHost, SliceResult } from './machine-api.js';
import { CSR_MIE, CSR_MIP, HSM_STARTED, HSM_STOPPED } from './sbi/constants.js';
import { BuiltinSbi, enterSupervisor } from './sbi/firmware.js';
import { HartStates } from './sbi/hsm.js';
import { alignSleep, DEFAULT_QUANTUM, idle, RoundRobin, type IdleContext } from './scheduling.js';
import { createCpuTracer, guestErrorHook } from './tracer.js';
import { validateVirtConfig } from './virt-config.js';
import { VIRT_IRQ, VIRT_MEMMAP, VIRTIO_COUNT, virtioBase } from './virt-memory-map.js';

export { BoardError } from './errors.js';

export { DEFAULT_QUANTUM } from './scheduling.js';

/** What each `-rtc clock=` reads among QEMU's clocks. */
const RTC_CLOCK: Readonly<Record<'host' | 'rt' | 'vm', ClockKind>> = { host: 'host', rt: 'realtime', vm: 'virtual' };

const MiB = 1024 * 1024;
const RUNNING: SliceResult = { kind: 'running' };

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
  /** Console input not yet taken by UART0 (machine state). */
  private readonly input: ConsoleInputRing;
  private readonly rom = new RomDevice(VIRT_MEMMAP.mrom.size);
  private readonly plan: BootPlan;
  readonly clocks: Clocks;
  /** Whether virtual time counts instructions (`-icount`). */
  private readonly icount: boolean;
  /** The clock the RTC runs on. */
  private readonly rtcClock: ClockKind;
  /** The RTC clock's value at machine creation (a host-derived arena field, shared by threads). */
  private readonly rtcOrigin: Float64Array;
  /** The board's own state words (total steps, RTC start date, round-robin position). */
  private readonly words: BoardWords;
  private readonly roundRobin: RoundRobin;
  private readonly idleContext: IdleContext;

  // Host-side state (not machine state): the hart inside `run`, a request raised during it,
  // (console input waiting for UART0 is machine state: the ring in the arena).
  private running: HartApi | undefined;
  private pending: SliceResult | 'reset' | undefined;
  /** The BQL when harts run in a vCPU thread (MachineHost.bql). */
  private readonly bql: { lock(): void; unlock(): void } | undefined;

  constructor(config: MachineConfig, host: MachineHost, options: VirtMachineOptions = {}) {
    validateVirtConfig(config);
    this.config = config;
    this.host = host;
    this.icount = config.icount !== undefined;

    this.bql = host.bql;
    const attach = options.attach;
    this.arena = attach === undefined ? new StateArena() : new StateArena(attach.arena.byteLength >>> 2, attach.arena);
    // Attach mode: construction writes arena words (resets, allocation); they are put back at the end.
    const savedArena = attach === undefined ? undefined : this.arena.u32.slice();
    this.words = new BoardWords(this.arena);
    this.words.clear();
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
    this.words.rtcStartNs = BigInt(Math.round(rtcStartNs));
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
          consoleRead: () => this.input.readByte(),
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
    this.roundRobin = new RoundRobin(this.words, harts.length, config.quantum ?? DEFAULT_QUANTUM, (i) => this.runnable(i));
    this.idleContext = { clocks: this.clocks, icount: config.icount, hostTime: host.time, idleFollowsHost: host.rr?.idleFollowsHost ?? true };
    this.sbi?.attach(harts);

    this.clint = new Clint(this.arena, harts, { mtime: () => this.boardMtime() });
    this.plic = new Plic(this.arena, harts, VIRT_PLIC_NUM_SOURCES);
    // Room in the UART's receiver first takes input from the ring, then tells the host.
    const uartBackend: CharBackend = {
      write: (bytes) => host.console.write(bytes),
      acceptInput: () => {
        this.input.drain();
        if (this.input.free > 0) host.console.acceptInput?.();
      },
    };
    this.uart = new Uart16550(this.arena, 'uart0', uartBackend, this.plic.irqLine(VIRT_IRQ.uart0));
    this.input = new ConsoleInputRing(this.arena, this.uart);
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
        this.input.drain();
      },
    });
    this.virtio = this.createVirtioDevices();
    for (let i = 0; i < VIRTIO_COUNT; i++) {
      const dev = this.virtio.find((d) => d.index === i);
      this.bus.add(`virtio${i}`, virtioBase(i), m.virtio.size, dev?.transport ?? new VirtioMmioEmptyTransport());
    }

    const { plan, dtb } = planBoot(config, this.ram);
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

  get totalSteps(): number {
    return this.words.totalSteps;
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
    return rr.clockRead(clock, ns, this.exactSteps());
  }

  /** Instructions executed so far, including the running hart's current run (exact inside MMIO). */
  private exactSteps(): number {
    return this.totalSteps + (this.running?.runSteps ?? 0);
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

  /** Copies the images into RAM, resets devices and harts, and starts the boot hart(s). */
  private powerOn(): void {
    for (const l of this.plan.loads) this.ram.writeBytes(l.addr, l.data);
    this.clint.reset();
    this.plic.reset();
    this.uart.reset();
    for (const d of this.virtio) d.reset();
    this.rtc.reset(this.words.rtcStartNs);
    this.roundRobin.reset();
    for (const h of this.harts) h.reset(VIRT_MEMMAP.mrom.base);
    if (this.sbi !== undefined) {
      this.hsm.resetAll(HSM_STARTED, HSM_STOPPED);
      enterSupervisor(this.harts[0]!, this.plan.kernelEntry, 0, this.plan.fdtAddr);
    } else {
      this.hsm.resetAll(HSM_STARTED, HSM_STARTED);
    }
    this.input.drain();
  }

  reset(): void {
    this.pending = undefined;
    this.powerOn();
  }

  // ---- console -----------------------------------------------------------------------------

  get pendingConsoleInput(): number {
    return this.input.pending;
  }

  /** Console input enters the machine here (see ConsoleInputRing). */
  receiveConsoleInput(bytes: Uint8Array): number {
    return this.input.receive(bytes);
  }

  // ---- scheduling ----------------------------------------------------------------------------

  /** Whether hart `i` can run now (see RoundRobin). */
  private runnable(i: number): boolean {
    const h = this.harts[i]!;
    const ok = this.sbi !== undefined ? this.sbi.pollSuspended(h) : this.hsm.isStarted(i);
    // A hart in WFI may run again once an enabled interrupt is pending (its run() wakes it).
    return ok && (!h.waitingForInterrupt || (h.csrRead(CSR_MIP) & h.csrRead(CSR_MIE)) !== 0);
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
      if (ns > 0) rr?.clockWarp?.(ns, this.totalSteps);
    }
    let budget = Math.max(0, Math.floor(maxSteps));
    while (true) {
      const p = this.takePending();
      if (p !== undefined) return p;
      if (budget <= 0) return RUNNING;
      this.updateDevices();
      const i = this.roundRobin.pick();
      if (i < 0) {
        const r = idle(this.idleContext, this.nextVirtualEventNs(), this.nextHostEventNs());
        if (r !== undefined) return r;
        continue;
      }
      // Record/replay: the vCPU thread's event mailbox is filling up; let the main thread drain it.
      if (this.host.rr?.backlogged?.() === true) return RUNNING;
      const hart = this.harts[i]!;
      let n = Math.min(this.roundRobin.left, budget);
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
      this.words.totalSteps = this.totalSteps + ran;
      budget -= ran;
      this.roundRobin.account(i, ran);
      if (ran === 0 && budget > 0) budget--; // guarantees progress of the loop
      if (this.config.icount?.align === true) {
        const sleep = alignSleep(this.clocks, this.host.time);
        if (sleep !== undefined) return sleep;
      }
    }
  }

  stateHash(): string {
    return hashMachineState(this.arena, this.ram);
  }
}
