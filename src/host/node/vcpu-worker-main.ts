/**
 * The vCPU worker's entry script (worker_threads; started by vcpu-worker-spawn.ts, possibly before
 * the machine exists): loads its modules, waits for its VcpuWorkerData as the first message, then
 * becomes thread id 1 ('vcpu0'), attaches to the locks and to the machine's shared buffers
 * (attach mode, under replay mutex + BQL so the main thread sees no half-built state), and runs
 * the vCPU loop. Console output goes into the byte
 * ring; bytes that do not fit while locks are held wait in a local queue that is flushed,
 * blocking if needed, after each execution section (so the main thread never waits on us while
 * we wait on it).
 */
import { parentPort } from 'node:worker_threads';
import type { MachineHost, MachineRrHooks } from '../../board/machine-api.js';
import { createVirtMachine } from '../../board/virt.js';
import { attachLocks, setCurrentThreadId, withReplayThenBql } from '../../threads/lock/index.js';
import { ByteRing } from '../../threads/vcpu/byte-ring.js';
import { VcpuControl } from '../../threads/vcpu/control.js';
import {
  VCPU_EVENT_CLOCK_WARP, VCPU_EVENT_INTERRUPT, VCPU_EVENT_MONITOR_RESET, VCPU_EVENT_UNEXPECTED_CLOCK_READ, VcpuEventMailbox,
  clockReadKind, interruptValue,
} from '../../threads/vcpu/event-mailbox.js';
import { runVcpuLoop } from '../../threads/vcpu/vcpu-worker.js';
import { applyCpuEngineFromEnv } from './cpu-engine.js';
import { NodeHostTime } from './host-time.js';
import type { VcpuMessage, VcpuRrChannels, VcpuWorkerData } from './vcpu-protocol.js';

/**
 * The board's record/replay hooks in the vCPU thread. Recording: warps, clock reads, monitor
 * resets and interrupts go to the mailbox. Replaying: clock reads take the recorded values
 * queued by the main thread; a read the log did not expect, and every interrupt taken (when the
 * log has interrupt checkpoints), are reported through the mailbox for the main thread to check.
 */
function workerRr(rr: VcpuRrChannels): { hooks: MachineRrHooks; onReset?: (icount: number) => void; backlogged: () => boolean } {
  const mailbox = new VcpuEventMailbox(rr.mailbox);
  const post = (icount: number, kind: number, value: number): void => {
    if (!mailbox.append(icount, kind, value)) throw new Error('vCPU event mailbox full (the main thread stopped draining it)');
  };
  const interrupt = rr.interrupts ? (hart: number, cause: number, icount: number): void => post(icount, VCPU_EVENT_INTERRUPT, interruptValue(hart, cause)) : undefined;
  const backlogged = (): boolean => mailbox.backlogged;
  if (rr.mode === 'replay') {
    const inputs = rr.inputs === undefined ? undefined : new VcpuEventMailbox(rr.inputs);
    return {
      hooks: {
        idleFollowsHost: false,
        clockRead: (clock, ns, icount) => {
          const next = inputs?.takeFirst();
          if (next !== undefined && next.kind === clockReadKind(clock) && next.icount === icount) return next.value;
          post(icount, VCPU_EVENT_UNEXPECTED_CLOCK_READ, clockReadKind(clock));
          return ns;
        },
        backlogged,
        ...(interrupt !== undefined ? { interrupt } : {}),
      },
      backlogged,
    };
  }
  return {
    hooks: {
      idleFollowsHost: true,
      clockWarp: (ns, icount) => post(icount, VCPU_EVENT_CLOCK_WARP, ns),
      clockRead: (clock, ns, icount) => {
        post(icount, clockReadKind(clock), ns);
        return ns;
      },
      backlogged,
      ...(interrupt !== undefined ? { interrupt } : {}),
    },
    onReset: (icount) => post(icount, VCPU_EVENT_MONITOR_RESET, 0),
    backlogged,
  };
}

function post(m: VcpuMessage): void {
  parentPort?.postMessage(m);
}

function main(data: VcpuWorkerData): void {
  setCurrentThreadId(1, 'vcpu0');
  NodeHostTime.adoptOrigin(data.hostTimeOrigin);
  const locks = attachLocks(data.locks, data.mode);
  const control = new VcpuControl(data.control);
  const ring = new ByteRing(data.ring);
  const overflow: Uint8Array[] = [];
  const rr = data.rr === undefined ? undefined : workerRr(data.rr);
  const host: MachineHost = {
    console: {
      write(bytes: Uint8Array): void {
        if (overflow.length === 0) {
          const n = ring.tryWrite(bytes);
          if (n === bytes.length) return;
          overflow.push(bytes.slice(n));
        } else {
          overflow.push(bytes.slice());
        }
      },
      acceptInput: () => control.acceptInput(),
    },
    time: new NodeHostTime(),
    log: (line) => post({ kind: 'log', line }),
    trace: data.trace,
    bql: locks.bql,
    virtioKick: () => control.ringDoorbell(),
    ...(rr !== undefined ? { rr: rr.hooks } : {}),
  };
  const machine = withReplayThenBql(locks.bql, locks.replay, () =>
    createVirtMachine(data.config, host, { attach: { arena: data.arena, ram: data.ram } }));
  post({ kind: 'ready' });
  const flush = (): void => {
    while (overflow.length > 0) ring.writeAll(overflow.shift()!);
  };
  runVcpuLoop({
    machine,
    locks,
    control,
    time: host.time,
    afterSection: flush,
    ...(rr?.onReset !== undefined ? { onReset: rr.onReset } : {}),
    ...(rr !== undefined ? { backlogged: rr.backlogged } : {}),
    onShutdown: (r) => {
      flush();
      post({ kind: 'shutdown', cause: r.cause, exitCode: r.exitCode });
    },
    ...(data.initialBudget !== undefined ? { initialBudget: data.initialBudget } : {}),
    ...(data.targetSliceMs !== undefined ? { targetSliceMs: data.targetSliceMs } : {}),
  });
}

// The main thread has checked REPLAYVM_CPU (a bad value ends the process there).
applyCpuEngineFromEnv();
parentPort?.once('message', (data: VcpuWorkerData) => {
  try {
    main(data);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ kind: 'error', message: err.message, stack: err.stack ?? err.message });
  }
});
