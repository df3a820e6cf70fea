/**
 * The events of a replay log: everything non-deterministic the machine consumed while it was
 * recorded, each stamped with the global instruction count (`icount`) at which it applies.
 * Along a log, icounts never decrease.
 */

interface At {
  /** Global instruction count at which the event applies: an integer in [0, 2^53). */
  readonly icount: number;
}

/** Bytes typed into UART0. */
export interface ConsoleInputEvent extends At {
  readonly kind: 'console-input';
  readonly bytes: Uint8Array;
}

/** The main loop processed the queues of the virtio device on `slot`. */
export interface VirtioDoorbellEvent extends At {
  readonly kind: 'virtio-doorbell';
  readonly slot: number;
}

/** A block request finished: `request` is the device's sequence number; `data` for reads. */
export interface BlockCompleteEvent extends At {
  readonly kind: 'block-complete';
  readonly slot: number;
  readonly request: number;
  readonly error?: string;
  readonly data?: Uint8Array;
}

/** Random bytes handed to a virtio-rng request. */
export interface EntropyEvent extends At {
  readonly kind: 'entropy';
  readonly slot: number;
  readonly request: number;
  readonly bytes: Uint8Array;
}

/** A network frame delivered to the guest. */
export interface NetReceiveEvent extends At {
  readonly kind: 'net-receive';
  readonly slot: number;
  readonly frame: Uint8Array;
}

/** A host clock value the guest saw (ns, any float64). */
export interface ClockReadEvent extends At {
  readonly kind: 'clock-read';
  readonly clock: 'host' | 'realtime';
  readonly value: number;
}

/**
 * The virtual clock jumped `ns` forward while every hart waited for an interrupt (icount
 * sleep=on: idle time follows host time, QEMU's icount_warp_rt). Recorded by the vCPU thread.
 */
export interface ClockWarpEvent extends At {
  readonly kind: 'clock-warp';
  readonly ns: number;
}

/**
 * A main-loop timer that reads host time changed the guest's clock: an icount shift=auto
 * adjustment (`id` 0: the virtual_rt timer, 1: the virtual timer) set the shift to `shift`.
 */
export interface TimerEvent extends At {
  readonly kind: 'timer';
  readonly id: number;
  readonly shift: number;
}

/** A shutdown/reset/powerdown request. */
export interface RequestEvent extends At {
  readonly kind: 'request';
  readonly what: 'shutdown' | 'reset' | 'powerdown';
  readonly cause: string;
  readonly exitCode?: number;
}

/** A monitor command that changes the guest. */
export interface MonitorEvent extends At {
  readonly kind: 'monitor';
  readonly command: string;
}

/** Checkpoint: hart `hart` took interrupt `cause` (optional in logs). */
export interface InterruptEvent extends At {
  readonly kind: 'interrupt';
  readonly hart: number;
  readonly cause: number;
}

/** One hart in a digest. */
export interface HartDigest {
  readonly pc: number;
  readonly regsHash: string;
  /** x1..x31 (unsigned), so a divergence report can name the registers that differ; optional. */
  readonly regs?: readonly number[];
}

/** Checkpoint: a digest of the machine state. Hashes are 16 hex digits (lowercase when read). */
export interface DigestEvent extends At {
  readonly kind: 'digest';
  readonly harts: readonly HartDigest[];
  readonly devicesHash: string;
  readonly ramHash: string;
  readonly ramPages: number;
}

/** The clean end of the recording: the last event of the last chunk. */
export interface EndEvent extends At {
  readonly kind: 'end';
  readonly reason: 'shutdown' | 'quit' | 'error' | 'signal';
  readonly exitCode: number;
}

export type ReplayEvent =
  | ConsoleInputEvent
  | VirtioDoorbellEvent
  | BlockCompleteEvent
  | EntropyEvent
  | NetReceiveEvent
  | ClockReadEvent
  | ClockWarpEvent
  | TimerEvent
  | RequestEvent
  | MonitorEvent
  | InterruptEvent
  | DigestEvent
  | EndEvent;

export type ReplayEventKind = ReplayEvent['kind'];

/** The event type of one kind: `EventOf<'timer'>` is `TimerEvent`. */
export type EventOf<K extends ReplayEventKind> = Extract<ReplayEvent, { kind: K }>;

/** Every kind, in kind-code order. */
export const EVENT_KINDS: readonly ReplayEventKind[] = [
  'console-input', 'virtio-doorbell', 'block-complete', 'entropy', 'net-receive', 'clock-read',
  'timer', 'request', 'monitor', 'interrupt', 'digest', 'end', 'clock-warp',
];

/** The guest-visible data bytes an event carries (byte arrays only; strings are not counted). */
export function payloadBytesOf(e: ReplayEvent): number {
  switch (e.kind) {
    case 'console-input': return e.bytes.length;
    case 'block-complete': return e.data?.length ?? 0;
    case 'entropy': return e.bytes.length;
    case 'net-receive': return e.frame.length;
    default: return 0;
  }
}
