/**
 * Record/replay on the command line: QEMU's `-icount shift=N,rr=record|replay,rrfile=FILE`, and
 * our shorthand subcommands `replayvm record [-o FILE] [--] OPTIONS` and `replayvm replay [--image OLD=NEW]... FILE`
 * (the log's header holds the machine options and the hash of every image, so replay needs no
 * other argument and refuses images that changed).
 */
import { existsSync } from 'node:fs';
import type { RunOptions } from './options.js';
import { parseCommandLine, PROGRAM, type CommandLine } from './options.js';
import { CliError, parseKeyValues } from './option-syntax.js';
import { EXIT_ERROR } from './exit-status.js';
import { locateImages, parseImageOverride, relocationNotices, withImagePaths, type ImageOverride, type RecordedImage } from './log-images.js';

/**
 * `-icount` for `replayvm record` when the options give none: 16 ns per instruction (about this
 * interpreter's speed, so guest time roughly follows host time); idle time follows host time
 * (sleep=on), and each idle warp is recorded.
 */
export const DEFAULT_RECORD_ICOUNT = 'shift=4';

/** A default log name in the current directory. */
function defaultLogName(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `replayvm-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.rrlog`;
}

/** Adds `rr=MODE,rrfile=FILE` to the options' `-icount` (or adds one). */
function withRr(options: readonly string[], mode: 'record' | 'replay', file: string, defaultIcount: string): string[] {
  const out = [...options];
  const i = out.findIndex((w) => w === '-icount' || w === '--icount');
  const rr = `rr=${mode},rrfile=${file.replace(/,/g, ',,')}`;
  if (i >= 0 && i + 1 < out.length) out[i + 1] = `${out[i + 1]},${rr}`;
  else out.push('-icount', `${defaultIcount},${rr}`);
  return out;
}

/** `replayvm record -h`. */
export const RECORD_USAGE = `usage: ${PROGRAM} record [-o LOG] [--] [options]

Runs the machine that the options describe (QEMU's, see ${PROGRAM} -h) and
records every input to LOG; \`${PROGRAM} replay LOG\` runs it again, to the
instruction.

  -o, --output LOG   the log to write (default: replayvm-DATE-TIME.rrlog here);
                     it must not exist yet
  -h, --help         print this help and exit

Without -icount in the options, -icount ${DEFAULT_RECORD_ICOUNT} is used. The options must
not name a log themselves (-icount ...,rr=,rrfile=): give it with -o. Images
are hashed into the log; disk writes go to an overlay beside it.
`;

/** `replayvm replay -h`. */
export const REPLAY_USAGE = `usage: ${PROGRAM} replay [--image OLD=NEW]... LOG

Replays LOG: the machine options and the images' sha256 come from its header.
Each image is looked for where it was recorded, then beside LOG (same base
name), then where --image says.

  --image OLD=NEW    the image recorded as OLD (its path or base name) is now
                     at NEW; repeatable
  -h, --help         print this help and exit

Exit status: 0 (or the guest's) for a complete replay, 3 if it diverged,
4 if LOG is damaged, 5 if LOG is incomplete (a recording killed before its
end: its prefix replays).
`;

/** The `-icount` words among `options` that name a record/replay log, as `-icount TEXT` (for messages). */
function rrIcountOptions(options: readonly string[]): string[] {
  const found: string[] = [];
  options.forEach((w, i) => {
    const arg = options[i + 1];
    if ((w === '-icount' || w === '--icount') && arg !== undefined
      && parseKeyValues(arg, 'shift', w).some(({ key }) => key === 'rr' || key === 'rrfile' || key === 'rrsnapshot')) {
      found.push(`${w} ${arg}`);
    }
  });
  return found;
}

/** `replayvm record [-o FILE] [--] OPTIONS...` as a command line (or its help). */
export function parseRecordCommand(args: readonly string[]): CommandLine {
  let file: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-h' || a === '--help') return { kind: 'print', text: RECORD_USAGE };
    if (a === '-o' || a === '--output') {
      file = args[++i];
      if (file === undefined || file === '') throw new CliError(`${a}: requires a file name`);
    } else if (a === '--') {
      i++;
      break;
    } else {
      break;
    }
  }
  const options = args.slice(i);
  if (options.length === 0) throw new CliError(`give the machine options to record, e.g. ${PROGRAM} record -- -M virt -nographic -kernel Image`);
  const conflict = rrIcountOptions(options)[0];
  if (conflict !== undefined) {
    const log = file === undefined ? 'its own log (-o LOG, default replayvm-DATE-TIME.rrlog)' : `-o ${file}`;
    throw new CliError(`${conflict} conflicts with ${log}: record names the log; drop rr=/rrfile= from -icount`);
  }
  return parseCommandLine(withRr(options, 'record', file ?? defaultLogName(), DEFAULT_RECORD_ICOUNT));
}

/** What `replayvm replay ARGS` asks for: its help, or a replay of `file` with image overrides. */
export type ReplayRequest =
  | { readonly kind: 'print'; readonly text: string }
  | { readonly kind: 'replay'; readonly file: string; readonly images: readonly ImageOverride[] };

/** Parses `replayvm replay [--image OLD=NEW]... LOG` (no file access). */
export function parseReplayArgs(args: readonly string[]): ReplayRequest {
  const images: ImageOverride[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-h' || a === '--help') return { kind: 'print', text: REPLAY_USAGE };
    if (a === '--image' || a.startsWith('--image=')) {
      const value = a === '--image' ? args[++i] : a.slice('--image='.length);
      if (value === undefined) throw new CliError('--image: requires OLD=NEW');
      images.push(parseImageOverride(value));
    } else if (a === '--') {
      files.push(...args.slice(i + 1));
      break;
    } else if (a.startsWith('-') && a !== '-') {
      const conflict = rrIcountOptions(args.slice(i))[0];
      if (conflict !== undefined) {
        const log = files[0] ?? args.slice(i + 2).find((w) => !w.startsWith('-')) ?? 'LOG';
        throw new CliError(`${conflict} conflicts with the log to replay, ${log}: replay takes the log and its machine options from LOG only`);
      }
      throw new CliError(`${a}: unknown option (the machine options come from the log's header; ${PROGRAM} replay -h)`);
    } else {
      files.push(a);
    }
  }
  const file = files[0];
  if (file === undefined) throw new CliError('no log file given (usage: replayvm replay [--image OLD=NEW]... LOG)');
  if (files.length > 1) throw new CliError(`one log file at a time, got ${files.join(' ')}`);
  return { kind: 'replay', file, images };
}

/**
 * `replayvm replay [--image OLD=NEW]... FILE`: the recorded machine options, replaying FILE,
 * with each image where `locateImages` found it; `notice` gets a line per moved image.
 */
export async function parseReplayCommand(args: readonly string[], notice: (line: string) => void = () => {}): Promise<CommandLine> {
  const request = parseReplayArgs(args);
  if (request.kind === 'print') return request;
  const file = request.file;
  if (!existsSync(file)) throw new CliError(`${file}: no such file`, EXIT_ERROR);
  let argv: readonly string[];
  let images: readonly RecordedImage[];
  try {
    // Loaded only to replay: a plain run does not load the log code (start-up time).
    const { ReplaySession } = await import('../host/node/replay/session.js');
    const s = ReplaySession.open(file);
    try {
      argv = s.recordedMachine.argv;
      images = s.header.body.images;
    } finally {
      s.close();
    }
  } catch (e) {
    if (e instanceof Error) throw new CliError(`${file}: ${e.message}`, EXIT_ERROR);
    throw e;
  }
  const command = parseCommandLine(withRr(argv, 'replay', file, DEFAULT_RECORD_ICOUNT));
  if (command.kind !== 'run') return command;
  const located = locateImages(file, images, request.images);
  for (const line of relocationNotices(located)) notice(line);
  return { kind: 'run', options: withImagePaths(command.options, new Map(located.map((l) => [l.role, l.path]))) };
}

/** The images a machine uses and the check of a replay's images: see log-images.ts. */
export { checkImages, machineImages } from './log-images.js';

/** What record/replay needs of the options; throws CliError naming what is not supported yet. */
export function checkRrOptions(o: RunOptions): void {
  const rr = o.rr;
  if (rr === undefined) return;
  if (rr.file === '') throw new CliError('-icount: File name not specified for replay');
  if (o.icount === undefined) throw new CliError('-icount: Please enable icount to use record/replay');
  if (Object.values(o.trace).some(Boolean)) throw new CliError(`-d: not supported with rr=${rr.mode} yet (record/replay runs the threaded machine)`);
  if (process.env['REPLAYVM_THREADS'] === '0') throw new CliError('REPLAYVM_THREADS=0: record/replay runs the threaded machine');
  if (rr.mode === 'record' && existsSync(rr.file)) throw new CliError(`rrfile=${rr.file}: the file exists; remove it or choose another name`, EXIT_ERROR);
}
