/** The data and messages between the main thread and the vCPU worker (structured clones). */
import type { MachineConfig, ShutdownCause, TraceFlags } from '../../board/machine-api.js';
import type { ReplayMode } from '../../threads/lock/index.js';

/** `workerData` of the vCPU worker: the configuration and the shared buffers (never copied). */
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
  /** Record/replay: the mode and the mailbox of vCPU-thread events (recording). */
  readonly rr?: { readonly mode: 'record' | 'replay'; readonly mailbox: SharedArrayBuffer };
  readonly initialBudget?: number;
  readonly targetSliceMs?: number;
}

/** Messages from the vCPU worker. */
export type VcpuMessage =
  | { readonly kind: 'ready' }
  | { readonly kind: 'log'; readonly line: string }
  | { readonly kind: 'shutdown'; readonly cause: ShutdownCause; readonly exitCode: number }
  | { readonly kind: 'error'; readonly message: string; readonly stack: string };
