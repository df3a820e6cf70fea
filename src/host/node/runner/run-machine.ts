/**
 * Runs one machine from a run's configuration: opens the console, trace log, record/replay log
 * and virtio backends, builds the board, starts the run loop, main loop and monitors, and tears
 * everything down when the machine ends. Errors the user can fix are RunnerErrors (one line).
 */
import type { Machine, MachineConfig, MachineHost } from '../../../board/machine-api.js';
import { BlockBackendError } from '../block/block-backend.js';
import type { HostConsole } from '../console.js';
import { nullConsole } from '../console.js';
import { errnoText } from '../errno-text.js';
import { NodeHostTime } from '../host-time.js';
import { serveMainLoop } from '../main-loop-driver.js';
import { EntropyBackendError } from '../rng/entropy-backend.js';
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
import { openReplayMode, type ReplayVerdict } from './replay-mode.js';

/** How a run ended. */
export interface RunResult {
  /** The machine's exit status (QEMU's: the finisher's code; 0 on shutdown, quit or a dumped tree). */
  readonly exitCode: number;
  /** For a replay: how it ended. */
  readonly replay?: ReplayVerdict;
  /**
   * For a replay whose log ran out ('log-ended'): the exit status the log calls for
   * (../replay/exit-status.ts: 5 incomplete, 4 damaged, 1 needs a newer replayvm).
   */
  readonly logExitStatus?: number;
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
  // The network stack (about 18 modules) is loaded only by a run with a network device: start-up time.
  const net = o.virtio.some((p) => p.kind === 'net')
    ? await Promise.all([import('../net/open-netdev.js'), import('../net/user-netdev.js')]) : undefined;
  try {
    return await VirtioHost.open(o.virtio, net === undefined ? undefined : (plan) => net[0].openNetdev(plan, onError), onError, mode);
  } catch (e) {
    if (e instanceof BlockBackendError || e instanceof EntropyBackendError || (net !== undefined && e instanceof net[1].NetdevError)) throw new RunnerError(e.message);
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
  const mode = await openReplayMode(o, env);
  const cleanup = (): void => {
    hostConsole?.close();
    traceLog.close();
  };
  // Restores the terminal even on process.exit from elsewhere.
  process.on('exit', cleanup);
  try {
    // A replay's console file replaces the recording's only once the replay completes.
    if (o.dumpDtb === undefined) hostConsole = await openConsole(o, env, mode.stagedConsole);
    for (const w of o.warnings) env.stderr(`${env.program}: warning: ${w}\n`);
    const deviceError = (line: string): void => env.stderr(`${env.program}: ${line}\n`);
    // Disk images, entropy sources and networks are opened before the machine exists.
    virtioHost = o.dumpDtb !== undefined ? undefined : await openVirtio(o, deviceError, mode.virtioBackends);
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
    const loop = mode.createLoop({
      machine, time: host.time, console: host.console, trace: o.trace, log: host.log, onDoorbell: () => hooks.doorbell(), threaded,
    });
    // The main loop's timers and bottom halves, under the locks when the harts run in a thread.
    const mainLoop = serveMainLoop(machine.clocks, (fn) => loop.locked(fn));
    hooks.doorbell = mode.attach({ machine, loop, mainLoop: mainLoop.loop, virtio: virtioHost });
    hooks.wakeHarts = () => loop.wakeHarts();
    const onSignal = (name: NodeJS.Signals, num: number): void => {
      env.stderr(`${env.program}: terminating on signal ${num} (${name})\n`);
      loop.stop(0);
    };
    // The monitors: -S pauses the runner before it starts ('prelaunch' until cont).
    const vm = new MachineVmControl(loop.machineForMonitor(), loop, {
      startPaused: o.startPaused,
      // A replay takes the recording's resets from the log; the user's would change the guest.
      ...(mode.resetRefused !== undefined ? { resetRefused: mode.resetRefused } : {}),
    });
    if (o.startPaused) await loop.pause();
    const monitorServers = await startMonitors(o, vm, env);
    const listeners = SIGNALS.map(([name, num]) => {
      const l = (): void => onSignal(name, num);
      process.on(name, l);
      return [name, l] as const;
    });
    activeConsole.start({
      // Threaded: into the machine under the locks, then kicks the vCPU thread (issue 4).
      input: (bytes) => mode.consoleInput(bytes, activeConsole.quitKeys),
      quit: () => loop.stop(0),
      interrupt: () => onSignal('SIGINT', 2),
      monitor: o.stdioMonitor === 'none' ? undefined : stdioMonitor(vm),
    });
    try {
      const running = loop.run();
      mode.started();
      const outcome = await running;
      vm.machineEnded(outcome.cause); // SHUTDOWN event (no-op after quit, which sent its own)
      const replay = await mode.finish(outcome, activeConsole);
      // After finish: a replay applies the events logged at the final count (a shift=auto
      // change, say) only once the machine has stopped, as the recording did before its end.
      writeFinalState(machine);
      if (replay === undefined) return { exitCode: outcome.exitCode };
      const { verdict, logExitStatus } = replay;
      return { exitCode: outcome.exitCode, replay: verdict, ...(logExitStatus !== undefined ? { logExitStatus } : {}) };
    } finally {
      mainLoop.driver.stop();
      for (const [name, l] of listeners) process.off(name, l);
      await closeMonitors(monitorServers);
      activeConsole.close();
      await activeConsole.flush();
    }
  } finally {
    await virtioHost?.close();
    mode.close();
    cleanup();
    process.off('exit', cleanup);
  }
}
