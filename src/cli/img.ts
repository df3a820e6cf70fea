/**
 * `replayvm img COMMAND ...`: disk images with qemu-img's syntax (info, create, check,
 * snapshot); the command line is parsed by img-options.ts, printed by img-report.ts, and the
 * images are read and written through the block layer (src/block) over Node files.
 *
 * Exit status: 0 success, 1 error (one line on stderr: the file, and what is wrong where),
 * 2 usage error; `check` as qemu-img check: 0 clean, 1 could not check, 2 corruptions, 3 leaks.
 */
import { checkQcow2, ImageError, type ImageFile } from '../block/index.js';
import { openImageFile } from '../host/node/block/image-file.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { parseImgCommand, IMG_USAGE, type ImgCommand, type ImgFormat } from './img-options.js';
import { checkHuman, checkJson, checkStatus } from './img-report.js';
import { CliError } from './option-syntax.js';
import { PROGRAM } from './options.js';

/** Where `img` writes (the shape of the CLI's ProgramIo). */
export interface ImgIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const QCOW2_MAGIC = [0x51, 0x46, 0x49, 0xfb];

/** The format of `file`: `given`, or probed from its first bytes (qcow2's magic, else raw). */
async function formatOf(file: ImageFile, given: ImgFormat | undefined): Promise<ImgFormat> {
  if (given !== undefined) return given;
  const head = new Uint8Array(4);
  const n = await file.read(head, 0);
  return n === 4 && QCOW2_MAGIC.every((b, i) => head[i] === b) ? 'qcow2' : 'raw';
}

/** Opens `path` read-only, runs `fn` on it, closes it. */
async function withFile<T>(path: string, fn: (file: ImageFile) => Promise<T>): Promise<T> {
  const file = await openImageFile(path, { writable: false });
  try {
    return await fn(file);
  } finally {
    await file.close();
  }
}

/** `img check`: problem lines on stderr, the summary on stdout, qemu-img check's exit status. */
async function check(cmd: Extract<ImgCommand, { kind: 'check' }>, io: ImgIo): Promise<number> {
  return withFile(cmd.file, async (file) => {
    const format = await formatOf(file, cmd.format);
    if (format !== 'qcow2') throw new ImageError(`${cmd.file}: a ${format} image has no tables to check (qcow2 only)`);
    const report = await checkQcow2(file);
    if (report.problems.length > 0) io.stderr(`${report.problems.join('\n')}\n`);
    io.stdout(cmd.output === 'json' ? checkJson(cmd.file, report) : checkHuman(report));
    return checkStatus(report);
  });
}

/** Runs `replayvm img ARGS`; resolves with the exit status. */
export async function imgMain(args: readonly string[], io: ImgIo): Promise<number> {
  const sub = ['info', 'create', 'check', 'snapshot'].find((s) => s === args[0]);
  const prefix = `${PROGRAM} img${sub === undefined ? '' : ` ${sub}`}: `;
  let cmd: ImgCommand;
  try {
    cmd = parseImgCommand(args);
  } catch (e) {
    if (!(e instanceof CliError)) throw e;
    io.stderr(`${prefix}${e.message}\n${IMG_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    switch (cmd.kind) {
      case 'help':
        io.stdout(cmd.text);
        return EXIT_OK;
      case 'check': return await check(cmd, io);
      default: throw new ImageError(`${cmd.file}: '${cmd.kind}' is not available yet`);
    }
  } catch (e) {
    if (e instanceof ImageError || e instanceof CliError) {
      io.stderr(`${prefix}${e.message}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
}
