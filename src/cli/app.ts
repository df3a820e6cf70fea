/**
 * The replayvm program: parses the command line, prepares a record/replay run's options (the
 * recording's fixed RTC date), hands the configuration to the runner
 * (src/host/node/runner), and maps how the run ended to messages and the exit code; the entry
 * (main.ts) exits the process with it.
 */
import { resolve } from 'node:path';
import { runMachine, RunnerError, type RunResult } from '../host/node/runner/index.js';
import { writeAll } from '../host/node/write-all.js';
import { replayCommand } from '../host/node/replay-hint.js';
import { checkImages, checkRrOptions, machineImages, parseRecordCommand, parseReplayCommand } from './rr.js';
import type { CommandLine, RunOptions } from './options.js';
import { CliError, parseCommandLine, PROGRAM, VERSION } from './options.js';
import { EXIT_ERROR, EXIT_OK, EXIT_REPLAY_DIVERGED, EXIT_USAGE } from './exit-status.js';

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

/**
 * A replay started with QEMU's syntax (`rr=replay` and the machine options again) takes the RTC
 * start date the recording fixed from the log's header, unless the options name a date.
 */
async function withRecordedRtc(o: RunOptions): Promise<RunOptions> {
  if (o.rr === undefined || (o.rtc !== undefined && o.rtc.base.kind === 'date')) return o;
  let recorded: readonly string[];
  try {
    const { ReplaySession } = await import('../host/node/replay/session.js');
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

/** The exit status of a run: the machine's, unless a replay diverged or its log was incomplete or damaged. */
function exitStatus(r: RunResult): number {
  return r.replay === 'diverged' ? EXIT_REPLAY_DIVERGED : r.logExitStatus ?? r.exitCode;
}

/**
 * Prepares a run's options (record/replay's fixed RTC date and disk overlays) and runs the
 * machine. `imagesLocated`: the `replay` command already found every recorded image by its
 * sha256 and put its path in the options, so the runner's check need not hash them again.
 */
async function runCommand(options: RunOptions, io: ProgramIo, imagesLocated: boolean): Promise<number> {
  checkRrOptions(options);
  let o = options;
  if (o.rr?.mode === 'record') o = fixForRecording(o);
  if (o.rr?.mode === 'replay') o = await withRecordedRtc(o);
  const run = o;
  return exitStatus(await runMachine(run, {
    program: PROGRAM,
    version: VERSION,
    stderr: io.stderr,
    replayCommand,
    rrImages: { describe: () => machineImages(run), check: imagesLocated ? () => {} : (recorded) => checkImages(recorded, machineImages(run)) },
  }));
}

/** The subcommands; a run is `replayvm [options]`. */
const SUBCOMMANDS = ['record', 'replay', 'dump', 'img'] as const;
type Subcommand = typeof SUBCOMMANDS[number];

/**
 * The prefix of every error line: `replayvm: ` for a run, `replayvm record: `,
 * `replayvm replay: `, `replayvm dump: `, `replayvm img: ` for the subcommands.
 */
export function errorPrefix(sub: Subcommand | undefined): string {
  return sub === undefined ? `${PROGRAM}: ` : `${PROGRAM} ${sub}: `;
}

/** Parses the command line of a run, `record` or `replay`; usage errors carry status 2. */
async function parseProgramArgs(sub: Subcommand | undefined, args: readonly string[], io: ProgramIo): Promise<CommandLine> {
  const cmd = sub === 'record' ? parseRecordCommand(args)
    : sub === 'replay' ? await parseReplayCommand(args, (line) => io.stderr(`${errorPrefix(sub)}${line}\n`))
      : parseCommandLine(args);
  if (cmd.kind === 'run') checkRrOptions(cmd.options);
  return cmd;
}

/**
 * What a recording says at once, before the machine is built (reading and hashing a Linux image
 * takes a moment): that it records, to which file, and how to stop it. Undefined for other runs.
 */
export function recordingNotice(o: RunOptions): string | undefined {
  if (o.rr?.mode !== 'record' || o.dumpDtb !== undefined) return undefined;
  const keys = o.console.kind === 'mon-stdio' ? 'Ctrl-A x' : 'Ctrl-C';
  return `recording to ${resolve(o.rr.file)}; it ends when the guest powers off (poweroff), or with ${keys}`;
}

/** Runs the program with `argv` (without node and script); resolves with the exit code. */
export async function main(argv: readonly string[], io: ProgramIo = PROCESS_IO): Promise<number> {
  const first = argv[0];
  const sub = SUBCOMMANDS.find((s) => s === first);
  const prefix = errorPrefix(sub);
  let cmd: CommandLine;
  try {
    // Loaded only for `dump` (it brings the log reader) and `img` (the block layer): start-up time of every other run.
    if (sub === 'dump') return await (await import('./dump.js')).dumpMain(argv.slice(1), io);
    if (sub === 'img') return await (await import('./img.js')).imgMain(argv.slice(1), io);
    cmd = await parseProgramArgs(sub, sub === undefined ? argv : argv.slice(1), io);
  } catch (e) {
    return reportError(e, prefix, io, EXIT_USAGE);
  }
  if (cmd.kind === 'print') {
    io.stdout(cmd.text);
    return EXIT_OK;
  }
  // The record command (npm start's) says at once what it does; QEMU's rr=record stays as quiet as QEMU.
  const notice = sub === 'record' ? recordingNotice(cmd.options) : undefined;
  if (notice !== undefined) io.stderr(`${PROGRAM}: ${notice}\n`);
  try {
    return await runCommand(cmd.options, io, sub === 'replay');
  } catch (e) {
    // Once the command line is accepted, every error is a runtime error.
    return reportError(e, prefix, io, EXIT_ERROR);
  }
}

/** Prints an error as one line (a CliError, a RunnerError) or with its stack (anything else); returns the exit status. */
function reportError(e: unknown, prefix: string, io: ProgramIo, cliStatus: number): number {
  if (e instanceof CliError || e instanceof RunnerError) {
    io.stderr(`${prefix}${e.message}\n`);
    return e instanceof CliError && cliStatus === EXIT_USAGE ? e.status : cliStatus;
  }
  const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
  io.stderr(`${prefix}internal error: ${text}\n`);
  return EXIT_ERROR;
}
