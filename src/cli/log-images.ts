/**
 * The images a recording names (kernel, firmware, initrd, dtb, drives) and where a replay finds
 * them. A log's header keeps each image's absolute path (and the path as typed, `given`) with
 * its sha256; a replay from any folder looks for each image at its recorded place, then beside
 * the log (same base name), then where a `--image OLD=NEW` option says, and uses the first file
 * whose sha256 matches.
 */
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { describeImage } from '../host/node/replay/image-file.js';
import type { LogImage } from '../replay/index.js';
import { EXIT_ERROR } from './exit-status.js';
import { CliError } from './option-syntax.js';
import type { RunOptions } from './options.js';

/** An image as a recording's header keeps it: `path` absolute, `given` as typed when it differs. */
export interface RecordedImage extends LogImage {
  readonly given?: string;
}

/** `--image OLD=NEW`: the image recorded as OLD (its path, the path as typed, or its base name) is now at NEW. */
export interface ImageOverride {
  readonly old: string;
  readonly new: string;
}

/** Parses the argument of `--image`; throws a usage error naming it. */
export function parseImageOverride(text: string): ImageOverride {
  const eq = text.indexOf('=');
  if (eq <= 0 || eq === text.length - 1) throw new CliError(`--image ${text}: expected OLD=NEW (the recorded path or its base name, then the image's new place)`);
  return { old: text.slice(0, eq), new: text.slice(eq + 1) };
}

/** The paths of the images a run uses, by role ('kernel', 'bios', 'initrd', 'dtb', 'drive ID'). */
function imagePaths(o: RunOptions): Array<readonly [string, string]> {
  const paths: Array<readonly [string, string]> = [];
  const add = (role: string, path: string | undefined): void => {
    if (path !== undefined) paths.push([role, path]);
  };
  add('kernel', o.kernel);
  if (o.bios.kind === 'file') add('bios', o.bios.path);
  add('initrd', o.initrd);
  add('dtb', o.dtb);
  for (const d of o.virtio) if (d.kind === 'blk') add(`drive ${d.driveId}`, d.drive.file);
  return paths;
}

/** The images a machine uses, hashed for the log header, with absolute paths (and the paths as typed). */
export function machineImages(o: RunOptions): RecordedImage[] {
  return imagePaths(o).map(([role, given]) => {
    let image: LogImage;
    try {
      image = describeImage(role, resolve(given));
    } catch (e) {
      throw new CliError(`${role} ${given}: could not read file: ${e instanceof Error ? e.message : String(e)}`, EXIT_ERROR);
    }
    return image.path === given ? image : { ...image, given };
  });
}

/** The options with each image's path replaced by `paths` (by role); other images unchanged. */
export function withImagePaths(o: RunOptions, paths: ReadonlyMap<string, string>): RunOptions {
  const path = (role: string, old: string | undefined): string | undefined => (old === undefined ? undefined : paths.get(role) ?? old);
  return {
    ...o,
    kernel: path('kernel', o.kernel),
    bios: o.bios.kind === 'file' ? { kind: 'file', path: path('bios', o.bios.path) ?? o.bios.path } : o.bios,
    initrd: path('initrd', o.initrd),
    dtb: path('dtb', o.dtb),
    virtio: o.virtio.map((d) => (d.kind === 'blk' && paths.has(`drive ${d.driveId}`)
      ? { ...d, drive: { ...d.drive, file: paths.get(`drive ${d.driveId}`) ?? d.drive.file } } : d)),
  };
}

/** Where a replay found an image. */
export interface LocatedImage {
  readonly role: string;
  /** The path the recording used. */
  readonly recorded: string;
  /** The path this replay uses. */
  readonly path: string;
  readonly how: 'recorded place' | 'beside the log' | '--image';
}

/** The sha256 of a file, or undefined when it cannot be read. */
export type HashFile = (path: string) => string | undefined;

/** sha256 through the log's own image description (streams the file). */
export const hashFile: HashFile = (path) => {
  try {
    return describeImage('image', path).sha256;
  } catch {
    return undefined;
  }
};

/**
 * Finds each recorded image of `log`: at its recorded place (a relative path, from an older
 * log, is taken from the current folder), beside the log, or where an override says. Throws a
 * runtime error naming the image, the places tried and the sha256 expected when none matches,
 * and a usage error for an override that names no recorded image.
 */
export function locateImages(log: string, images: readonly RecordedImage[], overrides: readonly ImageOverride[], hash: HashFile = hashFile): LocatedImage[] {
  const names = (r: RecordedImage): string[] => [r.path, r.given ?? r.path, basename(r.path)];
  for (const o of overrides) {
    if (!images.some((r) => names(r).includes(o.old))) {
      throw new CliError(`--image ${o.old}=${o.new}: the log has no image ${o.old} (it has ${images.map((r) => r.path).join(', ') || 'none'})`);
    }
  }
  return images.map((r) => {
    const places: Array<readonly [string, LocatedImage['how']]> = [
      [resolve(r.path), 'recorded place'],
      [join(dirname(resolve(log)), basename(r.path)), 'beside the log'],
      ...overrides.filter((o) => names(r).includes(o.old)).map((o) => [resolve(o.new), '--image'] as const),
    ];
    const tried: string[] = [];
    for (const [place, how] of places) {
      if (tried.includes(place)) continue;
      tried.push(place);
      const found = hash(place);
      if (found === r.sha256) return { role: r.role, recorded: r.path, path: place, how };
      if (found !== undefined) tried[tried.length - 1] = `${place} (sha256 ${found.slice(0, 16)}... differs)`;
    }
    const typed = r.given !== undefined && r.given !== r.path ? ` (given as ${r.given})` : '';
    throw new CliError(`${r.role} ${r.path}${typed}: no file with sha256 ${r.sha256} at ${tried.join(', ')}; `
      + `name its new place with --image ${isAbsolute(r.path) ? basename(r.path) : r.path}=PATH`, EXIT_ERROR);
  });
}

/** One line for each image found somewhere else than where it was recorded. */
export function relocationNotices(located: readonly LocatedImage[]): string[] {
  return located.filter((l) => l.how !== 'recorded place')
    .map((l) => `${l.role} ${l.recorded} is not there: using ${l.path} (${l.how}, same sha256)`);
}

/** Refuses a replay whose images differ from the recording's (one line per image). */
export function checkImages(recorded: readonly LogImage[], now: readonly LogImage[]): void {
  for (const r of recorded) {
    const n = now.find((x) => x.role === r.role);
    if (n === undefined) throw new CliError(`replay: the recording used ${r.role} ${r.path}, this run has none`, EXIT_ERROR);
    if (n.sha256 !== r.sha256) {
      throw new CliError(`replay: ${r.role} ${n.path} changed since the recording (sha256 ${n.sha256.slice(0, 16)}..., recorded ${r.sha256.slice(0, 16)}...)`, EXIT_ERROR);
    }
  }
}
