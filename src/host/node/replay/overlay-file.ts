/**
 * A recording's disk overlay, kept beside its log (`LOG.virtioN.overlay`): the sectors the guest
 * wrote, so the image itself is never modified. Format: magic "RVMOVL1\n", then for each
 * written sector in ascending order: u64 little-endian sector index, 512 bytes. Written to a
 * temporary name and renamed.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const MAGIC = new TextEncoder().encode('RVMOVL1\n');
const SECTOR = 512;

/** The overlay file of virtio slot `slot` for the log at `log`. */
export function overlayPath(log: string, slot: number): string {
  return `${log}.virtio${slot}.overlay`;
}

/** Writes `sectors` (ascending) to `path` atomically. */
export function writeOverlayFile(path: string, sectors: Iterable<readonly [number, Uint8Array]>): number {
  const list = [...sectors];
  const out = new Uint8Array(MAGIC.length + list.length * (8 + SECTOR));
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  let at = MAGIC.length;
  for (const [index, data] of list) {
    view.setBigUint64(at, BigInt(index), true);
    out.set(data.subarray(0, SECTOR), at + 8);
    at += 8 + SECTOR;
  }
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, path);
  return list.length;
}

/** Reads an overlay file; throws an Error naming the path and the byte offset of a problem. */
export function readOverlayFile(path: string): Map<number, Uint8Array> {
  const bytes = readFileSync(path);
  if (bytes.length < MAGIC.length || !MAGIC.every((b, i) => bytes[i] === b)) throw new Error(`${path}: not a replayvm disk overlay (bad magic at offset 0)`);
  if ((bytes.length - MAGIC.length) % (8 + SECTOR) !== 0) throw new Error(`${path}: truncated overlay (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const map = new Map<number, Uint8Array>();
  for (let at = MAGIC.length; at < bytes.length; at += 8 + SECTOR) {
    map.set(Number(view.getBigUint64(at, true)), new Uint8Array(bytes.subarray(at + 8, at + 8 + SECTOR)));
  }
  return map;
}

/** The first difference between two overlays, or undefined when they are equal. */
export function compareOverlays(recorded: ReadonlyMap<number, Uint8Array>, replayed: ReadonlyMap<number, Uint8Array>): string | undefined {
  const all = [...new Set([...recorded.keys(), ...replayed.keys()])].sort((a, b) => a - b);
  for (const s of all) {
    const a = recorded.get(s);
    const b = replayed.get(s);
    if (a === undefined) return `sector ${s} written in the replay only`;
    if (b === undefined) return `sector ${s} written in the recording only`;
    for (let i = 0; i < SECTOR; i++) if (a[i] !== b[i]) return `sector ${s} differs at byte ${i}`;
  }
  return undefined;
}
