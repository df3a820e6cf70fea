/**
 * The replayvm program: parses the command line, reads the named files, builds the machine's
 * configuration and host services, and runs the machine until it shuts down. Returns the exit
 * code; the entry (main.ts) exits the process with it.
 */
import { gunzipSync } from 'node:zlib';
import { relative } from 'node:path';
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import type { BootImage, Machine, MachineConfig, MachineHost, MachineRtc } from '../board/machine-api.js';
import type { HostConsole, StdioMonitorFactory } from '../host/node/console.js';
import { fileConsole, nullConsole, stdioConsole, withStdioMonitor } from '../host/node/console.js';
import { openSocketConsole, SocketConsoleError, type SocketConsole } from '../host/node/socket-console.js';
import { NodeHostTime } from '../host/node/host-time.js';
import { serveMainLoop } from '../host/node/main-loop-driver.js';
import { BlockBackendError } from '../host/node/block/open.js';
import { openNetdev } from '../host/node/net/open-netdev.js';
import { NetdevError } from '../host/node/net/user-netdev.js';
import { EntropyBackendError } from '../host/node/rng/entropy-backend.js';
import { VirtioHost } from '../host/node/virtio-host.js';
import { RecordSession, ReplaySession, type ReplayOutcome } from '../host/node/replay/session.js';
import { compareOverlays, overlayPath, readOverlayFile, writeOverlayFile } from '../host/node/replay/overlay-file.js';
import { checkImages, checkRrOptions, machineImages, parseRecordCommand, parseReplayCommand } from './rr.js';
import { dumpMain } from './dump.js';
import { VcpuEventMailbox } from '../threads/vcpu/event-mailbox.js';
import { ReplayVcpuChannel } from '../replay/engine/vcpu-channel.js';
import { installAutoShiftTimers } from '../main-loop/icount.js';
import type { LockedRunner } from '../main-loop/main-loop.js';
import { RunLoop } from '../host/node/run-loop.js';
import { ThreadedRunLoop } from '../host/node/threaded-run-loop.js';
import type { TraceLog } from '../host/node/trace-log.js';
import { openTraceLog } from '../host/node/trace-log.js';
import { MachineVmControl } from '../host/node/vm-control.js';
import { writeAll } from '../host/node/write-all.js';
import { HMP_PROMPT, HmpConnection } from '../monitor/hmp/connection.js';
import type { MonitorServerHandle } from '../monitor/server.js';
import { MonitorServerError, startHmpServer, startQmpServer } from '../monitor/server.js';
import type { VmControl } from '../monitor/vm-control.js';
import type { RunOptions } from './options.js';
import { CliError, parseCommandLine, PROGRAM, VERSION } from './options.js';
import { errnoText } from '../host/node/errno-text.js';

/** Where the program writes; replaceable for tests. */
export interface ProgramIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** Writes to a standard stream; a reader that went away (EPIPE) is not an error. */
function writeStd(fd: number, text: string): void {
  try {
    writeAll(fd, Buffer.from(text));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  }
}

const PROCESS_IO: ProgramIo = {
  stdout: (text) => writeStd(1, text),
  stderr: (text) => writeStd(2, text),
};


/** Reads a file named by `option`, or throws a CliError naming both. */
export function readImage(option: string, path: string): BootImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CliError(`${option} ${path}: could not read file: ${errnoText(e)}`);
  }
  // A gzip-compressed image (the bundled kernel is shipped as Image.gz) is loaded decompressed.
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_IMAGE_BYTES });
    } catch (e) {
      throw new CliError(`${option} ${path}: not a valid gzip file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { path, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
}

/** Largest decompressed image (more than any RAM size the board takes). */
const MAX_IMAGE_BYTES = 2 ** 31;

/** Builds the machine configuration, reading every file the options name. */
type RtcOptions = Pick<RunOptions, 'rtc'>;

export function buildMachineConfig(o: RunOptions): MachineConfig {
  return {
    ramSize: o.ramSize,
    smp: o.smp,
    bios: o.bios.kind === 'file' ? { kind: 'file', image: readImage('-bios', o.bios.path) } : o.bios,
    kernel: o.kernel === undefined ? undefined : readImage('-kernel', o.kernel),
    initrd: o.initrd === undefined ? undefined : readImage('-initrd', o.initrd),
    append: o.append,
    dtb: o.dtb === undefined ? undefined : readImage('-dtb', o.dtb),
    icount: o.icount,
    rtc: machineRtc(o.rtc),
    noReboot: o.noReboot,
  };
}

/**
 * The RTC for `-rtc`: its start (undefined for utc: the board reads the host's wall time; the
 * host's local time for localtime; the given date for DATE) and clock.
 */
function machineRtc(rtc: RtcOptions['rtc']): MachineRtc | undefined {
  if (rtc === undefined) return undefined;
  const clock = rtc.clock;
  if (rtc.base.kind === 'utc') return { clock };
  if (rtc.base.kind === 'date') return { clock, startNs: rtc.base.epochMs * 1e6 };
  const nowMs = Date.now();
  return { clock, startNs: (nowMs - new Date(nowMs).getTimezoneOffset() * 60_000) * 1e6 };
}

/**
 * The console for UART0 (`o.console`: -serial, or QEMU's default as options.ts resolved it).
 * Without -serial, QEMU uses a graphical virtual console unless -nographic; we have no display,
 * so the serial port goes to stdio (with a notice). With `-monitor stdio` the human monitor
 * owns stdin and stdout.
 */
async function openConsole(o: RunOptions, io: ProgramIo): Promise<HostConsole> {
  const serial = o.console;
  if (o.serial === undefined && !o.nographic && !o.displayNone) {
    io.stderr(serial.kind === 'null'
      ? `${PROGRAM}: no graphical display and -monitor stdio: the serial port is not connected (use -serial file:PATH)\n`
      : `${PROGRAM}: no graphical display: using -serial mon:stdio (Ctrl-A x quits; -nographic hides this notice)\n`);
  }
  // A replay's console file replaces the recording's only once the replay completes.
  const chardev = serial.kind === 'socket' ? await openSocketSerial(serial, io) : openSerial(serial, o.rr?.mode === 'replay');
  return o.stdioMonitor === 'stdio' ? withStdioMonitor(chardev) : chardev;
}

/**
 * A socket for the serial port: listens, and with wait=on (QEMU's default) returns only once a
 * client is connected, so the machine does not run before it (a signal meanwhile ends the program).
 */
async function openSocketSerial(serial: Extract<RunOptions['console'], { kind: 'socket' }>, io: ProgramIo): Promise<HostConsole> {
  let chardev: SocketConsole;
  try {
    chardev = await openSocketConsole(serial.address, { warn: (line) => io.stderr(`${PROGRAM}: ${serial.option}: ${line}\n`) });
  } catch (e) {
    if (e instanceof SocketConsoleError) throw new CliError(`${serial.option}: ${e.message}`);
    throw e;
  }
  if (serial.wait) {
    io.stderr(`${PROGRAM}: ${serial.option}: info: QEMU waiting for connection on: ${chardev.label}\n`);
    const signal = await chardev.waitForClient();
    if (signal === 'closed') throw new CliError(`${serial.option}: closed while waiting for a connection`);
    if (signal !== undefined) {
      chardev.close();
      throw new CliError(`terminating on signal ${SIGNALS.find(([name]) => name === signal)?.[1] ?? 0} (${signal}) while waiting for a connection on ${serial.option}`);
    }
  }
  return chardev;
}

function openSerial(serial: Exclude<RunOptions['console'], { kind: 'socket' }>, staged: boolean): HostConsole {
  switch (serial.kind) {
    case 'null': return nullConsole();
    case 'stdio': return stdioConsole(false);
    case 'mon-stdio': return stdioConsole(true);
    case 'file':
      try {
        return fileConsole(serial.path, { staged });
      } catch (e) {
        throw new CliError(`-serial file:${serial.path}: could not open file: ${errnoText(e)}`);
      }
  }
}

/** The human monitor on stdio: banner on the first focus, then a prompt each time. */
function stdioMonitor(vm: VmControl): StdioMonitorFactory {
  return (write) => {
    const conn = new HmpConnection(vm, write);
    let shown = false;
    return {
      receive: (bytes) => conn.receive(bytes),
      focus: () => {
        if (shown) {
          write(HMP_PROMPT);
        } else {
          shown = true;
          conn.start();
        }
      },
    };
  };
}

/** Starts the socket monitors in order; on a failure, closes those already started. */
async function startMonitors(o: RunOptions, vm: VmControl): Promise<MonitorServerHandle[]> {
  const handles: MonitorServerHandle[] = [];
  try {
    for (const m of o.monitors) {
      handles.push(m.mode === 'control' ? await startQmpServer(m.address, vm) : await startHmpServer(m.address, vm));
    }
  } catch (e) {
    await Promise.all(handles.map((h) => h.close()));
    if (e instanceof MonitorServerError) throw new CliError(`${o.monitors[handles.length]?.mode === 'control' ? '-qmp' : '-monitor'}: ${e.message}`);
    throw e;
  }
  return handles;
}

/** Closes the monitors after pending replies and events had a turn to reach the sockets. */
async function closeMonitors(handles: readonly MonitorServerHandle[]): Promise<void> {
  if (handles.length === 0) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  await Promise.all(handles.map((h) => h.close()));
}

function isBoardError(e: unknown): e is Error {
  return e instanceof Error && e.name === 'BoardError';
}

async function createMachine(config: MachineConfig, host: MachineHost): Promise<Machine> {
  const { createVirtMachine } = await import('../board/virt.js');
  return createVirtMachine(config, host);
}

/** Writes `data` to `path` through a temporary file and a rename, as QEMU's dumpdtb. */
function writeFileAtomically(path: string, data: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, data);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created
    }
    throw new CliError(`-machine dumpdtb=${path}: could not write file: ${errnoText(e)}`);
  }
}

const SIGNALS: ReadonlyArray<readonly [NodeJS.Signals, number]> = [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]];

async function runMachine(o: RunOptions, io: ProgramIo): Promise<number> {
  checkRrOptions(o);
  if (o.rr?.mode === 'record') o = fixForRecording(o);
  if (o.rr?.mode === 'replay') o = withRecordedRtc(o);
  let config = buildMachineConfig(o);
  // QEMU dumps the tree even when there is nothing to boot. The tree does not depend on the
  // firmware, so a dump without -kernel is made as with -bios none, which needs no kernel.
  if (o.dumpDtb !== undefined && config.kernel === undefined) config = { ...config, bios: { kind: 'none' } };
  let traceLog: TraceLog;
  try {
    traceLog = openTraceLog(o.logFile);
  } catch (e) {
    throw new CliError(`-D ${o.logFile ?? ''}: could not open file: ${errnoText(e)}`);
  }
  let hostConsole: HostConsole | undefined;
  let virtioHost: VirtioHost | undefined;
  const rr = openRrSession(o);
  const cleanup = (): void => {
    hostConsole?.close();
    traceLog.close();
  };
  // Restores the terminal even on process.exit from elsewhere.
  process.on('exit', cleanup);
  try {
    if (o.dumpDtb === undefined) hostConsole = await openConsole(o, io);
    for (const w of o.warnings) io.stderr(`${PROGRAM}: warning: ${w}\n`);
    const deviceError = (line: string): void => io.stderr(`${PROGRAM}: ${line}\n`);
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
      if (isBoardError(e)) throw new CliError(e.message);
      throw e;
    }
    if (o.dumpDtb !== undefined) {
      writeFileAtomically(o.dumpDtb, machine.dtb);
      return 0;
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
      io.stderr(`${PROGRAM}: terminating on signal ${num} (${name})\n`);
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
          if (!inputNoticeShown) io.stderr(`\r\n${PROGRAM}: replaying ${rr.session.path}: console input is ignored${keys !== undefined ? ` (${keys} quits)` : ''}\r\n`);
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
          if (r.kind !== 'machine-stopped') loop.stop(r.kind === 'end' ? r.event.exitCode : r.kind === 'diverged' ? REPLAY_DIVERGED_EXIT : 0);
          return r;
        })
        : undefined;
      const outcome = await running;
      vm.machineEnded(outcome.cause); // SHUTDOWN event (no-op after quit, which sent its own)
      writeFinalState(machine);
      if (rr?.kind === 'record') {
        rr.session.finish(outcome.cause === 'host-request' ? 'quit' : 'shutdown', outcome.exitCode);
        io.stderr(`${PROGRAM}: recorded ${machine.totalSteps} instructions to ${rr.session.path}\n`);
        for (const d of virtioHost?.diskOverlays() ?? []) {
          const path = overlayPath(rr.session.path, d.slot);
          const n = writeOverlayFile(path, [...d.sectors].sort((a, b) => a[0] - b[0]));
          io.stderr(`${PROGRAM}: disk writes of virtio${d.slot} (${n} sectors; the image is unchanged) kept in ${path}\n`);
        }
        io.stderr(`${PROGRAM}: replay with: ${replayCommand(rr.session.path)}\n`);
      }
      if (rr?.kind === 'replay' && driving !== undefined) {
        rr.session.stop();
        const r = await driving;
        const code = reportReplay(r, machine.totalSteps, io);
        const complete = code === undefined && r.kind === 'end' && !checkOverlays(rr.session.path, virtioHost?.diskOverlays() ?? [], io);
        const staged = activeConsole.staged;
        if (staged !== undefined && complete) {
          await activeConsole.flush();
          staged.commit();
        } else if (staged !== undefined) {
          io.stderr(`${PROGRAM}: the replay's console output is in ${staged.path}; ${staged.target} is unchanged\n`);
        }
        if (code !== undefined) return code;
        if (r.kind === 'end' && !complete) return REPLAY_DIVERGED_EXIT;
      }
      return outcome.exitCode;
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

/**
 * A recording's machine must start the same way when replayed: its RTC start date is fixed now
 * (and kept in the options the log's header stores), and disk images are never modified (writes
 * go to an overlay).
 */
function fixForRecording(o: RunOptions): RunOptions {
  let argv = [...o.argv];
  let rtc = o.rtc;
  if (rtc === undefined || rtc.base.kind !== 'date') {
    const epochMs = Math.floor(Date.now() / 1000) * 1000;
    rtc = { base: { kind: 'date', epochMs }, clock: rtc?.clock ?? 'vm' };
    const i = argv.findIndex((w) => w === '-rtc' || w === '--rtc');
    if (i >= 0) argv.splice(i, 2);
    argv = [...argv, '-rtc', `base=${new Date(epochMs).toISOString().slice(0, 19)},clock=${rtc.clock}`];
  }
  return {
    ...o,
    argv,
    rtc,
    virtio: o.virtio.map((p) => (p.kind === 'blk' ? { ...p, drive: { ...p.drive, snapshot: true } } : p)),
  };
}

/** The command that replays `log`, runnable from the current directory. */
function replayCommand(log: string): string {
  const script = process.argv[1];
  const quote = (t: string): string => (/^[\w./@+-]+$/.test(t) ? t : `'${t.replace(/'/g, "'\\''")}'`);
  if (script === undefined || !/main\.js$/.test(script)) return `${PROGRAM} replay ${quote(log)}`;
  return `node ${quote(relative(process.cwd(), script) || script)} replay ${quote(log)}`;
}

/**
 * A replay started with QEMU's syntax (`rr=replay` and the machine options again) takes the RTC
 * start date the recording fixed from the log's header, unless the options name a date.
 */
function withRecordedRtc(o: RunOptions): RunOptions {
  if (o.rr === undefined || (o.rtc !== undefined && o.rtc.base.kind === 'date')) return o;
  let recorded: readonly string[];
  try {
    const s = ReplaySession.open(o.rr.file);
    try {
      recorded = s.recordedMachine.argv;
    } finally {
      s.close();
    }
  } catch {
    return o; // openRrSession reports the problem with the log
  }
  const i = recorded.indexOf('-rtc');
  if (i < 0 || i + 1 >= recorded.length) return o;
  const cmd = parseCommandLine(['-rtc', recorded[i + 1]!]);
  return cmd.kind === 'run' && cmd.options.rtc !== undefined ? { ...o, rtc: cmd.options.rtc } : o;
}

/**
 * After a complete replay: each disk's writes must equal the overlay the recording kept beside
 * its log. Prints one line per disk; returns true if one differs.
 */
function checkOverlays(log: string, disks: ReadonlyArray<{ readonly slot: number; readonly sectors: Map<number, Uint8Array> }>, io: ProgramIo): boolean {
  let bad = false;
  for (const d of disks) {
    const path = overlayPath(log, d.slot);
    let recorded: Map<number, Uint8Array>;
    try {
      recorded = existsSync(path) ? readOverlayFile(path) : new Map();
    } catch (e) {
      io.stderr(`${PROGRAM}: ${e instanceof Error ? e.message : String(e)}\n`);
      bad = true;
      continue;
    }
    const diff = compareOverlays(recorded, d.sectors);
    if (diff === undefined) {
      io.stderr(`${PROGRAM}: disk writes of virtio${d.slot} identical to the recording's (${d.sectors.size} sectors)\n`);
    } else {
      io.stderr(`${PROGRAM}: replay diverged: disk writes of virtio${d.slot} differ from the recording's (${path}): ${diff}\n`);
      bad = true;
    }
  }
  return bad;
}

/** Exit status of a replay that diverged from its log. */
const REPLAY_DIVERGED_EXIT = 3;

type RrSession = { readonly kind: 'record'; readonly session: RecordSession } | { readonly kind: 'replay'; readonly session: ReplaySession };

/** Opens the log of a record or replay run (checking a replay's images against its header). */
function openRrSession(o: RunOptions): RrSession | undefined {
  const rr = o.rr;
  if (rr === undefined || o.dumpDtb !== undefined) return undefined;
  const images = machineImages(o);
  try {
    if (rr.mode === 'record') return { kind: 'record', session: RecordSession.open(rr.file, { argv: o.argv }, images, VERSION) };
    const session = ReplaySession.open(rr.file);
    try {
      checkImages(session.header.body.images, images);
    } catch (e) {
      session.close();
      throw e;
    }
    return { kind: 'replay', session };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`rrfile=${rr.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Prints how a replay ended; returns the exit status to use instead of the machine's, if any. */
function reportReplay(r: ReplayOutcome, icount: number, io: ProgramIo): number | undefined {
  switch (r.kind) {
    case 'end':
      io.stderr(`${PROGRAM}: replay complete: ${r.events} events, ${icount} instructions (recorded end at instruction ${r.event.icount})\n`);
      return undefined;
    case 'machine-stopped':
      io.stderr(`${PROGRAM}: replay stopped at instruction ${icount} after ${r.events} events\n`);
      return undefined;
    case 'log-ended':
      io.stderr(`${PROGRAM}: replay: ${r.report}; stopped at instruction ${r.icount} after ${r.events} events\n`);
      return undefined;
    case 'diverged':
      io.stderr(`${PROGRAM}: ${r.error.message}\n`);
      return REPLAY_DIVERGED_EXIT;
  }
}

/** Opens the virtio devices' backends; their errors become CliErrors (one line, naming the option). */
async function openVirtio(o: RunOptions, onError: (line: string) => void, mode: 'live' | 'replay'): Promise<VirtioHost> {
  try {
    return await VirtioHost.open(o.virtio, (plan) => openNetdev(plan, onError), onError, mode);
  } catch (e) {
    if (e instanceof BlockBackendError || e instanceof EntropyBackendError || e instanceof NetdevError) throw new CliError(e.message);
    throw e;
  }
}

/** Runs the program with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], io: ProgramIo = PROCESS_IO): Promise<number> {
  try {
    if (argv[0] === 'dump') return await dumpMain(argv.slice(1), io);
    const cmd = argv[0] === 'record' ? parseRecordCommand(argv.slice(1))
      : argv[0] === 'replay' ? parseReplayCommand(argv.slice(1))
        : parseCommandLine(argv);
    if (cmd.kind === 'print') {
      io.stdout(cmd.text);
      return 0;
    }
    return await runMachine(cmd.options, io);
  } catch (e) {
    if (e instanceof CliError) {
      io.stderr(`${PROGRAM}: ${e.message}\n`);
    } else {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      io.stderr(`${PROGRAM}: internal error: ${text}\n`);
    }
    return 1;
  }
}

/**
 * Test hook: with REPLAYVM_FINAL_STATE=PATH, writes {"totalSteps","stateHash"} of the machine
 * at exit (both loops; the machine state is shared memory, so the main thread sees the
 * vCPU thread's final state). Determinism tests compare these across runs.
 */
function writeFinalState(machine: Machine): void {
  const path = process.env['REPLAYVM_FINAL_STATE'];
  if (path === undefined || path === '') return;
  writeFileAtomically(path, new TextEncoder().encode(JSON.stringify({ totalSteps: machine.totalSteps, stateHash: machine.stateHash() })));
}
