/** The data and messages between the main thread and the vCPU worker (structured clones). */
import type { MachineConfig, ShutdownCause, TraceFlags } from '../../board/machine-api.js';
import type { ReplayMode } from '../../threads/lock/index.js';

/** Record/replay: the mode and the vCPU thread's mailboxes (see event-mailbox.ts). */
export interface VcpuRrChannels {
  readonly mode: 'record' | 'replay';
  /** Events from the vCPU thread: recorded ones, or (replaying) the mismatches it found. */
  readonly mailbox: SharedArrayBuffer;
  /** Replaying: the recorded host clock values, queued for the vCPU thread. */
  readonly inputs?: SharedArrayBuffer;
  /** Interrupt checkpoints: report every interrupt a hart takes (recording; replaying a log that has them). */
  readonly interrupts: boolean;
}

/** The vCPU worker's first message: the configuration and the shared buffers (never copied). */
export interface VcpuWorkerData {
  readonly config: MachineConfig;
  readonly trace: TraceFlags;
  readonly arena: SharedArrayBuffer;
  readonly ram: SharedArrayBuffer;
  readonly locks: SharedArrayBuffer;
  readonly mode: ReplayMode;
  readonly control: SharedArrayBuffer;
  readonly ring: SharedArrayBuffer;
  /** The main thread's origin of host monotonic time (NodeHostTime.origin). */
  readonly hostTimeOrigin: bigint;
  readonly rr?: VcpuRrChannels;
  readonly initialBudget?: number;
  readonly targetSliceMs?: number;
}

/** Messages from the vCPU worker. */
export type VcpuMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'shutdown'; readonly cause: ShutdownCause; readonly exitCode: number }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string };
