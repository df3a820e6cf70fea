/**
 * The internal snapshot table: parse and build its entries exactly as QEMU stores them
 * (docs/interop/qcow2.txt, "Snapshots"): L1 table offset and size, id and name strings, date,
 * VM clock, VM state size, and extra data (large VM state size, disk size, icount), unknown
 * extra data kept as it was.
 */
import { ImageError } from '../errors.js';
import { decodeText, encodeText, hex, readU64, roundUp, viewOf, writeU64 } from './bytes.js';
import { MAX_L1_BYTES } from './header.js';

/** A snapshot as listed: what it is, not where its tables are. */
export interface SnapshotInfo {
  /** The unique id string ("1", "2", ... as QEMU numbers them). */
  readonly id: string;
  readonly name: string;
  /** When it was taken: seconds since the Epoch and the nanoseconds part. */
  readonly dateSec: number;
  readonly dateNsec: number;
  /** How long the guest had run, in nanoseconds of its virtual clock. */
  readonly vmClockNs: bigint;
  /** Bytes of saved machine state (0: a disk-only snapshot). */
  readonly vmStateSize: number;
  /** The virtual disk size when it was taken (undefined when the entry has no such field). */
  readonly diskSize: number | undefined;
  /** The instruction count when it was taken (record/replay), undefined if none (-1 stored). */
  readonly icount: bigint | undefined;
}

/** One snapshot as stored. */
export interface SnapshotEntry extends SnapshotInfo {
  readonly l1TableOffset: number;
  readonly l1Size: number;
  /** Extra data past the 24 bytes we know, kept as it was. */
  readonly unknownExtra: Uint8Array;
}

/** QEMU's limits: 1 KiB of extra data per entry, 64 MiB of table. */
const MAX_EXTRA = 1024;
export const MAX_SNAPSHOT_TABLE_BYTES = 64 << 20;
const NO_ICOUNT = 0xffff_ffff_ffff_ffffn;

/**
 * Parses `count` entries from `bytes` (the table read from `tableOffset`) of an image whose
 * file is `fileSize` bytes and clusters `clusterSize`. Throws an ImageError naming the entry.
 */
export function parseSnapshotTable(name: string, bytes: Uint8Array, count: number, tableOffset: number, clusterSize: number, fileSize: number): { entries: SnapshotEntry[]; size: number } {
  const v = viewOf(bytes);
  const out: SnapshotEntry[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const fail = (what: string): never => {
      throw new ImageError(`${name}: snapshot table entry ${i} (offset ${hex(tableOffset + at)}): ${what}`);
    };
    if (at + 40 > bytes.length) fail('lies past the end of the file');
    const l1TableOffset = readU64(v, at) ?? fail('L1 table offset out of range');
    const l1Size = v.getUint32(at + 8);
    const idLength = v.getUint16(at + 12);
    const nameLength = v.getUint16(at + 14);
    const extraSize = v.getUint32(at + 36);
    if (extraSize > MAX_EXTRA) fail(`extra data size ${extraSize} is more than ${MAX_EXTRA}`);
    const size = 40 + extraSize + idLength + nameLength;
    if (at + size > bytes.length) fail('lies past the end of the file');
    if (l1Size * 8 > MAX_L1_BYTES) fail(`L1 size ${l1Size} is too large`);
    if (l1Size > 0 && (l1TableOffset % clusterSize !== 0 || l1TableOffset < clusterSize || l1TableOffset + l1Size * 8 > fileSize)) {
      fail(`L1 table at ${hex(l1TableOffset)} (${l1Size} entries) is not an aligned area inside the file`);
    }
    const extra = bytes.subarray(at + 40, at + 40 + extraSize);
    const ev = viewOf(extra);
    let vmStateSize = v.getUint32(at + 32);
    if (extraSize >= 8) vmStateSize = readU64(ev, 0) ?? fail('VM state size out of range');
    const diskSize = extraSize >= 16 ? (readU64(ev, 8) ?? fail('disk size out of range')) : undefined;
    const rawIcount = extraSize >= 24 ? ev.getBigUint64(16) : NO_ICOUNT;
    const idStart = at + 40 + extraSize;
    out.push({
      l1TableOffset, l1Size,
      id: decodeText(bytes.subarray(idStart, idStart + idLength)),
      name: decodeText(bytes.subarray(idStart + idLength, idStart + idLength + nameLength)),
      dateSec: v.getUint32(at + 16), dateNsec: v.getUint32(at + 20), vmClockNs: v.getBigUint64(at + 24),
      vmStateSize, diskSize, icount: rawIcount === NO_ICOUNT ? undefined : rawIcount,
      unknownExtra: extra.slice(Math.min(24, extraSize)),
    });
    at += roundUp(size, 8);
  }
  return { entries: out, size: at };
}

/** The table bytes of `entries`, as QEMU writes them (24 bytes of extra data at least). */
export function buildSnapshotTable(entries: readonly SnapshotEntry[]): Uint8Array {
  const parts = entries.map((e) => {
    const id = encodeText(e.id);
    const name = encodeText(e.name);
    if (id.length > 0xffff || name.length > 0xffff) throw new ImageError(`snapshot '${e.name}': id or name longer than 65535 bytes`);
    const extraSize = 24 + e.unknownExtra.length;
    const size = roundUp(40 + extraSize + id.length + name.length, 8);
    const b = new Uint8Array(size);
    const v = viewOf(b);
    writeU64(v, 0, e.l1TableOffset);
    v.setUint32(8, e.l1Size);
    v.setUint16(12, id.length);
    v.setUint16(14, name.length);
    v.setUint32(16, e.dateSec);
    v.setUint32(20, e.dateNsec);
    v.setBigUint64(24, e.vmClockNs);
    v.setUint32(32, e.vmStateSize > 0xffff_ffff ? 0 : e.vmStateSize);
    v.setUint32(36, extraSize);
    writeU64(v, 40, e.vmStateSize);
    writeU64(v, 48, e.diskSize ?? 0);
    v.setBigUint64(56, e.icount ?? NO_ICOUNT);
    b.set(e.unknownExtra, 64);
    b.set(id, 40 + extraSize);
    b.set(name, 40 + extraSize + id.length);
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (out.length > MAX_SNAPSHOT_TABLE_BYTES) throw new ImageError(`the snapshot table would be ${out.length} bytes (more than ${MAX_SNAPSHOT_TABLE_BYTES})`);
  return out;
}
