/**
 * Record/replay on the command line: QEMU's `-icount shift=N,rr=record|replay,rrfile=FILE`, and
 * our shorthand subcommands `replayvm record [-o FILE] [--] OPTIONS` and `replayvm replay FILE`
 * (the log's header holds the machine options and the hash of every image, so replay needs no
 * other argument and refuses images that changed).
 */
import { existsSync } from 'node:fs';
import type { RunOptions } from './options.js';
import { CliError, parseCommandLine, type CommandLine } from './options.js';
import { describeImage } from '../host/node/replay/log-file.js';
import { ReplaySession } from '../host/node/replay/session.js';
import type { LogImage } from '../replay/log/index.js';
import { ReplayLogError } from '../replay/log/index.js';

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

/** `replayvm record [-o FILE] [--] OPTIONS...` as a command line. */
export function parseRecordCommand(args: readonly string[]): CommandLine {
  let file: string | undefined;
  let i = 0;
  while (i < args.length) {
    if (args[i] === '-o' || args[i] === '--output') {
      if (i + 1 >= args.length) throw new CliError(`record ${args[i]}: requires a file name`);
      file = args[i + 1];
      i += 2;
    } else if (args[i] === '--') {
      i++;
      break;
    } else {
      break;
    }
  }
  const options = args.slice(i);
  if (options.length === 0) throw new CliError('record: give the machine options to record, e.g. replayvm record -- -M virt -nographic -kernel Image');
  return parseCommandLine(withRr(options, 'record', file ?? defaultLogName(), DEFAULT_RECORD_ICOUNT));
}

/** `replayvm replay FILE`: the recorded machine options, replaying FILE. */
export function parseReplayCommand(args: readonly string[]): CommandLine {
  if (args.length !== 1) throw new CliError('replay: usage: replayvm replay FILE');
  const file = args[0]!;
  if (!existsSync(file)) throw new CliError(`replay ${file}: no such file`);
  let argv: readonly string[];
  try {
    const s = ReplaySession.open(file);
    try {
      argv = s.recordedMachine.argv;
    } finally {
      s.close();
    }
  } catch (e) {
    if (e instanceof ReplayLogError || e instanceof Error) throw new CliError(`replay ${file}: ${e.message}`);
    throw e;
  }
  return parseCommandLine(withRr(argv, 'replay', file, DEFAULT_RECORD_ICOUNT));
}

/** The images a machine uses (kernel, firmware, initrd, dtb, drives), hashed for the log header. */
export function machineImages(o: RunOptions): LogImage[] {
  const images: LogImage[] = [];
  const add = (role: string, path: string | undefined): void => {
    if (path === undefined) return;
    try {
      images.push(describeImage(role, path));
    } catch (e) {
      throw new CliError(`${role} ${path}: could not read file: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  add('kernel', o.kernel);
  if (o.bios.kind === 'file') add('bios', o.bios.path);
  add('initrd', o.initrd);
  add('dtb', o.dtb);
  for (const d of o.virtio) if (d.kind === 'blk') add(`drive ${d.driveId}`, d.drive.file);
  return images;
}

/** Refuses a replay whose images differ from the recording's (one line per image). */
export function checkImages(recorded: readonly LogImage[], now: readonly LogImage[]): void {
  for (const r of recorded) {
    const n = now.find((x) => x.role === r.role);
    if (n === undefined) throw new CliError(`replay: the recording used ${r.role} ${r.path}, this run has none`);
    if (n.sha256 !== r.sha256) {
      throw new CliError(`replay: ${r.role} ${n.path} changed since the recording (sha256 ${n.sha256.slice(0, 16)}..., recorded ${r.sha256.slice(0, 16)}...)`);
    }
  }
}

/** What record/replay needs of the options; throws CliError naming what is not supported yet. */
export function checkRrOptions(o: RunOptions): void {
  const rr = o.rr;
  if (rr === undefined) return;
  if (rr.file === '') throw new CliError('-icount: File name not specified for replay');
  if (o.icount === undefined) throw new CliError('-icount: Please enable icount to use record/replay');
  if (Object.values(o.trace).some(Boolean)) throw new CliError(`-d: not supported with rr=${rr.mode} yet (record/replay runs the threaded machine)`);
  if (process.env['REPLAYVM_THREADS'] === '0') throw new CliError('REPLAYVM_THREADS=0: record/replay runs the threaded machine');
  if (rr.mode === 'record' && existsSync(rr.file)) throw new CliError(`rrfile=${rr.file}: the file exists; remove it or choose another name`);
}
