/**
 * The physical address map for everything that is not RAM: a short table of ranges, each
 * routed to a device that sees only the offset within its range (as in TinyEMU). The CPU
 * consults it only when an access misses RAM, so it is not on the fast path.
 */

/** A memory-mapped device. Values are unsigned (0 .. 2^size*8 - 1). */
export interface MmioDevice {
  /** Reads `size` bytes at `offset` within the device's range. */
  read(offset: number, size: 1 | 2 | 4): number;
  /** Writes the low `size` bytes of `value` at `offset` within the device's range. */
  write(offset: number, size: 1 | 2 | 4, value: number): void;
}

/** One entry of the map. */
export interface MappedRange {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly device: MmioDevice;
}

export class AddressMapError extends Error {
  override name = 'AddressMapError';
}

/**
 * A lock taken around every device call (the BQL when harts run in a vCPU thread); absent in
 * single-thread use, where it costs one `undefined` check per access.
 */
export interface DeviceLock {
  lock(): void;
  unlock(): void;
}

/** Called for an access to an address no device claims (for `-d guest_errors`). */
export type UnmappedAccessHook = (paddr: number, size: number, isWrite: boolean) => void;

export class AddressMap {
  private readonly ranges: MappedRange[] = [];
  /** Set by `read`/`write` when the last access hit no device: the CPU raises an access fault. */
  fault = false;
  onUnmapped: UnmappedAccessHook | undefined;
  /** Taken around each device read/write when set (see {@link DeviceLock}). */
  deviceLock: DeviceLock | undefined;

  /** Adds a device at [base, base+size). Overlapping ranges are a board bug and throw. */
  add(name: string, base: number, size: number, device: MmioDevice): void {
    base >>>= 0;
    for (const r of this.ranges) {
      if (base < r.base + r.size && r.base < base + size) {
        throw new AddressMapError(`${name} at 0x${base.toString(16)} overlaps ${r.name} at 0x${r.base.toString(16)}`);
      }
    }
    this.ranges.push({ name, base, size, device });
    this.ranges.sort((a, b) => a.base - b.base);
  }

  /** The range containing `paddr`, or undefined. */
  find(paddr: number): MappedRange | undefined {
    paddr >>>= 0;
    for (const r of this.ranges) {
      if (paddr >= r.base && paddr - r.base < r.size) return r;
    }
    return undefined;
  }

  /** All ranges, sorted by base (for the device tree and `info mtree`). */
  list(): readonly MappedRange[] {
    return this.ranges;
  }

  /** Reads from the device at `paddr`. On a miss returns 0 and sets `fault`. */
  read(paddr: number, size: 1 | 2 | 4): number {
    const r = this.find(paddr);
    if (r === undefined || (paddr >>> 0) - r.base + size > r.size) {
      this.fault = true;
      this.onUnmapped?.(paddr >>> 0, size, false);
      return 0;
    }
    this.fault = false;
    const lock = this.deviceLock;
    if (lock === undefined) return r.device.read((paddr >>> 0) - r.base, size) >>> 0;
    lock.lock();
    try {
      return r.device.read((paddr >>> 0) - r.base, size) >>> 0;
    } finally {
      lock.unlock();
    }
  }

  /** Writes to the device at `paddr`. On a miss does nothing and sets `fault`. */
  write(paddr: number, size: 1 | 2 | 4, value: number): void {
    const r = this.find(paddr);
    if (r === undefined || (paddr >>> 0) - r.base + size > r.size) {
      this.fault = true;
      this.onUnmapped?.(paddr >>> 0, size, true);
      return;
    }
    this.fault = false;
    const lock = this.deviceLock;
    if (lock === undefined) {
      r.device.write((paddr >>> 0) - r.base, size, value);
      return;
    }
    lock.lock();
    try {
      r.device.write((paddr >>> 0) - r.base, size, value);
    } finally {
      lock.unlock();
    }
  }
}
