/**
 * A temporary copy-on-write overlay over a block backend: QEMU's `snapshot=on` / `-snapshot`.
 * Writes land in memory, in 512-byte sectors; reads merge the overlay over the base. The base
 * is only ever read (openBlockBackend opens its file read-only), and the overlay is dropped on
 * close, so the image file never changes.
 *
 * Record/replay will keep overlays beside its log and put them in snapshots: `exportDirty()`
 * lists the written sectors in a deterministic order and `restoreDirty()` loads such a list back.
 */
import {
  NO_DATA, SECTOR_SIZE, requestProblem,
  type BlockBackend, type CacheMode, type ClosableBlockBackend,
} from './block-backend.js';

/** Overlay options. */
export interface OverlayOptions {
  /** Writes fail (`readonly=on` together with `snapshot=on`). Default false. */
  readonly readOnly?: boolean;
  /** The drive's cache mode, reported to the device; flushes are no-ops whatever it is. */
  readonly cache?: CacheMode;
}

/** A base backend the overlay may own. */
type Base = BlockBackend & { close?(): Promise<void> };

export class OverlayBlockBackend implements ClosableBlockBackend {
  readonly byteLength: number;
  readonly readOnly: boolean;
  readonly cache: CacheMode;
  /** Written sectors by index; each array is SECTOR_SIZE bytes and owned by the overlay. */
  private sectors = new Map<number, Uint8Array>();
  private closed = false;

  /** Wraps `base`, which the overlay never writes; `close()` closes it too. */
  constructor(private readonly base: Base, options: OverlayOptions = {}) {
    this.byteLength = base.byteLength;
    this.readOnly = options.readOnly ?? false;
    this.cache = options.cache ?? 'writeback';
  }

  /** How many sectors the overlay holds. */
  get dirtySectorCount(): number {
    return this.sectors.size;
  }

  read(offset: number, length: number, done: (err: string | undefined, data: Uint8Array) => void): void {
    const problem = this.closed ? 'the drive is closed' : requestProblem(this.byteLength, offset, length);
    if (problem !== undefined) {
      setImmediate(() => done(problem, NO_DATA));
      return;
    }
    if (length > 0 && this.covers(offset, length)) {
      const data = new Uint8Array(length);
      this.patch(data, offset);
      setImmediate(() => done(undefined, data));
      return;
    }
    this.base.read(offset, length, (err, data) => {
      if (err !== undefined) {
        done(err, NO_DATA);
        return;
      }
      // Patched at completion, so the read sees every write completed before it returns.
      this.patch(data, offset);
      done(undefined, data);
    });
  }

  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void {
    const problem = this.closed ? 'the drive is closed'
      : this.readOnly ? 'the drive is read-only'
        : requestProblem(this.byteLength, offset, data.length);
    if (problem !== undefined) {
      setImmediate(() => done(problem));
      return;
    }
    if (data.length === 0) {
      setImmediate(() => done(undefined));
      return;
    }
    // Sectors the write covers only in part need their old contents: from the overlay, or
    // (read-modify-write) from the base.
    const end = offset + data.length;
    const first = Math.floor(offset / SECTOR_SIZE);
    const last = Math.floor((end - 1) / SECTOR_SIZE);
    const partial = new Set<number>();
    if (offset % SECTOR_SIZE !== 0) partial.add(first);
    if (end % SECTOR_SIZE !== 0) partial.add(last);
    const missing = [...partial].filter((s) => !this.sectors.has(s));
    // Copy now: the caller may reuse `data` once `done` has run, and it may be guest memory.
    const copy = data.slice();
    if (missing.length === 0) {
      this.apply(copy, offset);
      setImmediate(() => done(undefined));
      return;
    }
    let waiting = missing.length;
    let failure: string | undefined;
    const old = new Map<number, Uint8Array>();
    for (const s of missing) {
      this.base.read(s * SECTOR_SIZE, SECTOR_SIZE, (err, bytes) => {
        if (err !== undefined) failure ??= err;
        else old.set(s, bytes);
        if (--waiting > 0) return;
        if (failure === undefined && this.closed) failure = 'the drive is closed';
        // Another write may have filled a sector meanwhile: it then counts as the older one.
        if (failure === undefined) this.apply(copy, offset, old);
        done(failure);
      });
    }
  }

  /** Nothing to do: the overlay is temporary, and the base is never written. */
  flush(done: (err: string | undefined) => void): void {
    setImmediate(() => done(this.closed ? 'the drive is closed' : undefined));
  }

  /**
   * The overlay's sectors in increasing index order, as copies: `[sectorIndex, 512 bytes]`.
   * Sector `i` holds image bytes `i * 512 .. i * 512 + 511`.
   */
  *exportDirty(): Generator<[number, Uint8Array]> {
    const indices = [...this.sectors.keys()].sort((a, b) => a - b);
    for (const i of indices) {
      const sector = this.sectors.get(i);
      if (sector !== undefined) yield [i, sector.slice()];
    }
  }

  /**
   * Replaces the overlay with `entries` (as exportDirty gives them). Throws on a sector index
   * outside the image or a sector that is not 512 bytes; the overlay is then unchanged.
   */
  restoreDirty(entries: Iterable<readonly [number, Uint8Array]>): void {
    const next = new Map<number, Uint8Array>();
    const count = this.byteLength / SECTOR_SIZE;
    for (const [i, bytes] of entries) {
      if (!Number.isSafeInteger(i) || i < 0 || i >= count) throw new RangeError(`overlay sector ${i} is outside the image (${count} sectors)`);
      if (bytes.length !== SECTOR_SIZE) throw new RangeError(`overlay sector ${i} has ${bytes.length} bytes, not ${SECTOR_SIZE}`);
      next.set(i, bytes.slice());
    }
    this.sectors = next;
  }

  /** Drops every write: the drive reads as the image again. */
  discardDirty(): void {
    this.sectors.clear();
  }

  /** Drops the overlay and closes the base. Later requests fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sectors.clear();
    await this.base.close?.();
  }

  /** Whether every sector touched by the range is in the overlay. */
  private covers(offset: number, length: number): boolean {
    const last = Math.floor((offset + length - 1) / SECTOR_SIZE);
    for (let s = Math.floor(offset / SECTOR_SIZE); s <= last; s++) if (!this.sectors.has(s)) return false;
    return true;
  }

  /** Copies the overlay's sectors over `data`, which holds the image bytes at `offset`. */
  private patch(data: Uint8Array, offset: number): void {
    if (this.sectors.size === 0 || data.length === 0) return;
    const end = offset + data.length;
    const last = Math.floor((end - 1) / SECTOR_SIZE);
    for (let s = Math.floor(offset / SECTOR_SIZE); s <= last; s++) {
      const sector = this.sectors.get(s);
      if (sector === undefined) continue;
      const start = Math.max(offset, s * SECTOR_SIZE);
      const stop = Math.min(end, (s + 1) * SECTOR_SIZE);
      data.set(sector.subarray(start - s * SECTOR_SIZE, stop - s * SECTOR_SIZE), start - offset);
    }
  }

  /**
   * Stores `data` (the bytes at `offset`). A partially covered sector not in the overlay starts
   * from its base contents in `old`.
   */
  private apply(data: Uint8Array, offset: number, old?: ReadonlyMap<number, Uint8Array>): void {
    const end = offset + data.length;
    const last = Math.floor((end - 1) / SECTOR_SIZE);
    for (let s = Math.floor(offset / SECTOR_SIZE); s <= last; s++) {
      const start = Math.max(offset, s * SECTOR_SIZE);
      const stop = Math.min(end, (s + 1) * SECTOR_SIZE);
      let sector = this.sectors.get(s);
      if (sector === undefined) {
        sector = old?.get(s)?.slice() ?? new Uint8Array(SECTOR_SIZE);
        this.sectors.set(s, sector);
      }
      sector.set(data.subarray(start - offset, stop - offset), start - s * SECTOR_SIZE);
    }
  }
}
