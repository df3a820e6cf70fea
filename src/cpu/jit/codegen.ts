/**
 * The block translator's code generator: the guest code of one 4 KiB physical page, reached
 * from a set of entry offsets, becomes the JavaScript source of one factory that returns an
 * array of block functions, indexed by halfword slot.
 *
 * A block function (`block(vb, s, max, P)`: vb = the page's virtual base, s = steps executed
 * so far in this `run`, max = the step budget, P = the physical page index) runs one basic
 * block: the dispatcher has checked that it fits in the budget and that the signal word is
 * clear, the block charges its whole length at entry, and a trap or an early exit inside it
 * sets the exact count (`s - d + 1` where d = instructions from there to the block's end). It
 * returns 0 (go on at h.jPc, h.jSteps), 1 (trap pending, at h.jPc) or 2 (WFI). A block whose
 * branch goes back to its own head loops inside the function (checking budget and signal
 * word at each turn), so tight loops never leave generated code. Loads and stores check the
 * software TLB inline and call the hart only on a miss (`h.jitLoad` / `h.jitStore`), after
 * which the block stops if the signal word was raised or this page was written. A store to
 * this page stops the block too, so self-modifying code is seen at the next instruction, as
 * the interpreter sees it. System, CSR and atomic instructions end their block through
 * `h.jitSlow`.
 *
 * The source depends only on the page's bytes and entries (vb and P are parameters), so the
 * same code at another address or after an invalidation compiles to the same text. V8
 * compiles the inner functions lazily: a block never entered costs only its parse.
 */
import { DecodedPage, decodeInsn, Op, RD_SINK, SLOTS_PER_PAGE } from '../decode.js';

/** Most instructions in one block (keeps the budget check's granularity small). */
export const MAX_BLOCK = 64;

/** Slot flag: a block starts here (an entry of the generated function). */
export const SLOT_HEAD = 0x80;
/** Slot mask: instructions from this slot to the end of its block, inclusive (0: not translated). */
export const SLOT_TO_END = 0x7f;

/** What `translatePage` produces. */
export interface PageTranslation {
  /** The factory's body (see the file comment): it returns the block functions by slot. */
  readonly source: string;
  /** Per halfword slot: SLOT_HEAD | instructions to the block's end (0 where nothing was translated). */
  readonly slots: Uint8Array;
  /** Blocks translated. */
  readonly blocks: number;
}

/** Reads the halfword at byte offset `off` (even, < 4096) of the page being translated. */
export type ParcelReader = (off: number) => number;

/** System, CSR and atomic ops: executed by the hart's slow path. */
export function isSlow(op: number): boolean {
  return (op >= Op.FENCE_I && op <= Op.CSRRCI) || op >= Op.LR;
}

const BRANCH_COND: Partial<Record<number, string>> = {
  [Op.BEQ]: 'x[A] === x[B]',
  [Op.BNE]: 'x[A] !== x[B]',
  [Op.BLT]: 'x[A] < x[B]',
  [Op.BGE]: 'x[A] >= x[B]',
  [Op.BLTU]: '(x[A] >>> 0) < (x[B] >>> 0)',
  [Op.BGEU]: '(x[A] >>> 0) >= (x[B] >>> 0)',
};

/** Pure ALU ops: the expression assigned to x[rd] (A = rs1, B = rs2, I = imm). */
const ALU: Partial<Record<number, string>> = {
  [Op.ADDI]: '(x[A] + I) | 0',
  [Op.SLTI]: 'x[A] < I ? 1 : 0',
  [Op.SLTIU]: '(x[A] >>> 0) < U ? 1 : 0',
  [Op.XORI]: 'x[A] ^ I',
  [Op.ORI]: 'x[A] | I',
  [Op.ANDI]: 'x[A] & I',
  [Op.SLLI]: 'x[A] << I',
  [Op.SRLI]: '(x[A] >>> I) | 0',
  [Op.SRAI]: 'x[A] >> I',
  [Op.ADD]: '(x[A] + x[B]) | 0',
  [Op.SUB]: '(x[A] - x[B]) | 0',
  [Op.SLL]: 'x[A] << (x[B] & 31)',
  [Op.SLT]: 'x[A] < x[B] ? 1 : 0',
  [Op.SLTU]: '(x[A] >>> 0) < (x[B] >>> 0) ? 1 : 0',
  [Op.XOR]: 'x[A] ^ x[B]',
  [Op.SRL]: '(x[A] >>> (x[B] & 31)) | 0',
  [Op.SRA]: 'x[A] >> (x[B] & 31)',
  [Op.OR]: 'x[A] | x[B]',
  [Op.AND]: 'x[A] & x[B]',
  [Op.MUL]: 'Math.imul(x[A], x[B])',
  [Op.MULH]: '(mulhu(x[A], x[B]) - (x[A] < 0 ? x[B] : 0) - (x[B] < 0 ? x[A] : 0)) | 0',
  [Op.MULHSU]: '(mulhu(x[A], x[B]) - (x[A] < 0 ? x[B] : 0)) | 0',
  [Op.MULHU]: 'mulhu(x[A], x[B])',
  [Op.DIV]: 'x[B] === 0 ? -1 : (x[A] === -2147483648 && x[B] === -1) ? x[A] : (x[A] / x[B]) | 0',
  [Op.DIVU]: '(x[B] >>> 0) === 0 ? -1 : ((x[A] >>> 0) / (x[B] >>> 0)) | 0',
  [Op.REM]: 'x[B] === 0 ? x[A] : (x[A] === -2147483648 && x[B] === -1) ? 0 : (x[A] % x[B]) | 0',
  [Op.REMU]: '(x[B] >>> 0) === 0 ? x[A] : ((x[A] >>> 0) % (x[B] >>> 0)) | 0',
};

/** Loads: [size, TLB-hit expression of the RAM offset `o`, sign extension]. */
const LOADS: Partial<Record<number, readonly [number, string, string]>> = {
  [Op.LB]: [1, 'u8[o]', '(v << 24) >> 24'],
  [Op.LBU]: [1, 'u8[o]', 'v'],
  [Op.LH]: [2, 'u16[o >>> 1]', '(v << 16) >> 16'],
  [Op.LHU]: [2, 'u16[o >>> 1]', 'v'],
  [Op.LW]: [4, 'i32[o >>> 2]', 'v'],
};

/** Stores: [size, TLB-hit store statement at RAM offset `o` of value `v`]. */
const STORES: Partial<Record<number, readonly [number, string]>> = {
  [Op.SB]: [1, 'u8[o] = v;'],
  [Op.SH]: [2, 'u16[o >>> 1] = v;'],
  [Op.SW]: [4, 'i32[o >>> 2] = v;'],
};

/** Decodes the instruction at page offset `off` into slot 0 of `dp`; false when it crosses the page end. */
function decodeAt(read: ParcelReader, off: number, dp: DecodedPage): boolean {
  const lo = read(off);
  if ((lo & 3) !== 3) {
    decodeInsn(lo, dp, 0);
    return true;
  }
  if (off + 2 >= 4096) return false;
  decodeInsn(lo | (read(off + 2) << 16), dp, 0);
  return true;
}

/**
 * Translates the code of one page reachable from `entries` (page offsets, even). A block runs
 * from its head to a control transfer, a system/CSR/atomic op, an illegal instruction, the
 * page end, an instruction crossing it, or MAX_BLOCK instructions (blocks may overlap).
 */
export function translatePage(read: ParcelReader, entries: readonly number[], followSuccessors = false): PageTranslation {
  const dp = new DecodedPage();
  const slots = new Uint8Array(SLOTS_PER_PAGE);
  const work: number[] = [];
  const addHead = (off: number): void => {
    if (off < 0 || off >= 4096 || (off & 1) !== 0) return;
    if ((slots[off >>> 1]! & SLOT_HEAD) === 0) {
      slots[off >>> 1] = SLOT_HEAD;
      work.push(off);
    }
  };
  for (const e of entries) addHead(e);
  const out: string[] = ['const B = new Array(2048);'];
  let blocks = 0;
  while (work.length > 0) {
    const head = work.pop()!;
    const fn = translateBlock(read, head, dp, slots, followSuccessors ? addHead : () => undefined);
    if (fn === undefined) continue;
    blocks++;
    out.push(`B[${head >>> 1}] = ${fn};`);
  }
  out.push('return B;');
  return { source: out.join('\n'), slots, blocks };
}

/**
 * The source of the block function at `head` (a function expression), or undefined when the
 * instruction there crosses the page end. Updates `slots` and reports in-page successors to
 * `addHead`.
 */
export function translateBlock(read: ParcelReader, head: number, dp: DecodedPage, slots: Uint8Array,
  addHead: (off: number) => void): string | undefined {
  {
    // A superblock: conditional branches are side exits (the not-taken path goes on), and a
    // jal to another place of this page is followed.
    const insns: { off: number; op: number; info: number; imm: number; followed: boolean }[] = [];
    const seen = new Set<number>();
    let off = head;
    let end = false;
    while (insns.length < MAX_BLOCK && off < 4096 && !seen.has(off) && decodeAt(read, off, dp)) {
      seen.add(off);
      const op = dp.op[0]!;
      const info = dp.info[0]!;
      const imm = dp.imm[0]!;
      const at = off;
      off += info >>> 24;
      if (op === Op.JAL) {
        const target = at + imm;
        addHead(target);
        if ((info & 0xff) !== RD_SINK) addHead(off); // a call returns here
        const follow = target >= 0 && target < 4096 && target !== head && !seen.has(target) && insns.length + 1 < MAX_BLOCK;
        insns.push({ off: at, op, info, imm, followed: follow });
        if (!follow) { end = true; break; }
        off = target;
        continue;
      }
      insns.push({ off: at, op, info, imm, followed: false });
      if (op === Op.JALR && (info & 0xff) !== RD_SINK) addHead(off);
      if (BRANCH_COND[op] !== undefined) { addHead(at + imm); addHead(off); continue; }
      if (op === Op.JALR || op === Op.ILLEGAL) { end = true; break; }
      if (isSlow(op)) { addHead(off); end = true; break; }
    }
    const n = insns.length;
    if (n === 0) {
      slots[head >>> 1] = 0; // an instruction crossing the page end: the interpreter runs it
      return undefined;
    }
    if (!end && off < 4096) addHead(off);
    slots[head >>> 1] = SLOT_HEAD | n;
    for (let i = 1; i < n; i++) {
      const k = insns[i]!.off >>> 1;
      if ((slots[k]! & SLOT_TO_END) === 0) slots[k] = (slots[k]! & SLOT_HEAD) | (n - i);
    }
    const body: string[] = [];
    for (let i = 0; i < n; i++) {
      const it = insns[i]!;
      body.push(it.followed ? emitFollowedJal(it.info, it.off) : emit(it.op, it.info, it.imm, it.off, n - i, head, n));
    }
    if (!end) body.push(`h.jPc = ${off < 4096 ? `vb | ${off}` : `(vb + ${off}) | 0`}; h.jSteps = s; return 0;`);
    return `function b${head}(vb, s, max, P) {
let va = 0, ti = 0, v = 0, o = 0, t = 0; const g0 = gen[P]; s += ${n};
for (;;) {
${body.join('\n')}
}
}`;
  }
}

/** A jal whose target the block goes on with: only its link. */
function emitFollowedJal(info: number, off: number): string {
  const rd = info & 0xff;
  const len = info >>> 24;
  const next = off + len < 4096 ? `(vb | ${off + len})` : `((vb + ${off + len}) | 0)`;
  return rd === RD_SINK ? '' : `x[${rd}] = ${next};`;
}

/**
 * The code of one instruction at page offset `off`; `d` = instructions from it to its block's
 * end, so the steps before it are `s - d` and after it `s - d + 1`; the block starts at
 * `head` and has `n` instructions.
 */
function emit(op: number, info: number, imm: number, off: number, d: number, head: number, n: number): string {
  const rd = info & 0xff;
  const rs1 = (info >>> 8) & 0xff;
  const rs2 = (info >>> 16) & 0xff;
  const len = info >>> 24;
  const here = `(vb | ${off})`;
  const next = off + len < 4096 ? `(vb | ${off + len})` : `((vb + ${off + len}) | 0)`;
  const before = `s - ${d}`;
  const after = d === 1 ? 's' : `s - ${d - 1}`;
  const exitNext = `{ h.jPc = ${next}; h.jSteps = ${after}; return 0; }`;
  const trap = `{ h.jPc = ${here}; h.jSteps = ${after}; return 1; }`;
  const sub = (e: string): string => e.replace(/x\[A\]/g, `x[${rs1}]`).replace(/x\[B\]/g, `x[${rs2}]`)
    .replace(/\bU\b/g, String(imm >>> 0)).replace(/\bI\b/g, String(imm));
  const alu = ALU[op];
  if (alu !== undefined) {
    if (rd === RD_SINK) return '';
    if (op === Op.ADDI && rs1 === 0) return `x[${rd}] = ${imm};`;
    return `x[${rd}] = ${sub(alu)};`;
  }
  const load = LOADS[op];
  if (load !== undefined) {
    const [size, hit, ext] = load;
    const align = size === 1 ? '' : ` && (va & ${size - 1}) === 0`;
    return `va = (x[${rs1}] + ${imm}) | 0; ti = (va >>> 12) & 255;
if (rTag[ti] === (va >>> 12)${align}) { o = rOff[ti] + (va & 4095); v = ${hit}; }
else { v = h.jitLoad(va, ${size}, ${before}); if (h.jTrap !== 0) ${trap} if (sig[0] !== 0 || gen[P] !== g0) { x[${rd}] = ${ext}; h.jPc = ${next}; h.jSteps = ${after}; return 0; } }
x[${rd}] = ${ext};`;
  }
  const store = STORES[op];
  if (store !== undefined) {
    const [size, put] = store;
    const align = size === 1 ? '' : ` && (va & ${size - 1}) === 0`;
    return `va = (x[${rs1}] + ${imm}) | 0; ti = (va >>> 12) & 255; v = x[${rs2}];
if (wTag[ti] === (va >>> 12)${align}) { o = wOff[ti] + (va & 4095); ${put} t = o >>> 12; gen[t] = (gen[t] + 1) | 0; dirty[t] = 1; if (t === P) ${exitNext} }
else { h.jitStore(va, ${size}, v, ${before}); if (h.jTrap !== 0) ${trap} if (sig[0] !== 0 || gen[P] !== g0) ${exitNext} }`;
  }
  const cond = BRANCH_COND[op];
  if (cond !== undefined) {
    const target = off + imm;
    const done = d === 1 ? '' : `s -= ${d - 1}; `;
    if (target === head) {
      // A loop on itself: go round inside the function while the budget and signals allow.
      return `if (${sub(cond)}) { ${done}if (s + ${n} > max || sig[0] !== 0) { h.jPc = vb | ${head}; h.jSteps = s; return 0; } s += ${n}; continue; }`;
    }
    return `if (${sub(cond)}) { h.jPc = (vb + ${target}) | 0; h.jSteps = ${after}; return 0; }`;
  }
  switch (op) {
    case Op.LUI:
      return rd === RD_SINK ? '' : `x[${rd}] = ${imm};`;
    case Op.AUIPC:
      return rd === RD_SINK ? '' : `x[${rd}] = (${here} + ${imm}) | 0;`;
    case Op.FENCE:
      return '';
    case Op.JAL: {
      const link = rd === RD_SINK ? '' : `x[${rd}] = ${next}; `;
      if (off + imm === head && rd === RD_SINK) {
        return `if (s + ${n} > max || sig[0] !== 0) { h.jPc = vb | ${head}; h.jSteps = s; return 0; } s += ${n}; continue;`;
      }
      return `${link}h.jPc = (vb + ${off + imm}) | 0; h.jSteps = s; return 0;`;
    }
    case Op.JALR: {
      const link = rd === RD_SINK ? '' : `x[${rd}] = ${next}; `;
      return `t = ((x[${rs1}] + ${imm}) | 0) & -2; ${link}h.jPc = t; h.jSteps = s; return 0;`;
    }
    case Op.ILLEGAL:
      return `return h.jitIllegal(${here}, ${imm}, ${before});`;
    default:
      // System, CSR and atomic ops: the hart's slow path ends the block.
      return `return h.jitSlow(${op}, ${rd}, ${rs1}, ${rs2}, ${imm}, ${here}, ${next}, ${before});`;
  }
}
