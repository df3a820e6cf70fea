/**
 * The qcow2 header (cluster 0): parse with every field checked against the file, and build
 * one for a new image. Layout and rules: QEMU's docs/interop/qcow2.txt, "Header" and "Header
 * extensions".
 */
import { ImageError } from '../errors.js';
import { decodeText, encodeText, hex, readU64, roundUp, viewOf, writeU64 } from './bytes.js';

/** "QFI\xfb" as a big-endian word. */
export const QCOW2_MAGIC = 0x514649fb;
/** The header's field offsets we rewrite in place. */
export const HeaderField = {
  size: 24,
  l1Size: 36,
  l1TableOffset: 40,
  refcountTableOffset: 48,
  refcountTableClusters: 56,
  nbSnapshots: 60,
  snapshotsOffset: 64,
  incompatibleFeatures: 72,
  compatibleFeatures: 80,
  autoclearFeatures: 88,
} as const;

/** Incompatible feature bits. */
export const Incompatible = { dirty: 1n, corrupt: 2n, externalData: 4n, compressionType: 8n, extendedL2: 16n } as const;
const KNOWN_INCOMPATIBLE = Incompatible.dirty | Incompatible.corrupt | Incompatible.externalData | Incompatible.compressionType | Incompatible.extendedL2;
/** Compatible feature bits. */
export const Compatible = { lazyRefcounts: 1n } as const;

/** Header extension types. */
export const Extension = {
  end: 0,
  backingFormat: 0xe2792aca,
  featureNames: 0x6803f857,
  bitmaps: 0x23852875,
  encryption: 0x0537be77,
  dataFile: 0x44415441,
} as const;

/** One entry of the feature name table. */
export interface FeatureName {
  /** 0 incompatible, 1 compatible, 2 autoclear. */
  readonly type: number;
  readonly bit: number;
  readonly name: string;
}

/** A header extension we do not interpret, kept to be written back as it was. */
export interface UnknownExtension {
  readonly type: number;
  readonly data: Uint8Array;
}

/** A parsed, checked qcow2 header. */
export interface Qcow2Header {
  readonly version: 2 | 3;
  readonly clusterBits: number;
  readonly size: number;
  readonly l1Size: number;
  readonly l1TableOffset: number;
  readonly refcountTableOffset: number;
  readonly refcountTableClusters: number;
  readonly nbSnapshots: number;
  readonly snapshotsOffset: number;
  readonly incompatibleFeatures: bigint;
  readonly compatibleFeatures: bigint;
  readonly autoclearFeatures: bigint;
  readonly refcountOrder: number;
  readonly headerLength: number;
  /** Header bytes from 104 to headerLength (compression_type and fields we do not know), kept as they are. */
  readonly additionalFields: Uint8Array;
  readonly backingFile: string | undefined;
  readonly backingFormat: string | undefined;
  readonly featureNames: readonly FeatureName[];
  readonly unknownExtensions: readonly UnknownExtension[];
}

const V2_HEADER_LENGTH = 72;
const V3_HEADER_LENGTH = 104;
/** QEMU's limits: 32 MiB of L1 table, 8 MiB of refcount table, 65536 snapshots, 1023-byte backing names. */
export const MAX_L1_BYTES = 32 << 20;
export const MAX_REFTABLE_BYTES = 8 << 20;
export const MAX_SNAPSHOTS = 65536;
const MAX_BACKING_NAME = 1023;

/** The names QEMU gives the features it knows (written in the feature name table of new images). */
export const QEMU_FEATURE_NAMES: readonly FeatureName[] = [
  { type: 0, bit: 0, name: 'dirty bit' },
  { type: 0, bit: 1, name: 'corrupt bit' },
  { type: 0, bit: 2, name: 'external data file' },
  { type: 0, bit: 3, name: 'compression type' },
  { type: 0, bit: 4, name: 'extended L2 entries' },
  { type: 1, bit: 0, name: 'lazy refcounts' },
  { type: 2, bit: 0, name: 'bitmaps' },
  { type: 2, bit: 1, name: 'raw external data' },
];

/**
 * Parses the header in `head` (the first cluster of the file, or all of it if shorter) of a
 * file of `fileSize` bytes named `name`. Throws an ImageError naming the field at fault.
 */
export function parseHeader(name: string, head: Uint8Array, fileSize: number): Qcow2Header {
  const fail = (what: string): never => {
    throw new ImageError(`${name}: ${what}`);
  };
  if (head.length < V2_HEADER_LENGTH) fail(`file too small for a qcow2 header (${head.length} bytes)`);
  const v = viewOf(head);
  if (v.getUint32(0) !== QCOW2_MAGIC) fail('not a qcow2 image (bad magic)');
  const version = v.getUint32(4);
  if (version !== 2 && version !== 3) fail(`unsupported qcow2 version ${version} (2 and 3 are supported)`);
  const u64 = (offset: number, field: string): number => readU64(v, offset) ?? fail(`header field ${field} out of range`);
  const clusterBits = v.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) fail(`header field cluster_bits is ${clusterBits} (must be 9..21: 512 B to 2 MiB clusters)`);
  const clusterSize = 2 ** clusterBits;
  if (version === 3 && head.length < V3_HEADER_LENGTH) fail(`file too small for a version 3 qcow2 header (${head.length} bytes)`);
  const headerLength = version === 2 ? V2_HEADER_LENGTH : v.getUint32(100);
  if (version === 3) {
    if (headerLength < V3_HEADER_LENGTH || headerLength % 8 !== 0 || headerLength > clusterSize || headerLength > head.length) {
      fail(`header field header_length is ${headerLength} (must be a multiple of 8, at least ${V3_HEADER_LENGTH}, inside the first cluster and the file)`);
    }
  }
  const incompatibleFeatures = version === 3 ? v.getBigUint64(72) : 0n;
  const compatibleFeatures = version === 3 ? v.getBigUint64(80) : 0n;
  const autoclearFeatures = version === 3 ? v.getBigUint64(88) : 0n;
  const refcountOrder = version === 3 ? v.getUint32(96) : 4;
  const additionalFields = head.slice(Math.min(V3_HEADER_LENGTH, headerLength), headerLength);

  // Header extensions: needed first, for the feature names in the errors below.
  const extensions = parseExtensions(name, head, headerLength, clusterSize);
  const featureNames = extensions.featureNames;

  const unknown = incompatibleFeatures & ~KNOWN_INCOMPATIBLE;
  if (unknown !== 0n) fail(`unsupported qcow2 feature(s): ${describeBits(unknown, 0, featureNames)}`);
  if ((incompatibleFeatures & Incompatible.externalData) !== 0n) fail('images with an external data file are not supported');
  if ((incompatibleFeatures & Incompatible.extendedL2) !== 0n) fail('images with extended L2 entries (subclusters) are not supported');
  if ((incompatibleFeatures & Incompatible.compressionType) !== 0n) {
    const type = additionalFields[0] ?? 0;
    if (type !== 0) fail(`compression type ${type === 1 ? 'zstd' : type} is not supported (only zlib)`);
  }
  const cryptMethod = v.getUint32(32);
  if (cryptMethod !== 0) fail(`encrypted images are not supported (crypt_method ${cryptMethod})`);
  if (refcountOrder > 6) fail(`header field refcount_order is ${refcountOrder} (must be 0..6)`);

  const size = u64(24, 'size');
  const l1Size = v.getUint32(36);
  const l1TableOffset = u64(40, 'l1_table_offset');
  const refcountTableOffset = u64(48, 'refcount_table_offset');
  const refcountTableClusters = v.getUint32(56);
  const nbSnapshots = v.getUint32(60);
  const snapshotsOffset = u64(64, 'snapshots_offset');

  const l2Entries = clusterSize / 8;
  const needL1 = Math.ceil(size / (clusterSize * l2Entries));
  if (l1Size * 8 > MAX_L1_BYTES) fail(`header field l1_size is ${l1Size} (more than QEMU's limit of ${MAX_L1_BYTES / 8} entries)`);
  if (l1Size < needL1) fail(`header field l1_size is ${l1Size}, too small for the virtual size ${size} (needs ${needL1})`);
  const inFile = (field: string, offset: number, bytes: number): void => {
    if (offset % clusterSize !== 0) fail(`header field ${field} ${hex(offset)} is not aligned to a cluster (${clusterSize} bytes)`);
    if (offset < clusterSize) fail(`header field ${field} ${hex(offset)} points into the header cluster`);
    if (offset + bytes > fileSize) fail(`header field ${field} ${hex(offset)} (${bytes} bytes) lies past the end of the file (${hex(fileSize)})`);
  };
  if (l1Size > 0) inFile('l1_table_offset', l1TableOffset, l1Size * 8);
  if (refcountTableClusters === 0) fail('header field refcount_table_clusters is 0');
  if (refcountTableClusters * clusterSize > MAX_REFTABLE_BYTES) fail(`header field refcount_table_clusters is ${refcountTableClusters} (more than QEMU's limit of ${MAX_REFTABLE_BYTES} bytes)`);
  inFile('refcount_table_offset', refcountTableOffset, refcountTableClusters * clusterSize);
  if (l1Size > 0 && overlaps(l1TableOffset, l1Size * 8, refcountTableOffset, refcountTableClusters * clusterSize)) {
    fail(`the L1 table at ${hex(l1TableOffset)} overlaps the refcount table at ${hex(refcountTableOffset)}`);
  }
  if (nbSnapshots > MAX_SNAPSHOTS) fail(`header field nb_snapshots is ${nbSnapshots} (more than ${MAX_SNAPSHOTS})`);
  if (nbSnapshots > 0) inFile('snapshots_offset', snapshotsOffset, 40 * nbSnapshots);

  let backingFile: string | undefined;
  const backingFileOffset = u64(8, 'backing_file_offset');
  if (backingFileOffset !== 0) {
    const length = v.getUint32(16);
    if (length > MAX_BACKING_NAME) fail(`header field backing_file_size is ${length} (more than ${MAX_BACKING_NAME})`);
    if (backingFileOffset + length > Math.min(clusterSize, head.length)) fail(`the backing file name at ${hex(backingFileOffset)} (${length} bytes) lies outside the first cluster`);
    backingFile = decodeText(head.subarray(backingFileOffset, backingFileOffset + length));
  }
  return {
    version: version === 2 ? 2 : 3, clusterBits, size, l1Size, l1TableOffset, refcountTableOffset, refcountTableClusters, nbSnapshots, snapshotsOffset,
    incompatibleFeatures, compatibleFeatures, autoclearFeatures, refcountOrder, headerLength, additionalFields,
    backingFile, backingFormat: extensions.backingFormat, featureNames, unknownExtensions: extensions.unknown,
  };
}

function overlaps(a: number, aLength: number, b: number, bLength: number): boolean {
  return a < b + bLength && b < a + aLength;
}

interface Extensions {
  backingFormat: string | undefined;
  featureNames: FeatureName[];
  unknown: UnknownExtension[];
}

function parseExtensions(name: string, head: Uint8Array, start: number, clusterSize: number): Extensions {
  const v = viewOf(head);
  const end = Math.min(head.length, clusterSize);
  const out: Extensions = { backingFormat: undefined, featureNames: [], unknown: [] };
  let offset = start;
  while (offset + 8 <= end) {
    const type = v.getUint32(offset);
    const length = v.getUint32(offset + 4);
    if (type === Extension.end) break;
    const data = offset + 8;
    if (data + length > end) throw new ImageError(`${name}: header extension ${hex(type)} at offset ${offset} (${length} bytes) overruns the first cluster`);
    const body = head.subarray(data, data + length);
    if (type === Extension.backingFormat) out.backingFormat = decodeText(body);
    else if (type === Extension.featureNames) {
      for (let i = 0; i + 48 <= length; i += 48) {
        const text = body.subarray(i + 2, i + 48);
        const nul = text.indexOf(0);
        out.featureNames.push({ type: body[i] ?? 0, bit: body[i + 1] ?? 0, name: decodeText(nul < 0 ? text : text.subarray(0, nul)) });
      }
    } else out.unknown.push({ type, data: body.slice() });
    offset = data + roundUp(length, 8);
  }
  return out;
}

/** The set bits of a feature mask of `type`, by name where the table has one ("bit 7" otherwise). */
function describeBits(mask: bigint, type: number, names: readonly FeatureName[]): string {
  const parts: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask & (1n << BigInt(bit))) === 0n) continue;
    const known = names.find((f) => f.type === type && f.bit === bit);
    parts.push(known !== undefined ? `${known.name} (bit ${bit})` : `bit ${bit}`);
  }
  return parts.join(', ');
}

/** What a new image's header holds. */
export type NewHeader = Pick<Qcow2Header, 'clusterBits' | 'size' | 'l1Size' | 'l1TableOffset' | 'refcountTableOffset' | 'refcountTableClusters'> & {
  readonly backingFile?: string;
  readonly backingFormat?: string;
};

/**
 * The first bytes of a new version 3 image as `qemu-img create -f qcow2` writes them: the
 * 112-byte header (refcount_order 4, zlib), the backing format extension, QEMU's feature name
 * table (if it fits), the end marker, then the backing file name. Throws if it does not fit
 * in one cluster.
 */
export function buildHeader(h: NewHeader): Uint8Array {
  // QEMU leaves the feature name table out unless it leaves room in the cluster (it does not
  // with 512-byte clusters).
  const full = buildHeaderWith(h, true, false);
  return full.length < 2 ** h.clusterBits ? full : buildHeaderWith(h, false, true);
}

function buildHeaderWith(h: NewHeader, withFeatureNames: boolean, checkFit: boolean): Uint8Array {
  const clusterSize = 2 ** h.clusterBits;
  const headerLength = 112;
  const exts: Array<{ type: number; data: Uint8Array }> = [];
  if (h.backingFormat !== undefined) exts.push({ type: Extension.backingFormat, data: encodeText(h.backingFormat) });
  const table = new Uint8Array(48 * QEMU_FEATURE_NAMES.length);
  QEMU_FEATURE_NAMES.forEach((f, i) => {
    table[i * 48] = f.type;
    table[i * 48 + 1] = f.bit;
    table.set(encodeText(f.name), i * 48 + 2);
  });
  if (withFeatureNames) exts.push({ type: Extension.featureNames, data: table });
  let length = headerLength;
  for (const e of exts) length += 8 + roundUp(e.data.length, 8);
  length += 8;
  const backing = h.backingFile !== undefined ? encodeText(h.backingFile) : undefined;
  if (backing !== undefined && backing.length > MAX_BACKING_NAME) throw new ImageError(`backing file name too long (${backing.length} bytes, at most ${MAX_BACKING_NAME})`);
  const total = length + (backing?.length ?? 0);
  if (checkFit && total > clusterSize) throw new ImageError(`the header and backing file name (${total} bytes) do not fit in one ${clusterSize}-byte cluster`);
  const out = new Uint8Array(total);
  const v = viewOf(out);
  v.setUint32(0, QCOW2_MAGIC);
  v.setUint32(4, 3);
  if (backing !== undefined) {
    writeU64(v, 8, length);
    v.setUint32(16, backing.length);
    out.set(backing, length);
  }
  v.setUint32(20, h.clusterBits);
  writeU64(v, HeaderField.size, h.size);
  v.setUint32(HeaderField.l1Size, h.l1Size);
  writeU64(v, HeaderField.l1TableOffset, h.l1TableOffset);
  writeU64(v, HeaderField.refcountTableOffset, h.refcountTableOffset);
  v.setUint32(HeaderField.refcountTableClusters, h.refcountTableClusters);
  v.setUint32(96, 4);
  v.setUint32(100, headerLength);
  let offset = headerLength;
  for (const e of exts) {
    v.setUint32(offset, e.type);
    v.setUint32(offset + 4, e.data.length);
    out.set(e.data, offset + 8);
    offset += 8 + roundUp(e.data.length, 8);
  }
  return out;
}
