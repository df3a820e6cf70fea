/**
 * What the layers above the board (CLI, later the vCPU thread, monitor and replay) see of a
 * machine: a configuration in, a machine that runs in slices out. Host services are injected.
 */
import type { CharBackend } from '../devices/char-backend.js';
import type { HartApi } from '../cpu/index.js';
import type { HostTime } from '../main-loop/clock.js';
import type { Clocks } from '../main-loop/clocks.js';
import type { IcountConfig } from '../main-loop/icount.js';
import type { RtcClockSource } from '../main-loop/rtc-clock.js';
import type { Ram } from '../memory/ram.js';
import type { VirtioBackend, VirtioDeviceSpec, VirtioNetDevice } from '../devices/virtio/index.js';
import type { StateArena } from '../memory/state-arena.js';

/** A file the user named, already read by the host layer. */
export interface BootImage {
  readonly path: string;
  readonly data: Uint8Array;
}

export type BiosChoice =
  | { readonly kind: 'none' }
  | { readonly kind: 'default' } // the built-in SBI firmware written in TypeScript
  | { readonly kind: 'file'; readonly image: BootImage };

export interface MachineConfig {
  /** RAM size in bytes (`-m`, default 128 MiB). */
  readonly ramSize: number;
  /** Number of harts (`-smp`, 1..8). */
  readonly smp: number;
  readonly bios: BiosChoice;
  readonly kernel?: BootImage | undefined;
  readonly initrd?: BootImage | undefined;
  readonly append?: string | undefined;
  /** `-dtb`: a device tree blob used instead of the generated one. */
  readonly dtb?: BootImage | undefined;
  /**
   * `-icount`: when set, the virtual clock is `bias + (steps << shift)` ns, a function of the
   * instructions executed (deterministic with a fixed shift and sleep=off); else it follows the host.
   */
  readonly icount?: IcountConfig | undefined;
  /** `-rtc`: what the goldfish RTC shows. Default: the host's wall time, following the host clock. */
  readonly rtc?: MachineRtc | undefined;
  /** Devices on the virtio-mmio slots (`-device virtio-*-device`); the other slots stay empty. */
  readonly virtio?: readonly MachineVirtioDevice[];
  /** `-no-reboot`: a guest reset request exits instead. */
  readonly noReboot: boolean;
  /** Steps each hart runs before the next one gets its turn (`-smp` round robin). */
  readonly quantum?: number;
}

/** A virtio device on virtio-mmio slot `slot` (0..7; slot i is at 0x10001000 + i * 0x1000, PLIC source 1 + i). */
export interface MachineVirtioDevice {
  readonly slot: number;
  readonly spec: VirtioDeviceSpec;
}

/** The goldfish RTC's configuration (QEMU's `-rtc base=...,clock=...`, resolved by the host). */
export interface MachineRtc {
  /** RTC time at power-on, ns since the Unix epoch. Undefined: the host's wall time then. */
  readonly startNs?: number;
  /** The clock the RTC advances with: host wall time, host monotonic time, or virtual time. */
  readonly clock: RtcClockSource;
}

/** Which `-d` trace categories are on. */
export interface TraceFlags {
  readonly int: boolean;
  readonly guestErrors: boolean;
  readonly unimp: boolean;
  readonly inAsm: boolean;
}

/** A host clock the guest can read (through an RTC on `-rtc clock=host|rt`). */
export type GuestReadableClock = 'host' | 'realtime';

/**
 * Record/replay hooks of the board; `icount` is the exact instruction count. The board never
 * asks whether it records or replays: the host hands it the hooks of its mode (see
 * src/host/node/vcpu-worker-main.ts). Recording, they log each host clock value the guest sees
 * and each idle clock warp (icount sleep=on: the host time spent idle, added to the virtual
 * clock); replaying, `clockRead` returns the recorded value, and idle time comes from the log's
 * warps, applied from outside. Both modes may report every interrupt a hart takes (checkpoints:
 * logged when recording, compared with the log when replaying).
 */
export interface MachineRrHooks {
  /**
   * The guest sees a host clock: `ns` is this run's reading; returns the value the guest gets
   * (recording: `ns`, logged; replaying: the recorded value, or `ns` after reporting a divergence).
   */
  clockRead(clock: GuestReadableClock, ns: number, icount: number): number;
  /**
   * Whether idle time (icount sleep=on) follows host time, reported through `clockWarp`
   * (recording); false when it comes from elsewhere and the board must only wait (replaying).
   */
  readonly idleFollowsHost: boolean;
  /** The virtual clock jumped `ns` forward while every hart was idle (when idle time follows host time). */
  readonly clockWarp?: (ns: number, icount: number) => void;
  /** A hart took interrupt `cause` (a checkpoint). */
  readonly interrupt?: (hart: number, cause: number, icount: number) => void;
  /** The events reported are piling up (the main thread drains them): end the slice. */
  readonly backlogged?: () => boolean;
}

/** Host services a machine needs, implemented in src/host. */
export interface MachineHost {
  /** UART0's output. */
  readonly console: CharBackend;
  readonly time: HostTime;
  /** Sink for `-d` trace lines (`-D FILE` or stderr). */
  readonly log: (line: string) => void;
  readonly trace: TraceFlags;
  /**
   * The big lock, when the harts run in a vCPU thread and the main loop touches devices from
   * another thread. The machine takes it around every device access from the harts, around the
   * firmware (SBI) trap handler and around its own device work in `runSlice`; never while a
   * hart executes guest code. Absent: single-thread, no locking.
   */
  readonly bql?: { lock(): void; unlock(): void };
  /**
   * The virtio devices' host backends by slot. Only the machine that does the queue work (the
   * main thread's) has them; the vCPU thread's machine only rings doorbells.
   */
  readonly virtioBackends?: ReadonlyMap<number, VirtioBackend>;
  /**
   * A guest rang a virtio doorbell (called under the BQL on the thread running the harts): the
   * main loop must call `processVirtioQueues` soon (QEMU's ioeventfd).
   */
  readonly virtioKick?: () => void;
  /** A device raised an interrupt from the main loop: the harts must notice (end an idle wait). */
  readonly wakeHarts?: () => void;
  /** Record/replay hooks of the thread running the harts (see MachineRrHooks). */
  readonly rr?: MachineRrHooks;
  /** Always-on device error messages (a virtio device broken by its driver); default: `log`. */
  readonly deviceError?: (line: string) => void;
}

export type ShutdownCause = 'finisher-pass' | 'finisher-fail' | 'guest-shutdown' | 'guest-reset' | 'host-request';

/** Why `runSlice` returned. */
export type SliceResult =
  /** The step budget ran out; call again. */
  | { readonly kind: 'running' }
  /** Every hart waits for an interrupt; nothing will happen before host time `wakeAtHostNs` (or input). */
  | { readonly kind: 'idle'; readonly wakeAtHostNs: number }
  /** The guest asked to stop the machine; the process should exit with `exitCode`. */
  | { readonly kind: 'shutdown'; readonly cause: ShutdownCause; readonly exitCode: number };

export interface Machine {
  readonly config: MachineConfig;
  /** The device tree blob handed to the guest. */
  readonly dtb: Uint8Array;
  readonly arena: StateArena;
  readonly ram: Ram;
  readonly harts: readonly HartApi[];
  /**
   * QEMU's four clocks over this machine's shared state: the vCPU thread's machine and the main
   * thread's view read the same clock. Pause them when the VM stops, resume when it continues.
   */
  readonly clocks: Clocks;
  /** Steps executed by all harts since power-on (the global instruction count). */
  readonly totalSteps: number;
  /** Runs up to `maxSteps` steps in total, round robin over the harts. */
  runSlice(maxSteps: number): SliceResult;
  /** Console bytes accepted by `receiveConsoleInput` but not yet taken by UART0 (FIFO full). */
  readonly pendingConsoleInput?: number;
  /** Bytes typed on the console, into UART0's receive FIFO. */
  /**
   * Bytes typed on the console, into the machine's input ring (then UART0): returns how many it
   * took; the caller keeps the rest and offers them again when the console backend's
   * `acceptInput` fires.
   */
  receiveConsoleInput(bytes: Uint8Array): number;
  /** Main loop, under the locks: the queue work of every virtio device whose doorbell rang. */
  processVirtioQueues(): void;
  /** The slots whose doorbell rang and whose queue work is pending (ascending). */
  virtioDoorbells(): number[];
  /** Main loop, under the locks: the queue work of the device on `slot` (record/replay drive it one slot at a time). */
  processVirtioQueue(slot: number): void;
  /** The virtio-net device on `slot`, if any (its backend delivers frames to it). */
  virtioNet(slot: number): VirtioNetDevice | undefined;
  /** System reset, as the guest's reset request or `system_reset` does. */
  reset(): void;
  /** A hash of all machine state (state arena and RAM), hex. Equal hashes mean equal machines. */
  stateHash(): string;
}
