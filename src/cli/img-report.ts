/**
 * What `replayvm img info`, `check` and `snapshot -l` print: qemu-img's text and JSON layouts,
 * so scripts written for qemu-img read ours. Pure functions of typed values; img.ts gathers
 * the values.
 */
import type { ImgFormat } from './img-options.js';

/** An internal snapshot as `info` and `snapshot -l` list it. */
export interface SnapshotInfo {
  readonly id: string;
  readonly name: string;
  /** Bytes of saved machine state (0 for a disk-only snapshot). */
  readonly vmStateSize: number;
  /** When it was taken: seconds and nanoseconds since the Unix epoch. */
  readonly dateSec: number;
  readonly dateNsec: number;
  /** The guest's clock when it was taken, in nanoseconds. */
  readonly vmClockNs: number;
  /** The instruction count when it was taken, if recorded. */
  readonly icount: number | undefined;
}

/** qcow2's own fields in `info` (qemu-img's "Format specific information"). */
export interface Qcow2Details {
  readonly version: 2 | 3;
  readonly compressionType: string;
  readonly lazyRefcounts: boolean;
  readonly refcountBits: number;
  readonly corrupt: boolean;
  readonly extendedL2: boolean;
}

/** What `img info` shows of an image. */
export interface ImageInfo {
  /** The path as given. */
  readonly filename: string;
  readonly format: ImgFormat;
  readonly virtualSize: number;
  /** Bytes the file takes on the host's disk (allocated blocks). */
  readonly diskSize: number;
  readonly clusterSize: number | undefined;
  /** The backing file as the header names it, as resolved, and its format if the header says. */
  readonly backing: { readonly name: string; readonly fullName: string; readonly format: string | undefined } | undefined;
  readonly snapshots: readonly SnapshotInfo[];
  /** The qcow2 dirty bit (the image was not closed cleanly, with lazy refcounts). */
  readonly dirty: boolean;
  readonly qcow2: Qcow2Details | undefined;
}

/** The counts `img check` prints (the checker's report, without its problem lines). */
export interface CheckCounts {
  readonly corruptions: number;
  readonly leaks: number;
  readonly checkErrors: number;
  readonly totalClusters: number;
  readonly allocatedClusters: number;
  readonly fragmentedClusters: number;
  readonly compressedClusters: number;
  readonly imageEndOffset: number;
}

const UNITS = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** A byte count as qemu-img prints it: three significant digits and a binary unit (`1.5 GiB`, `644 KiB`, `0 B`). */
export function sizeText(bytes: number): string {
  // The next unit as soon as the number would reach 1000 (QEMU's size_to_str).
  let unit = 0;
  while (unit < UNITS.length - 1 && bytes >= 1000 * 1024 ** unit) unit++;
  const value = bytes / 1024 ** unit;
  return `${Number(value.toPrecision(3))} ${UNITS[unit]}B`;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** A snapshot's date in local time, `YYYY-MM-DD hh:mm:ss`. */
function dateText(sec: number): string {
  const d = new Date(sec * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A guest clock value, `hh:mm:ss.mmm`. */
function clockText(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  const s = Math.floor(ms / 1000);
  return `${pad2(Math.floor(s / 3600))}:${pad2(Math.floor(s / 60) % 60)}:${pad2(s % 60)}.${String(ms % 1000).padStart(3, '0')}`;
}

/** The snapshot table as qemu-img prints it (`Snapshot list:`, a header line, one line each). */
export function snapshotTable(snapshots: readonly SnapshotInfo[]): string {
  const lines = ['Snapshot list:', `${'ID'.padEnd(10)}${'TAG'.padEnd(17)}${'VM SIZE'.padStart(8)}${'DATE'.padStart(20)}${'VM CLOCK'.padStart(13)}${'ICOUNT'.padStart(11)}`];
  for (const s of snapshots) {
    lines.push(`${s.id.padEnd(9)} ${s.name.padEnd(16)} ${sizeText(s.vmStateSize).padStart(8)}${dateText(s.dateSec).padStart(20)}`
      + `${clockText(s.vmClockNs).padStart(13)}${(s.icount === undefined ? '' : String(s.icount)).padStart(11)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `img info`'s text. */
export function infoHuman(i: ImageInfo): string {
  const lines = [
    `image: ${i.filename}`,
    `file format: ${i.format}`,
    `virtual size: ${sizeText(i.virtualSize)} (${i.virtualSize} bytes)`,
    `disk size: ${sizeText(i.diskSize)}`,
  ];
  if (i.clusterSize !== undefined) lines.push(`cluster_size: ${i.clusterSize}`);
  if (i.backing !== undefined) {
    lines.push(`backing file: ${i.backing.name}${i.backing.fullName !== i.backing.name ? ` (actual path: ${i.backing.fullName})` : ''}`);
    if (i.backing.format !== undefined) lines.push(`backing file format: ${i.backing.format}`);
  }
  if (i.dirty) lines.push('cleanly shut down: no');
  let text = `${lines.join('\n')}\n`;
  if (i.snapshots.length > 0) text += snapshotTable(i.snapshots);
  const q = i.qcow2;
  if (q !== undefined) {
    const details = [`compat: ${q.version === 2 ? '0.10' : '1.1'}`, `compression type: ${q.compressionType}`];
    if (q.version === 3) details.push(`lazy refcounts: ${q.lazyRefcounts}`);
    details.push(`refcount bits: ${q.refcountBits}`);
    if (q.version === 3) details.push(`corrupt: ${q.corrupt}`, `extended l2: ${q.extendedL2}`);
    text += `Format specific information:\n${details.map((d) => `    ${d}\n`).join('')}`;
  }
  return text;
}

/** `img info --output=json`: qemu-img's keys. */
export function infoJson(i: ImageInfo): string {
  const o: Record<string, unknown> = {};
  if (i.snapshots.length > 0) {
    o['snapshots'] = i.snapshots.map((s) => ({
      'icount': s.icount, 'vm-clock-nsec': s.vmClockNs % 1e9, 'name': s.name, 'date-sec': s.dateSec,
      'date-nsec': s.dateNsec, 'vm-clock-sec': Math.floor(s.vmClockNs / 1e9), 'id': s.id, 'vm-state-size': s.vmStateSize,
    }));
  }
  if (i.backing?.format !== undefined) o['backing-filename-format'] = i.backing.format;
  o['virtual-size'] = i.virtualSize;
  o['filename'] = i.filename;
  if (i.clusterSize !== undefined) o['cluster-size'] = i.clusterSize;
  o['format'] = i.format;
  o['actual-size'] = i.diskSize;
  const q = i.qcow2;
  if (q !== undefined) {
    const data: Record<string, unknown> = { 'compat': q.version === 2 ? '0.10' : '1.1', 'compression-type': q.compressionType };
    if (q.version === 3) data['lazy-refcounts'] = q.lazyRefcounts;
    data['refcount-bits'] = q.refcountBits;
    if (q.version === 3) Object.assign(data, { 'corrupt': q.corrupt, 'extended-l2': q.extendedL2 });
    o['format-specific'] = { type: 'qcow2', data };
  }
  if (i.backing !== undefined) {
    o['full-backing-filename'] = i.backing.fullName;
    o['backing-filename'] = i.backing.name;
  }
  o['dirty-flag'] = i.dirty;
  return `${JSON.stringify(o, null, 4)}\n`;
}

const percent = (part: number, whole: number): string => (part * 100 / whole).toFixed(2);

/** `img check`'s summary text (the problem lines come before it, on stderr). */
export function checkHuman(c: CheckCounts): string {
  let text = '';
  if (c.corruptions === 0 && c.leaks === 0 && c.checkErrors === 0) text += 'No errors were found on the image.\n';
  if (c.corruptions > 0) text += `\n${c.corruptions} errors were found on the image.\nData may be corrupted, or further writes to the image may corrupt it.\n`;
  if (c.leaks > 0) text += `\n${c.leaks} leaked clusters were found on the image.\nThis means waste of disk space, but no harm to data.\n`;
  if (c.checkErrors > 0) text += `\n${c.checkErrors} internal errors have occurred during the check.\n`;
  if (c.totalClusters > 0 && c.allocatedClusters > 0) {
    text += `${c.allocatedClusters}/${c.totalClusters} = ${percent(c.allocatedClusters, c.totalClusters)}% allocated, `
      + `${percent(c.fragmentedClusters, c.allocatedClusters)}% fragmented, ${percent(c.compressedClusters, c.allocatedClusters)}% compressed clusters\n`;
  }
  if (c.imageEndOffset > 0) text += `Image end offset: ${c.imageEndOffset}\n`;
  return text;
}

/** `img check --output=json`: qemu-img's keys (counts that are 0 are left out, as qemu-img does). */
export function checkJson(filename: string, c: CheckCounts): string {
  const o: Record<string, unknown> = { 'image-end-offset': c.imageEndOffset, 'total-clusters': c.totalClusters };
  if (c.corruptions > 0) o['corruptions'] = c.corruptions;
  if (c.leaks > 0) o['leaks'] = c.leaks;
  o['check-errors'] = c.checkErrors;
  if (c.allocatedClusters > 0) o['allocated-clusters'] = c.allocatedClusters;
  if (c.fragmentedClusters > 0) o['fragmented-clusters'] = c.fragmentedClusters;
  if (c.compressedClusters > 0) o['compressed-clusters'] = c.compressedClusters;
  o['filename'] = filename;
  o['format'] = 'qcow2';
  return `${JSON.stringify(o, null, 4)}\n`;
}

/** qemu-img check's exit status: 0 clean, 1 the check could not be done, 2 corruptions, 3 leaks only. */
export function checkStatus(c: CheckCounts): number {
  return c.checkErrors > 0 ? 1 : c.corruptions > 0 ? 2 : c.leaks > 0 ? 3 : 0;
}
