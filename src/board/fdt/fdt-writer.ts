/**
 * A generic flattened device tree (DTB, version 17, last compatible version 16) builder, per
 * the Devicetree Specification v0.4 chapter 5. Nodes are written in order: begin the root with
 * `beginNode('')`, nest, and `finish()` once the root is ended.
 */

/** FDT header magic. */
export const FDT_MAGIC = 0xd00dfeed;
/** Structure block tokens. */
export const FDT_BEGIN_NODE = 1;
export const FDT_END_NODE = 2;
export const FDT_PROP = 3;
export const FDT_NOP = 4;
export const FDT_END = 9;
/** Size of the version 17 header. */
export const FDT_HEADER_SIZE = 40;

/** Raised when the builder is misused (unbalanced nodes, bad values). */
export class FdtWriterError extends Error {
  override name = 'FdtWriterError';
}

/** One memory reservation block entry. */
export interface FdtReservation {
  address: number | bigint;
  size: number | bigint;
}

/** Options for `FdtWriter.finish`. */
export interface FdtFinishOptions {
  /** boot_cpuid_phys of the header (default 0). */
  bootCpuId?: number;
  /** Memory reservation entries (default none). */
  reserve?: FdtReservation[];
}

const encoder = new TextEncoder();

/** Builds a DTB. */
export class FdtWriter {
  private struct = new Uint8Array(4096);
  private structLen = 0;
  private readonly strings: number[] = [];
  private readonly stringOffsets = new Map<string, number>();
  private depth = 0;
  private rootDone = false;
  private nextPhandle = 1;

  private ensure(extra: number): void {
    if (this.structLen + extra <= this.struct.length) return;
    let n = this.struct.length * 2;
    while (n < this.structLen + extra) n *= 2;
    const grown = new Uint8Array(n);
    grown.set(this.struct.subarray(0, this.structLen));
    this.struct = grown;
  }

  private u32(v: number): void {
    this.ensure(4);
    const s = this.struct;
    const o = this.structLen;
    s[o] = (v >>> 24) & 0xff;
    s[o + 1] = (v >>> 16) & 0xff;
    s[o + 2] = (v >>> 8) & 0xff;
    s[o + 3] = v & 0xff;
    this.structLen += 4;
  }

  private bytesPadded(b: Uint8Array): void {
    const padded = (b.length + 3) & ~3;
    this.ensure(padded);
    this.struct.set(b, this.structLen);
    this.struct.fill(0, this.structLen + b.length, this.structLen + padded);
    this.structLen += padded;
  }

  private stringOffset(name: string): number {
    const known = this.stringOffsets.get(name);
    if (known !== undefined) return known;
    const off = this.strings.length;
    for (const b of encoder.encode(name)) this.strings.push(b);
    this.strings.push(0);
    this.stringOffsets.set(name, off);
    return off;
  }

  /** Opens a node; the first call must open the root (`''`). Unit addresses are part of the name (`serial@10000000`). */
  beginNode(name: string): void {
    if (this.rootDone) throw new FdtWriterError('the root node is already closed');
    if (this.depth === 0 && name !== '') throw new FdtWriterError('the first node must be the root ("")');
    if (this.depth > 0 && (name === '' || name.includes('/') || name.includes('\0'))) {
      throw new FdtWriterError(`bad node name ${JSON.stringify(name)}`);
    }
    this.u32(FDT_BEGIN_NODE);
    const b = encoder.encode(name);
    const withNul = new Uint8Array(b.length + 1);
    withNul.set(b);
    this.bytesPadded(withNul);
    this.depth++;
  }

  /** Closes the current node. */
  endNode(): void {
    if (this.depth === 0) throw new FdtWriterError('endNode without beginNode');
    this.u32(FDT_END_NODE);
    this.depth--;
    if (this.depth === 0) this.rootDone = true;
  }

  /** Adds a property with a raw value to the current node. */
  prop(name: string, value: Uint8Array): void {
    if (this.depth === 0) throw new FdtWriterError(`property ${name} outside a node`);
    if (name === '' || name.includes('\0')) throw new FdtWriterError(`bad property name ${JSON.stringify(name)}`);
    this.u32(FDT_PROP);
    this.u32(value.length);
    this.u32(this.stringOffset(name));
    this.bytesPadded(value);
  }

  /** A property of big-endian 32-bit cells. */
  propU32(name: string, ...values: number[]): void {
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) throw new FdtWriterError(`${name}: ${v} is not a 32-bit cell`);
      dv.setUint32(4 * i, v >>> 0);
    });
    this.prop(name, b);
  }

  /** A property of big-endian 64-bit values (two cells each). */
  propU64(name: string, ...values: (number | bigint)[]): void {
    const b = new Uint8Array(8 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => {
      const big = typeof v === 'bigint' ? v : BigInt(v);
      if (big < 0n || big > 0xffffffffffffffffn) throw new FdtWriterError(`${name}: ${v} is not a 64-bit value`);
      dv.setBigUint64(8 * i, big);
    });
    this.prop(name, b);
  }

  /** A NUL-terminated string property. */
  propString(name: string, s: string): void {
    this.propStrings(name, s);
  }

  /** A string-list property (each string NUL-terminated). */
  propStrings(name: string, ...ss: string[]): void {
    const parts = ss.map((s) => {
      if (s.includes('\0')) throw new FdtWriterError(`${name}: string contains NUL`);
      return encoder.encode(s);
    });
    const b = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
    let o = 0;
    for (const p of parts) {
      b.set(p, o);
      o += p.length + 1;
    }
    this.prop(name, b);
  }

  /** An empty (boolean) property such as `interrupt-controller`. */
  propEmpty(name: string): void {
    this.prop(name, new Uint8Array(0));
  }

  /** A fresh phandle (1, 2, 3, ...). Write it with `propU32('phandle', p)`. */
  allocPhandle(): number {
    return this.nextPhandle++;
  }

  /** Lays out the blob: header, memory reservation block, structure block, strings block. */
  finish(opts: FdtFinishOptions = {}): Uint8Array {
    if (!this.rootDone || this.depth !== 0) throw new FdtWriterError('finish: the root node is not closed');
    const reserve = opts.reserve ?? [];
    const offRsv = FDT_HEADER_SIZE; // 8-aligned
    const rsvSize = 16 * (reserve.length + 1);
    const offStruct = offRsv + rsvSize;
    const structSize = this.structLen + 4; // + FDT_END
    const offStrings = offStruct + structSize;
    const stringsSize = this.strings.length;
    const total = offStrings + stringsSize;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, FDT_MAGIC);
    dv.setUint32(4, total);
    dv.setUint32(8, offStruct);
    dv.setUint32(12, offStrings);
    dv.setUint32(16, offRsv);
    dv.setUint32(20, 17);
    dv.setUint32(24, 16);
    dv.setUint32(28, (opts.bootCpuId ?? 0) >>> 0);
    dv.setUint32(32, stringsSize);
    dv.setUint32(36, structSize);
    reserve.forEach((r, i) => {
      dv.setBigUint64(offRsv + 16 * i, BigInt(r.address));
      dv.setBigUint64(offRsv + 16 * i + 8, BigInt(r.size));
    });
    out.set(this.struct.subarray(0, this.structLen), offStruct);
    dv.setUint32(offStruct + this.structLen, FDT_END);
    out.set(this.strings, offStrings);
    return out;
  }
}
