/**
 * The command line of `replayvm img`, parsed into a typed command before anything is done:
 * qemu-img's syntax for the subcommands a replayvm user needs (info, create, check, snapshot).
 * Usage errors are CliErrors (exit status 2) naming the word at fault.
 */
import { CliError, parseKeyValues } from './option-syntax.js';
import { parseSize, PROGRAM } from './options.js';

/** The image formats `img` knows (the block layer's). */
export type ImgFormat = 'raw' | 'qcow2';

/** How `info` and `check` print: qemu-img's text, or its JSON. */
export type ImgOutput = 'human' | 'json';

/** What a `snapshot` command does to the snapshot named `name`, or `list`. */
export type SnapshotAction =
  | { readonly kind: 'list' }
  | { readonly kind: 'create' | 'apply' | 'delete'; readonly name: string };

/** A parsed `replayvm img` command line. */
export type ImgCommand =
  | { readonly kind: 'help'; readonly text: string }
  | { readonly kind: 'info'; readonly file: string; readonly format: ImgFormat | undefined; readonly output: ImgOutput }
  | { readonly kind: 'check'; readonly file: string; readonly format: ImgFormat | undefined; readonly output: ImgOutput }
  | {
    readonly kind: 'create'; readonly file: string; readonly format: ImgFormat; readonly size: number | undefined;
    readonly backing: { readonly file: string; readonly format: ImgFormat } | undefined;
    readonly clusterSize: number | undefined; readonly quiet: boolean;
  }
  | { readonly kind: 'snapshot'; readonly file: string; readonly action: SnapshotAction; readonly quiet: boolean };

/** `replayvm img -h`. */
export const IMG_USAGE = `usage: ${PROGRAM} img COMMAND [options] FILE

Disk images, with qemu-img's syntax (formats: qcow2, raw):

  info [-f FMT] [--output=human|json] FILE
      format, virtual size, disk size, cluster size, backing file and format,
      snapshots, the dirty and corrupt bits
  create -f qcow2|raw [-b BACKING -F FMT] [-o cluster_size=N] [-q] FILE [SIZE]
      a new image (SIZE in bytes, or with a suffix K, M, G, T; with -b it
      defaults to the backing image's size; BACKING is relative to FILE's
      folder)
  check [-f FMT] [--output=human|json] FILE
      the consistency of a qcow2 image's tables and refcounts (read only)
  snapshot -l|-c NAME|-a NAME|-d NAME [-q] FILE
      list, create, apply (revert the disk to) or delete internal snapshots

Exit status: 0 success; 1 error (the file cannot be read, a bad image, the check
could not be done); 2 usage error. For check, as qemu-img check: 0 no problem,
2 corruptions found, 3 leaked clusters only.
`;

const FORMATS: readonly ImgFormat[] = ['qcow2', 'raw'];

function formatArg(text: string, option: string): ImgFormat {
  const f = FORMATS.find((x) => x === text);
  if (f === undefined) throw new CliError(`${option} ${text}: unknown format (qcow2 or raw)`);
  return f;
}

/** Splits a subcommand's words into options (with their values) and the other words, as getopt does. */
class Words {
  private i = 0;
  readonly positional: string[] = [];

  constructor(private readonly words: readonly string[]) {}

  /** The next option word, or undefined at the end; words after `--` are positional. */
  nextOption(): string | undefined {
    while (this.i < this.words.length) {
      const w = this.words[this.i++]!;
      if (w === '--') {
        this.positional.push(...this.words.slice(this.i));
        this.i = this.words.length;
        return undefined;
      }
      if (w.startsWith('-') && w !== '-') return w;
      this.positional.push(w);
    }
    return undefined;
  }

  /** The value of option `option` (the next word). */
  value(option: string): string {
    const v = this.words[this.i++];
    if (v === undefined) throw new CliError(`option ${option} needs an argument`);
    return v;
  }

  unknown(option: string): never {
    throw new CliError(`unknown option '${option}'`);
  }

  /** The one FILE (and for create, an optional SIZE) after the options. */
  files(max: number): string[] {
    if (this.positional.length === 0) throw new CliError('no image file given');
    if (this.positional.length > max) throw new CliError(`unexpected argument '${this.positional[max]}'`);
    return this.positional;
  }
}

/** Parses `--output=X` or `--output X`; undefined when `option` is not --output. */
function outputOption(w: Words, option: string): ImgOutput | undefined {
  if (option !== '--output' && !option.startsWith('--output=')) return undefined;
  const value = option === '--output' ? w.value(option) : option.slice('--output='.length);
  if (value !== 'human' && value !== 'json') throw new CliError(`--output ${value}: human or json expected`);
  return value;
}

/** `info` and `check` share their options. */
function parseInspect(kind: 'info' | 'check', args: readonly string[]): ImgCommand {
  const w = new Words(args);
  let format: ImgFormat | undefined;
  let output: ImgOutput = 'human';
  for (let o = w.nextOption(); o !== undefined; o = w.nextOption()) {
    const out = outputOption(w, o);
    if (out !== undefined) output = out;
    else if (o === '-f') format = formatArg(w.value(o), o);
    else if (kind === 'check' && o === '-r') throw new CliError('-r (repair) is not supported: check reports only');
    else w.unknown(o);
  }
  const [file] = w.files(1);
  return { kind, file: file!, format, output };
}

/** The `-o` options of create: cluster_size only. */
function parseCreateOptions(text: string): number | undefined {
  let clusterSize: number | undefined;
  for (const { key, value } of parseKeyValues(text, undefined, '-o')) {
    if (key !== 'cluster_size') throw new CliError(`-o ${key}: unsupported option (cluster_size only)`);
    const n = parseSize(value, 1);
    if (n === undefined || n < 512 || n > 2 << 20 || (n & (n - 1)) !== 0) {
      throw new CliError(`-o cluster_size=${value}: a power of two from 512 to 2M expected`);
    }
    clusterSize = n;
  }
  return clusterSize;
}

function parseCreate(args: readonly string[]): ImgCommand {
  const w = new Words(args);
  let format: ImgFormat | undefined;
  let backingFile: string | undefined;
  let backingFormat: ImgFormat | undefined;
  let clusterSize: number | undefined;
  let quiet = false;
  for (let o = w.nextOption(); o !== undefined; o = w.nextOption()) {
    if (o === '-f') format = formatArg(w.value(o), o);
    else if (o === '-b') backingFile = w.value(o);
    else if (o === '-F') backingFormat = formatArg(w.value(o), o);
    else if (o === '-o') clusterSize = parseCreateOptions(w.value(o)) ?? clusterSize;
    else if (o === '-q') quiet = true;
    else w.unknown(o);
  }
  const [file, sizeText] = w.files(2);
  if (format === undefined) throw new CliError('-f qcow2 or -f raw is required');
  let size: number | undefined;
  if (sizeText !== undefined) {
    size = parseSize(sizeText, 1);
    if (size === undefined) throw new CliError(`invalid size '${sizeText}' (bytes, or with a suffix K, M, G, T)`);
  }
  if (backingFile !== undefined && format !== 'qcow2') throw new CliError('-b: a backing file needs -f qcow2');
  if (backingFile !== undefined && backingFormat === undefined) throw new CliError('-b needs -F (the backing file\'s format), as qemu-img does');
  if (backingFile === undefined && backingFormat !== undefined) throw new CliError('-F without -b');
  if (backingFile === undefined && size === undefined) throw new CliError('the image size is required (without -b)');
  if (clusterSize !== undefined && format !== 'qcow2') throw new CliError('-o cluster_size: only for -f qcow2');
  return {
    kind: 'create', file: file!, format, size, clusterSize, quiet,
    backing: backingFile === undefined || backingFormat === undefined ? undefined : { file: backingFile, format: backingFormat },
  };
}

function parseSnapshot(args: readonly string[]): ImgCommand {
  const w = new Words(args);
  const actions: SnapshotAction[] = [];
  let quiet = false;
  const kinds = { '-c': 'create', '-a': 'apply', '-d': 'delete' } as const;
  for (let o = w.nextOption(); o !== undefined; o = w.nextOption()) {
    if (o === '-l') actions.push({ kind: 'list' });
    else if (o === '-c' || o === '-a' || o === '-d') actions.push({ kind: kinds[o], name: w.value(o) });
    else if (o === '-q') quiet = true;
    else w.unknown(o);
  }
  const [file] = w.files(1);
  if (actions.length !== 1) throw new CliError('exactly one of -l, -c NAME, -a NAME, -d NAME is required');
  return { kind: 'snapshot', file: file!, action: actions[0]!, quiet };
}

/** Parses the words after `replayvm img`. */
export function parseImgCommand(args: readonly string[]): ImgCommand {
  const [sub, ...rest] = args;
  if (sub === undefined) throw new CliError('no command given (info, create, check or snapshot; -h for help)');
  if (sub === '-h' || sub === '--help' || rest.includes('-h') || rest.includes('--help')) return { kind: 'help', text: IMG_USAGE };
  switch (sub) {
    case 'info': return parseInspect('info', rest);
    case 'check': return parseInspect('check', rest);
    case 'create': return parseCreate(rest);
    case 'snapshot': return parseSnapshot(rest);
    default: throw new CliError(`unknown command '${sub}' (info, create, check or snapshot)`);
  }
}
