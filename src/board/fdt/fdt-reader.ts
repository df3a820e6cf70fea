/**
 * A strict DTB parser (Devicetree Specification v0.4 chapter 5), used by tests and to validate
 * a user's `-dtb`. Every error is an `FdtError` naming the byte offset where parsing failed.
 */
import { FDT_BEGIN_NODE, FDT_END, FDT_END_NODE, FDT_MAGIC, FDT_NOP, FDT_PROP } from './fdt-writer.js';

/** A parsed node. The root's name is `''`. */
export interface FdtNode {
  name: string;
  props: Map<string, Uint8Array>;
  children: FdtNode[];
}

/** A parsed blob: the tree plus header fields. */
export interface FdtBlob {
  root: FdtNode;
  version: number;
  bootCpuId: number;
  reserve: { address: bigint; size: bigint }[];
}

/** A malformed blob. `offset` is the byte offset in the blob where the problem was found. */
export class FdtError extends Error {
  override name = 'FdtError';
  constructor(message: string, readonly offset: number) {
    super(`${message} (at offset 0x${offset.toString(16)})`);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Parses a DTB and returns its root node. */
export function parseFdt(bytes: Uint8Array): FdtNode {
  return parseFdtBlob(bytes).root;
}

/** Parses a DTB, returning the tree and header information. */
export function parseFdtBlob(bytes: Uint8Array): FdtBlob {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (off: number, n: number, what: string, limit = bytes.length): void => {
    if (off < 0 || off + n > limit) throw new FdtError(`truncated: ${what} runs past the end`, off);
  };
  need(0, 28, 'header');
  const magic = dv.getUint32(0);
  if (magic !== FDT_MAGIC) throw new FdtError(`bad magic 0x${magic.toString(16)}, expected 0xd00dfeed`, 0);
  const total = dv.getUint32(4);
  const offStruct = dv.getUint32(8);
  const offStrings = dv.getUint32(12);
  const offRsv = dv.getUint32(16);
  const version = dv.getUint32(20);
  const lastComp = dv.getUint32(24);
  if (total > bytes.length) throw new FdtError(`truncated: totalsize ${total} but only ${bytes.length} bytes`, 4);
  if (lastComp > 17) throw new FdtError(`unsupported last_comp_version ${lastComp}`, 24);
  if (version < 16) throw new FdtError(`unsupported version ${version}`, 20);
  need(0, 40, 'header', total);
  const bootCpuId = dv.getUint32(28);
  const stringsSize = dv.getUint32(32);
  const structSize = version >= 17 ? dv.getUint32(36) : total - offStruct;
  if (offStruct % 4 !== 0 || offStruct > total || offStruct + structSize > total) {
    throw new FdtError(`structure block [0x${offStruct.toString(16)}, +0x${structSize.toString(16)}) out of range`, 8);
  }
  if (offStrings > total || offStrings + stringsSize > total) {
    throw new FdtError(`strings block [0x${offStrings.toString(16)}, +0x${stringsSize.toString(16)}) out of range`, 12);
  }
  if (offRsv % 8 !== 0 || offRsv > total) throw new FdtError(`memory reservation block offset 0x${offRsv.toString(16)} bad`, 16);

  const reserve: { address: bigint; size: bigint }[] = [];
  for (let o = offRsv; ; o += 16) {
    need(o, 16, 'memory reservation block', total);
    const address = dv.getBigUint64(o);
    const size = dv.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    reserve.push({ address, size });
  }

  const structEnd = offStruct + structSize;
  const readString = (start: number, limit: number, what: string): string => {
    let e = start;
    while (e < limit && bytes[e] !== 0) e++;
    if (e >= limit) throw new FdtError(`unterminated ${what}`, start);
    return decoder.decode(bytes.subarray(start, e));
  };

  let p = offStruct;
  const token = (): number => {
    need(p, 4, 'structure token', structEnd);
    const t = dv.getUint32(p);
    p += 4;
    return t;
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const at = p;
    const t = token();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      if (root !== undefined && stack.length === 0) throw new FdtError('second root node', at);
      const name = readString(p, structEnd, 'node name');
      const nameBytes = new TextEncoder().encode(name).length;
      p = (at + 4 + nameBytes + 1 + 3) & ~3;
      if (stack.length === 0 && name !== '') throw new FdtError(`root node has name ${JSON.stringify(name)}`, at);
      const node: FdtNode = { name, props: new Map(), children: [] };
      if (stack.length === 0) root = node;
      else stack[stack.length - 1]!.children.push(node);
      stack.push(node);
    } else if (t === FDT_END_NODE) {
      if (stack.length === 0) throw new FdtError('FDT_END_NODE without an open node', at);
      stack.pop();
    } else if (t === FDT_PROP) {
      if (stack.length === 0) throw new FdtError('property outside any node', at);
      need(p, 8, 'property header', structEnd);
      const len = dv.getUint32(p);
      const nameoff = dv.getUint32(p + 4);
      p += 8;
      need(p, len, 'property value', structEnd);
      if (nameoff >= stringsSize) throw new FdtError(`property name offset ${nameoff} outside the strings block`, at + 8);
      const name = readString(offStrings + nameoff, offStrings + stringsSize, 'property name');
      const node = stack[stack.length - 1]!;
      if (node.props.has(name)) throw new FdtError(`duplicate property ${name} in node ${node.name}`, at);
      node.props.set(name, bytes.slice(p, p + len));
      p = (p + len + 3) & ~3;
    } else if (t === FDT_END) {
      if (stack.length !== 0) throw new FdtError(`FDT_END with ${stack.length} node(s) still open`, at);
      if (root === undefined) throw new FdtError('no root node', at);
      return { root, version, bootCpuId, reserve };
    } else {
      throw new FdtError(`unknown structure token 0x${t.toString(16)}`, at);
    }
  }
}

/** Looks up a node by absolute path (`/soc/serial@10000000`); undefined if absent. */
export function findNode(root: FdtNode, path: string): FdtNode | undefined {
  let node: FdtNode | undefined = root;
  for (const part of path.split('/').filter((s) => s !== '')) {
    node = node.children.find((c: FdtNode) => c.name === part);
    if (node === undefined) return undefined;
  }
  return node;
}

/** A property's value as big-endian 32-bit cells. Throws if the length is not a multiple of 4. */
export function propCells(value: Uint8Array): number[] {
  if (value.length % 4 !== 0) throw new FdtError(`property of ${value.length} bytes is not a list of cells`, 0);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 4) out.push(dv.getUint32(i));
  return out;
}

/** A property's value as a list of NUL-terminated strings. */
export function propStrings(value: Uint8Array): string[] {
  const s = decoder.decode(value);
  const parts = s.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}
