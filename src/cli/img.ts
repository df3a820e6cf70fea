/**
 * `replayvm img COMMAND ...`: disk images with qemu-img's syntax (info, create, check,
 * snapshot); the command line is parsed by img-options.ts, printed by img-report.ts, and the
 * images are read and written through the block layer (src/block) over Node files.
 *
 * Exit status: 0 success, 1 error (one line on stderr: the file, and what is wrong where),
 * 2 usage error; `check` as qemu-img check: 0 clean, 1 could not check, 2 corruptions, 3 leaks.
 */
import { stat, writeFile } from 'node:fs/promises';
import {
  checkQcow2, createQcow2, ImageError, openImage, probeImageFormat, Qcow2Image,
  type BlockImage, type ImageFile, type Qcow2Header, type SnapshotInfo as EngineSnapshot,
} from '../block/index.js';
import { nodeBackingOpener, openImageFile, resolveBackingName } from '../host/node/block/image-file.js';
import {
  BACKING_READER, ImageLockError, lockImage, QCOW2_WRITER, RAW_WRITER, type LockPermissions,
} from '../host/node/block/image-lock.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE } from './exit-status.js';
import { parseImgCommand, IMG_USAGE, type ImgCommand, type ImgFormat } from './img-options.js';
import { checkHuman, checkJson, checkStatus, infoHuman, infoJson, snapshotTable, type ImageInfo, type SnapshotInfo } from './img-report.js';
import { CliError } from './option-syntax.js';
import { PROGRAM } from './options.js';

/** Where `img` writes (the shape of the CLI's ProgramIo). */
export interface ImgIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

type Command<K extends ImgCommand['kind']> = Extract<ImgCommand, { kind: K }>;

/** The format of `file`: `given`, or probed from its first bytes as QEMU probes. */
async function formatOf(file: ImageFile, given: ImgFormat | undefined): Promise<ImgFormat> {
  if (given !== undefined) return given;
  const head = new Uint8Array(8);
  const n = await file.read(head, 0);
  return probeImageFormat(head.subarray(0, n));
}

/**
 * Opens `path` (read-only unless `writable`) and locks it as qemu-img does while `fn` runs on
 * it: a reader refuses an image another process writes (and keeps writers out), a writer
 * refuses an image in use at all.
 */
async function withFile<T>(path: string, writable: boolean, fn: (file: ImageFile) => Promise<T>, writer: LockPermissions = QCOW2_WRITER): Promise<T> {
  const file = await openImageFile(path, { writable });
  try {
    const lock = await lockImage(path, writable ? writer : BACKING_READER);
    try {
      return await fn(file);
    } finally {
      await lock.release();
    }
  } finally {
    await file.close();
  }
}

/**
 * The backing image of a qcow2 image opened for its header and tables only (info, snapshot),
 * as qemu-img opens it: the backing file is named, not opened, and is never read.
 */
function unopenedBacking(name: string): BlockImage {
  const refuse = (): Promise<never> => Promise.reject(new ImageError(`backing file '${name}' was not opened`));
  return {
    format: 'raw', virtualSize: 0, readOnly: true, backing: undefined,
    file: { name, writable: false, size: refuse, read: refuse, write: refuse, truncate: refuse, flush: refuse, close: () => Promise.resolve() },
    read: refuse, write: refuse, flush: () => Promise.resolve(), close: () => Promise.resolve(),
  };
}

/** Opens `file` as a qcow2 image without its backing chain (for info and snapshots). */
async function openQcow2Alone(file: ImageFile, readOnly: boolean): Promise<Qcow2Image> {
  return Qcow2Image.open(file, { readOnly, backing: unopenedBacking('(not opened)') });
}

/** Refuses an image that is not qcow2 for a command only qcow2 has. */
function requireQcow2(path: string, format: ImgFormat, what: string): void {
  if (format !== 'qcow2') throw new ImageError(`${path}: a ${format} image has no ${what} (qcow2 only)`);
}

function snapshotOf(s: EngineSnapshot): SnapshotInfo {
  return {
    id: s.id, name: s.name, vmStateSize: s.vmStateSize, dateSec: s.dateSec, dateNsec: s.dateNsec,
    vmClockNs: Number(s.vmClockNs), icount: s.icount === undefined ? undefined : Number(s.icount),
  };
}

function compressionType(h: Qcow2Header): string {
  return (h.incompatibleFeatures & 8n) !== 0n && h.additionalFields[0] === 1 ? 'zstd' : 'zlib';
}

/** What `info` shows of the image in `file`. */
async function imageInfo(path: string, file: ImageFile, format: ImgFormat): Promise<ImageInfo> {
  const diskSize = (await stat(path)).blocks * 512;
  const common = { filename: path, format, diskSize };
  if (format === 'raw') {
    return { ...common, virtualSize: await file.size(), clusterSize: undefined, backing: undefined, snapshots: [], dirty: false, qcow2: undefined };
  }
  const image = await openQcow2Alone(file, true);
  await image.close();
  const h = image.header;
  return {
    ...common,
    virtualSize: image.virtualSize,
    clusterSize: 2 ** h.clusterBits,
    backing: h.backingFile === undefined ? undefined : { name: h.backingFile, fullName: resolveBackingName(h.backingFile, path), format: h.backingFormat },
    snapshots: image.listSnapshots().map(snapshotOf),
    dirty: (h.incompatibleFeatures & 1n) !== 0n,
    qcow2: {
      version: h.version, compressionType: compressionType(h), lazyRefcounts: (h.compatibleFeatures & 1n) !== 0n,
      refcountBits: 2 ** h.refcountOrder, corrupt: (h.incompatibleFeatures & 2n) !== 0n, extendedL2: (h.incompatibleFeatures & 16n) !== 0n,
    },
  };
}

/** `img info`. */
async function info(cmd: Command<'info'>, io: ImgIo): Promise<number> {
  const i = await withFile(cmd.file, false, async (file) => imageInfo(cmd.file, file, await formatOf(file, cmd.format)));
  io.stdout(cmd.output === 'json' ? infoJson(i) : infoHuman(i));
  return EXIT_OK;
}

/** The virtual size of the backing image `name` (relative to `image`), opened with its own chain. */
async function backingSize(image: string, name: string, format: ImgFormat): Promise<number> {
  const path = resolveBackingName(name, image);
  let file: ImageFile;
  try {
    file = await openImageFile(path, { writable: false });
  } catch (e) {
    throw new ImageError(`${image}: Could not open backing image: ${e instanceof Error ? e.message : String(e)}`);
  }
  const opened = await openImage(file, { format, readOnly: true, openBacking: nodeBackingOpener }).catch(async (e: unknown) => {
    await file.close();
    throw e;
  });
  const size = opened.virtualSize;
  await opened.close();
  return size;
}

/** `img create`: QEMU's "Formatting" line, then the new image (an existing file is replaced, as qemu-img does). */
async function create(cmd: Command<'create'>, io: ImgIo): Promise<number> {
  const fromBacking = cmd.backing === undefined ? undefined : await backingSize(cmd.file, cmd.backing.file, cmd.backing.format);
  const size = cmd.size ?? fromBacking ?? 0;
  const rounded = Math.ceil(size / 512) * 512;
  const clusterSize = cmd.clusterSize ?? 65536;
  if (!cmd.quiet) {
    const b = cmd.backing === undefined ? '' : ` backing_file=${cmd.backing.file} backing_fmt=${cmd.backing.format}`;
    io.stdout(cmd.format === 'raw' ? `Formatting '${cmd.file}', fmt=raw size=${size}\n`
      : `Formatting '${cmd.file}', fmt=qcow2 cluster_size=${clusterSize} extended_l2=off compression_type=zlib size=${size}${b} lazy_refcounts=off refcount_bits=16\n`);
  }
  // An existing file is emptied only once it is locked: never under a running machine.
  await writeFile(cmd.file, new Uint8Array(0), { flag: 'a' }).catch((e: unknown) => {
    throw new ImageError(`${cmd.file}: Could not create the image: ${(e as NodeJS.ErrnoException).message}`);
  });
  await withFile(cmd.file, true, async (file) => {
    await file.truncate(0);
    if (cmd.format === 'raw') await file.truncate(rounded);
    else {
      await createQcow2(file, {
        virtualSize: rounded, clusterBits: Math.log2(clusterSize),
        ...(cmd.backing === undefined ? {} : { backing: { name: cmd.backing.file, format: cmd.backing.format } }),
      });
    }
    await file.flush();
  }, cmd.format === 'raw' ? RAW_WRITER : QCOW2_WRITER);
  return EXIT_OK;
}

/** `img check`: problem lines on stderr, the summary on stdout, qemu-img check's exit status. */
async function check(cmd: Command<'check'>, io: ImgIo): Promise<number> {
  return withFile(cmd.file, false, async (file) => {
    requireQcow2(cmd.file, await formatOf(file, cmd.format), 'tables to check');
    const report = await checkQcow2(file);
    if (report.problems.length > 0) io.stderr(`${report.problems.join('\n')}\n`);
    io.stdout(cmd.output === 'json' ? checkJson(cmd.file, report) : checkHuman(report));
    return checkStatus(report);
  });
}

/** `img snapshot`: list, or create, apply, delete (the image opened for writing). */
async function snapshot(cmd: Command<'snapshot'>, io: ImgIo): Promise<number> {
  const a = cmd.action;
  return withFile(cmd.file, a.kind !== 'list', async (file) => {
    requireQcow2(cmd.file, await formatOf(file, undefined), 'snapshots');
    const image = await openQcow2Alone(file, a.kind === 'list');
    try {
      if (a.kind === 'list') {
        const list = image.listSnapshots();
        if (list.length > 0) io.stdout(snapshotTable(list.map(snapshotOf)));
      } else if (a.kind === 'create') {
        await image.createSnapshot({ name: a.name });
      } else if (a.kind === 'apply') {
        await image.applySnapshot(a.name);
      } else {
        await image.deleteSnapshot(a.name);
      }
    } finally {
      await image.close();
    }
    return EXIT_OK;
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
      case 'info': return await info(cmd, io);
      case 'create': return await create(cmd, io);
      case 'check': return await check(cmd, io);
      case 'snapshot': return await snapshot(cmd, io);
    }
  } catch (e) {
    if (e instanceof ImageError || e instanceof ImageLockError || e instanceof CliError) {
      io.stderr(`${prefix}${e.message}\n`);
      return EXIT_ERROR;
    }
    throw e;
  }
}
