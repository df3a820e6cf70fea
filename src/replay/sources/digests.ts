/**
 * State digests: checkpoints of the machine's state (per hart its pc, a hash of its state and
 * its registers; a hash of the devices; a hash of RAM), logged now and then while recording.
 * Replaying compares the machine's digest with the logged one: the first difference stops the
 * replay with what differs, and the last digest that matched says where to look.
 */
import { KIND_CODES } from '../log/format.js';
import { FormatFault } from '../log/varint.js';
import { readHash, writeHash } from './fields.js';
import type { At, EventSource, RecordContext, ReplayContext } from './source.js';

/** One hart in a digest. */
export interface HartDigest {
  readonly pc: number;
  readonly regsHash: string;
  /** x1..x31 (unsigned), so a divergence report can name the registers that differ; optional. */
  readonly regs?: readonly number[];
}

/** Checkpoint: a digest of the machine state. Hashes are 16 hex digits (lowercase when read). */
export interface DigestEvent extends At {
  readonly kind: 'digest';
  readonly harts: readonly HartDigest[];
  readonly devicesHash: string;
  readonly ramHash: string;
  readonly ramPages: number;
}

/** A digest without its instruction count. */
export type StateDigest = Omit<DigestEvent, 'kind' | 'icount'>;

/** What computes the machine's digest (engine/digest.ts's StateDigester). */
export interface Digester {
  digest(): StateDigest;
}

/** Recording: logs the machine's digest now. */
export function recordDigest(ctx: RecordContext<DigestEvent>, digester: Digester): void {
  ctx.emit({ kind: 'digest', icount: ctx.icount, ...digester.digest() });
}

/** What a replayed digest needs from the Replayer. */
export interface DigestReplayContext extends ReplayContext {
  readonly digester: Digester;
  /** Notes the instruction count of a digest that matched (for later divergence reports). */
  digestMatched(icount: number): void;
}

/** Replaying: the machine's digest must equal the logged one. */
export function replayDigest(e: DigestEvent, ctx: DigestReplayContext): void {
  const diffs = compareDigests(e, ctx.digester.digest());
  if (diffs.length > 0) ctx.diverge(describeDigest(e), `a different state: ${diffs.map((d) => `${d.part}: ${d.detail}`).join('; ')}`);
  ctx.digestMatched(e.icount);
}

/** Describes a digest event for reports. */
export function describeDigest(e: DigestEvent): string {
  return `state digest at instruction ${e.icount}`;
}

/** One difference between a recorded digest and the replaying machine's. */
export interface DigestDifference {
  readonly part: string;
  readonly detail: string;
}

const REG_NAMES = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7',
  's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

const hex = (v: number): string => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** What differs between the recorded digest and the current one (empty: equal). */
export function compareDigests(recorded: StateDigest, now: StateDigest): DigestDifference[] {
  const out: DigestDifference[] = [];
  if (recorded.harts.length !== now.harts.length) {
    out.push({ part: 'harts', detail: `recorded ${recorded.harts.length} harts, replay has ${now.harts.length}` });
    return out;
  }
  recorded.harts.forEach((r, i) => {
    const n = now.harts[i]!;
    if (r.pc !== n.pc) out.push({ part: `hart ${i} pc`, detail: `recorded ${hex(r.pc)}, replay ${hex(n.pc)}` });
    const regs: string[] = [];
    if (r.regs !== undefined && n.regs !== undefined) {
      r.regs.forEach((v, j) => {
        if (v !== n.regs![j]) regs.push(`${REG_NAMES[j + 1]} recorded ${hex(v)} replay ${hex(n.regs![j]!)}`);
      });
    }
    if (regs.length > 0) out.push({ part: `hart ${i} registers`, detail: regs.join(', ') });
    else if (r.regsHash !== n.regsHash) out.push({ part: `hart ${i} state`, detail: 'CSRs, privilege or counters differ (registers and pc are equal)' });
  });
  if (recorded.devicesHash !== now.devicesHash) out.push({ part: 'devices', detail: `state hash recorded ${recorded.devicesHash}, replay ${now.devicesHash}` });
  if (recorded.ramHash !== now.ramHash) out.push({ part: 'RAM', detail: `hash recorded ${recorded.ramHash}, replay ${now.ramHash}` });
  return out;
}

/**
 * `digest` events (code 0x0b: hart count varint; per hart pc u32, regs hash 8 bytes, register
 * count varint and that many u32; then devices hash, RAM hash (8 bytes each), RAM pages varint).
 */
export const DIGEST: EventSource<DigestEvent, DigestReplayContext> = {
  kind: 'digest',
  code: KIND_CODES.digest,
  encode(w, e) {
    const k = 'digest';
    if (!Array.isArray(e.harts)) throw new RangeError(`${k}.harts must be an array`);
    w.varint(e.harts.length);
    e.harts.forEach((h, i) => {
      if (!Number.isInteger(h.pc) || h.pc < 0 || h.pc > 0xffffffff) {
        throw new RangeError(`${k}.harts[${i}].pc must be an unsigned 32-bit integer, got ${h.pc}`);
      }
      w.u32(h.pc);
      writeHash(w, h.regsHash, `${k}.harts[${i}].regsHash`);
      const regs = h.regs ?? [];
      if (regs.length > 31) throw new RangeError(`${k}.harts[${i}].regs has ${regs.length} entries (at most 31)`);
      w.varint(regs.length);
      for (const v of regs) {
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${k}.harts[${i}].regs must hold unsigned 32-bit integers`);
        w.u32(v);
      }
    });
    writeHash(w, e.devicesHash, `${k}.devicesHash`);
    writeHash(w, e.ramHash, `${k}.ramHash`);
    w.varint(e.ramPages, `${k}.ramPages`);
  },
  decode(r, icount) {
    const countPos = r.pos;
    const n = r.varint('hart count');
    // Each hart takes 12 bytes: refuse a count the data cannot hold before allocating.
    if (n * 12 > r.remaining) throw new FormatFault(countPos, `digest hart count ${n} exceeds the data left`);
    const harts: HartDigest[] = [];
    for (let i = 0; i < n; i++) {
      const pc = r.u32('pc');
      const regsHash = readHash(r, 'regs hash');
      const regPos = r.pos;
      const count = r.varint('register count');
      if (count > 31 || count * 4 > r.remaining) throw new FormatFault(regPos, `digest register count ${count} is invalid`);
      const regs: number[] = [];
      for (let j = 0; j < count; j++) regs.push(r.u32('register'));
      harts.push(count > 0 ? { pc, regsHash, regs } : { pc, regsHash });
    }
    const devicesHash = readHash(r, 'devices hash');
    const ramHash = readHash(r, 'ram hash');
    return { kind: 'digest', icount, harts, devicesHash, ramHash, ramPages: r.varint('ram pages') };
  },
  describe: describeDigest,
  replay: replayDigest,
};
