/**
 * The replayvm program: parses the command line, prepares a record/replay run's options (the
 * recording's fixed RTC date), hands the configuration to the runner
 * (src/host/node/runner), and maps how the run ended to messages and the exit code; the entry
 * (main.ts) exits the process with it.
 */
import { relative } from 'node:path';
import { runMachine, RunnerError, type RunResult } from '../host/node/runner/index.js';
import { ReplaySession } from '../host/node/replay/session.js';
import { writeAll } from '../host/node/write-all.js';
import { checkImages, checkRrOptions, machineImages, parseRecordCommand, parseReplayCommand } from './rr.js';
import { dumpMain } from './dump.js';
import type { RunOptions } from './options.js';
import { CliError, parseCommandLine, PROGRAM, VERSION } from './options.js';

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

/** Exit status of a replay that diverged from its log. */
const REPLAY_DIVERGED_EXIT = 3;

/** The exit status of a run: the machine's, unless a replay diverged. */
function exitStatus(r: RunResult): number {
  return r.replay === 'diverged' ? REPLAY_DIVERGED_EXIT : r.exitCode;
}

/** Prepares a run's options (record/replay's fixed RTC date and disk overlays) and runs the machine. */
async function runCommand(options: RunOptions, io: ProgramIo): Promise<number> {
  checkRrOptions(options);
  let o = options;
  if (o.rr?.mode === 'record') o = fixForRecording(o);
  if (o.rr?.mode === 'replay') o = withRecordedRtc(o);
  const run = o;
  return exitStatus(await runMachine(run, {
    program: PROGRAM,
    version: VERSION,
    stderr: io.stderr,
    replayCommand,
    rrImages: { describe: () => machineImages(run), check: (recorded) => checkImages(recorded, machineImages(run)) },
  }));
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
    return await runCommand(cmd.options, io);
  } catch (e) {
    if (e instanceof CliError || e instanceof RunnerError) {
      io.stderr(`${PROGRAM}: ${e.message}\n`);
    } else {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      io.stderr(`${PROGRAM}: internal error: ${text}\n`);
    }
    return 1;
  }
}
