/**
 * Runs one machine from a run's configuration: opens the console, trace log, record/replay log
 * and virtio backends, builds the board, starts the run loop, main loop and monitors, and tears
 * everything down when the machine ends. Errors the user can fix are RunnerErrors (one line).
 */
import type { Machine, MachineConfig, MachineHost } from '../../../board/machine-api.js';
import { installAutoShiftTimers } from '../../../main-loop/icount.js';
import type { LockedRunner } from '../../../main-loop/main-loop.js';
import { ReplayVcpuChannel } from '../../../replay/engine/vcpu-channel.js';
import { VcpuEventMailbox } from '../../../threads/vcpu/event-mailbox.js';
import { BlockBackendError } from '../block/open.js';
import type { HostConsole } from '../console.js';
import { nullConsole } from '../console.js';
import { errnoText } from '../errno-text.js';
import { NodeHostTime } from '../host-time.js';
import { serveMainLoop } from '../main-loop-driver.js';
import { openNetdev } from '../net/open-netdev.js';
import { NetdevError } from '../net/user-netdev.js';
import { EntropyBackendError } from '../rng/entropy-backend.js';
import { RunLoop } from '../run-loop.js';
import { ThreadedRunLoop } from '../threaded-run-loop.js';
import { openTraceLog, type TraceLog } from '../trace-log.js';
import { VirtioHost } from '../virtio-host.js';
import { MachineVmControl } from '../vm-control.js';
import type { RunConfig } from './config.js';
import { openConsole } from './console.js';
import { SIGNALS, type RunnerEnv } from './env.js';
import { RunnerError } from './errors.js';
import { writeFileAtomically, writeFinalState } from './files.js';
import { buildMachineConfig } from './machine-config.js';
import { closeMonitors, startMonitors, stdioMonitor } from './monitors.js';
import { checkOverlays, openRrSession, reportRecording, reportReplay } from './rr-session.js';

/**
 * How a replay ended: it reached the recording's end (and its disk writes matched), the
 * machine or the user stopped it first, the log ran out (a crashed recording), or it diverged.
 */
export type ReplayVerdict = 'complete' | 'machine-stopped' | 'log-ended' | 'diverged';

/** How a run ended. */
export interface RunResult {
  /** The machine's exit status (QEMU's: the finisher's code; 0 on shutdown, quit or a dumped tree). */
  readonly exitCode: number;
  /** For a replay: how it ended. */
  readonly replay?: ReplayVerdict;
}

function isBoardError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'BoardError';
}

async function createMachine(config: MachineConfig, host: MachineHost): Promise<Machine> {
  const { createVirtMachine } = await import('../../../board/virt.js');
  return createVirtMachine(config, host);
}

/** Opens the virtio devices' backends; their errors become RunnerErrors (one line, naming the option). */
async function openVirtio(o: RunConfig, onError: (line: string) => void, mode: 'live' | 'replay'): Promise<VirtioHost> {
  try {
    return await VirtioHost.open(o.virtio, (plan) => openNetdev(plan, onError), onError, mode);
  } catch (e) {
    if (e instanceof BlockBackendError || e instanceof EntropyBackendError || e instanceof NetdevError) throw new RunnerError(e.message);
    throw e;
  }
}

/**
 * Runs the machine `o` describes until it shuts down, the user quits or a replay ends.
 * Throws RunnerError for what the user can fix (a file, a socket, a log).
 */
export async function runMachine(o: RunConfig, env: RunnerEnv): Promise<RunResult> {
  let config = buildMachineConfig(o);
  // QEMU dumps the tree even when there is nothing to boot. The tree does not depend on the
  // firmware, so a dump without -kernel is made as with -bios none, which needs no kernel.
  if (o.dumpDtb !== undefined && config.kernel === undefined) config = { ...config, bios: { kind: 'none' } };
  let traceLog: TraceLog;
  try {
    traceLog = openTraceLog(o.logFile);
  } catch (e) {
    throw new RunnerError(`-D ${o.logFile ?? ''}: could not open file: ${errnoText(e)}`);
  }
  let hostConsole: HostConsole | undefined;
  let virtioHost: VirtioHost | undefined;
  const rr = openRrSession(o, env);
  const cleanup = (): void => {
    hostConsole?.close();
    traceLog.close();
  };
  // Restores the terminal even on process.exit from elsewhere.
  process.on('exit', cleanup);
  try {
    // A replay's console file replaces the recording's only once the replay completes.
    if (o.dumpDtb === undefined) hostConsole = await openConsole(o, env, o.rr?.mode === 'replay');
    for (const w of o.warnings) env.stderr(`${env.program}: warning: ${w}\n`);
    const deviceError = (line: string): void => env.stderr(`${env.program}: ${line}\n`);
    // Disk images, entropy sources and networks are opened before the machine exists.
    virtioHost = o.dumpDtb !== undefined ? undefined : await openVirtio(o, deviceError, rr?.kind === 'replay' ? 'replay' : 'live');
    // Hooks into the runner and main loop, which are made after the machine.
    const hooks = { doorbell: (): void => {}, wakeHarts: (): void => {} };
    const host: MachineHost = {
      console: hostConsole?.backend ?? nullConsole().backend,
      time: new NodeHostTime(),
      log: traceLog.log,
      trace: o.trace,
      deviceError,
      ...(virtioHost !== undefined && virtioHost.devices.length > 0 ? {
        virtioBackends: virtioHost.backends,
        virtioKick: () => hooks.doorbell(),
        wakeHarts: () => hooks.wakeHarts(),
      } : {}),
    };
    config = { ...config, virtio: virtioHost?.devices ?? [] };
    let machine: Machine;
    try {
      machine = await createMachine(config, host);
    } catch (e) {
      if (isBoardError(e)) throw new RunnerError(e.message);
      throw e;
    }
    if (o.dumpDtb !== undefined) {
      writeFileAtomically(o.dumpDtb, machine.dtb);
      return { exitCode: 0 };
    }
    const activeConsole = hostConsole as HostConsole;
    // Issue 4 (threads): harts run in a vCPU worker (ThreadedRunLoop); REPLAYVM_THREADS=0, or -d
    // tracing (its lines would come from another thread), keeps the single-thread RunLoop.
    const threaded = process.env['REPLAYVM_THREADS'] !== '0' && !Object.values(o.trace).some(Boolean);
    const lockMode = rr === undefined ? undefined : rr.kind === 'record' ? 'record' as const : 'play' as const;
    const mailbox = rr === undefined ? undefined : VcpuEventMailbox.create();
    const clockInputs = rr?.kind === 'replay' ? VcpuEventMailbox.create(256) : undefined;
    const loop = threaded
      ? new ThreadedRunLoop(machine, host.time, {
        console: host.console, trace: o.trace, log: host.log, onDoorbell: () => hooks.doorbell(),
        ...(lockMode !== undefined ? { mode: lockMode } : {}),
        ...(rr !== undefined && mailbox !== undefined ? {
          rr: {
            mode: rr.kind, mailbox: mailbox.buffer, ...(clockInputs !== undefined ? { inputs: clockInputs.buffer } : {}),
            interrupts: rr.kind === 'record' || rr.session.interruptCheckpoints,
          },
        } : {}),
      })
      : new RunLoop(machine, host.time);
    // The main loop's timers and bottom halves, under the locks when the harts run in a thread.
    const locked: LockedRunner = loop instanceof ThreadedRunLoop ? (fn) => loop.controller.locked(fn) : (fn) => fn();
    const mainLoop = serveMainLoop(machine.clocks, locked);
    // Record: every input goes through the recorder. Replay: the log drives the machine.
    const recorder = rr?.kind === 'record' && loop instanceof ThreadedRunLoop ? rr.session.attach(machine, locked, mailbox) : undefined;
    // shift=auto's adjustments read host time: recorded, and a replay takes them from the log.
    if (rr?.kind !== 'replay') installAutoShiftTimers(machine.clocks, mainLoop.loop.timers, recorder === undefined ? undefined : (id, shift) => recorder.shiftChanged(id, shift));
    if (recorder !== undefined && loop instanceof ThreadedRunLoop) {
      loop.setInputTap((bytes) => recorder.consoleInput(bytes));
      virtioHost?.setRecorder(recorder);
    }
    if (virtioHost !== undefined) {
      const queues = virtioHost.attach(mainLoop.loop, machine, recorder !== undefined ? () => recorder.virtioDoorbells() : undefined);
      hooks.doorbell = rr?.kind === 'replay' ? () => {} : () => queues.schedule();
      hooks.wakeHarts = loop instanceof ThreadedRunLoop ? () => loop.controller.kick() : () => loop.wake();
    }
    if (rr?.kind === 'replay' && loop instanceof ThreadedRunLoop) rr.session.prepare(loop.controller);
    const onSignal = (name: NodeJS.Signals, num: number): void => {
      env.stderr(`${env.program}: terminating on signal ${num} (${name})\n`);
      loop.stop(0);
    };
    // The monitors: -S pauses the runner before it starts ('prelaunch' until cont).
    const vm = new MachineVmControl(loop instanceof ThreadedRunLoop ? loop.machineForMonitor() : machine, loop, {
      startPaused: o.startPaused,
      // A replay takes the recording's resets from the log; the user's would change the guest.
      ...(rr?.kind === 'replay' ? { resetRefused: 'system_reset is refused while replaying: the replay applies the recording\'s resets' } : {}),
    });
    if (o.startPaused) await loop.pause();
    const monitorServers = await startMonitors(o, vm);
    const listeners = SIGNALS.map(([name, num]) => {
      const l = (): void => onSignal(name, num);
      process.on(name, l);
      return [name, l] as const;
    });
    let inputNoticeShown = false;
    activeConsole.start({
      input: (bytes) => {
        if (rr?.kind === 'replay') {
          const keys = activeConsole.quitKeys;
          if (!inputNoticeShown) env.stderr(`\r\n${env.program}: replaying ${rr.session.path}: console input is ignored${keys !== undefined ? ` (${keys} quits)` : ''}\r\n`);
          inputNoticeShown = true;
          return;
        }
        // Threaded: into the machine under the locks, then kicks the vCPU thread (issue 4).
        loop.input(bytes);
      },
      quit: () => loop.stop(0),
      interrupt: () => onSignal('SIGINT', 2),
      monitor: o.stdioMonitor === 'none' ? undefined : stdioMonitor(vm),
    });
    try {
      const running = loop.run();
      const driving = rr?.kind === 'replay' && loop instanceof ThreadedRunLoop && virtioHost !== undefined
        ? rr.session.drive(machine, loop.controller, locked, virtioHost.replayDevices(),
          mailbox !== undefined && clockInputs !== undefined ? new ReplayVcpuChannel(mailbox, clockInputs) : undefined).then((r) => {
          if (r.kind !== 'machine-stopped') loop.stop(r.kind === 'end' ? r.event.exitCode : 0);
          return r;
        })
        : undefined;
      const outcome = await running;
      vm.machineEnded(outcome.cause); // SHUTDOWN event (no-op after quit, which sent its own)
      writeFinalState(machine);
      if (rr?.kind === 'record') {
        rr.session.finish(outcome.cause === 'host-request' ? 'quit' : 'shutdown', outcome.exitCode);
        reportRecording(rr.session.path, machine.totalSteps, virtioHost?.diskOverlays() ?? [], env);
      }
      if (rr?.kind === 'replay' && driving !== undefined) {
        rr.session.stop();
        const r = await driving;
        reportReplay(r, machine.totalSteps, env);
        const complete = r.kind === 'end' && !checkOverlays(rr.session.path, virtioHost?.diskOverlays() ?? [], env);
        const staged = activeConsole.staged;
        if (staged !== undefined && complete) {
          await activeConsole.flush();
          staged.commit();
        } else if (staged !== undefined) {
          env.stderr(`${env.program}: the replay's console output is in ${staged.path}; ${staged.target} is unchanged\n`);
        }
        const replay: ReplayVerdict = complete ? 'complete' : r.kind === 'end' ? 'diverged' : r.kind;
        return { exitCode: outcome.exitCode, replay };
      }
      return { exitCode: outcome.exitCode };
    } finally {
      mainLoop.driver.stop();
      for (const [name, l] of listeners) process.off(name, l);
      await closeMonitors(monitorServers);
      activeConsole.close();
      await activeConsole.flush();
    }
  } finally {
    await virtioHost?.close();
    if (rr?.kind === 'record') rr.session.abandon();
    if (rr?.kind === 'replay') rr.session.close();
    cleanup();
    process.off('exit', cleanup);
  }
}
