/**
 * The translation cache of one hart: per physical RAM page, how hot the page is, the entry
 * offsets seen, and its compiled function once hot. A compiled page is valid for the RAM page
 * generation it was translated from (the dispatcher compares, as the decode cache does), is
 * dropped by fence.i and state replacement, and the cache holds at most MAX_PAGES of them
 * (first in, first out). Compiled functions are also kept by source text, so a page whose
 * code comes back unchanged (after fence.i, or the same code at another physical page) is
 * not compiled by V8 again.
 *
 * Start-up: nothing is translated before a page has been entered HOT times, so the first
 * instructions run on the interpreter at once.
 */
import { DecodedPage } from '../decode.js';
import { translateBlock, translatePage, type ParcelReader } from './codegen.js';

/** A generated block function: see codegen.ts. Returns 0 (go on at h.jPc), 1 (trap), 2 (wfi). */
export type BlockFn = (vb: number, s: number, max: number, P: number) => number;
/** A translated page's block functions, by halfword slot of their head. */
export type PageBlocks = (BlockFn | undefined)[];

/** What generated code may touch; bound once per hart. */
export interface TranslatorEnv {
  readonly x: Int32Array;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly gen: Int32Array;
  readonly dirty: Uint8Array;
  readonly rTag: Int32Array;
  readonly rOff: Int32Array;
  readonly wTag: Int32Array;
  readonly wOff: Int32Array;
  readonly sig: Int32Array;
  /** The hart's slow paths and exit registers (see TranslatorHost). */
  readonly h: TranslatorHost;
  readonly mulhu: (a: number, b: number) => number;
}

/** The hart as generated code sees it: its slow paths and the exit registers. */
export interface TranslatorHost {
  /** Where to go on: set by every exit of generated code. */
  jPc: number;
  /** Steps executed in the current run, set by every exit. */
  jSteps: number;
  /** 1 when the last jitLoad/jitStore faulted (the fault is pending in the hart). */
  jTrap: number;
  jitLoad(va: number, size: 1 | 2 | 4, steps: number): number;
  jitStore(va: number, size: 1 | 2 | 4, value: number, steps: number): void;
  jitSlow(op: number, rd: number, rs1: number, rs2: number, imm: number, pc: number, npc: number, steps: number): number;
  jitIllegal(pc: number, insn: number, steps: number): number;
}

/**
 * Entries of a page before it is translated. Translating a page costs ~0.75 ms (codegen and
 * `new Function`, measured on the diskbench run), the time of ~50k interpreted instructions,
 * and most kernel pages are warm, not hot: at 64 the Linux boot translated ~140 pages and ran
 * 12% slower than the interpreter; at 4096 only pages that repay their compilation are translated.
 */
export const HOT = 4096;
/** Compiled pages kept at most. */
export const MAX_PAGES = 2048;
/** Compiled functions kept by source text at most. */
const MAX_SOURCES = 4096;
/** Entries at one non-head of a compiled page before a block is translated there. */
const RETRANSLATE_MISSES = 256;

/** One translated page. */
export class CompiledPage {
  /** Entries seen at non-heads since translation (page offsets). */
  readonly extra: number[] = [];
  /** How often each of `extra` was entered. */
  readonly missCounts: number[] = [];
  constructor(
    readonly blocks: PageBlocks,
    /** Per halfword slot: SLOT_HEAD | instructions to the end of the block (see codegen.ts). */
    readonly slots: Uint8Array,
    /** RAM page generation translated. */
    readonly gen: number,
  ) {}
}

/** Per page bookkeeping, kept across translations. */
class PageProfile {
  heat = 0;
  translations = 0;
  readonly entries: number[] = [];
}

/** See the file comment. */
export class TranslationCache {
  /** Visits before a page is translated (HOT; benchmarks vary it). */
  static hot = HOT;
  /** Entries at one non-head of a translated page before a block is translated there (benchmarks vary it). */
  static missesToTranslate = RETRANSLATE_MISSES;
  /** Compiled page per RAM page index (read directly by the dispatcher). */
  readonly compiled: (CompiledPage | undefined)[];
  private readonly profiles: (PageProfile | undefined)[];
  private readonly fifo = new Int32Array(MAX_PAGES);
  private fifoHead = 0;
  private fifoCount = 0;
  private readonly sources = new Map<string, unknown>();
  private readonly dp = new DecodedPage();
  private readonly argNames: string[];
  private readonly argValues: unknown[];
  /** Reads the page being translated (RAM offset readBase). */
  private readBase = 0;
  private readonly read: ParcelReader = (off) => this.env.u16[(this.readBase + off) >>> 1]!;
  /** Pages translated and V8 compilations, for benchmarks and tests. */
  translated = 0;
  compiledByV8 = 0;

  constructor(pages: number, private readonly env: TranslatorEnv) {
    this.compiled = new Array<CompiledPage | undefined>(pages).fill(undefined);
    this.profiles = new Array<PageProfile | undefined>(pages).fill(undefined);
    this.argNames = Object.keys(env);
    this.argValues = Object.values(env);
  }

  /** Drops every compiled page (fence.i, reset, state replaced); sources stay (they are pure). */
  clear(): void {
    this.compiled.fill(undefined);
    this.fifoCount = 0;
  }

  /**
   * The dispatcher entered `page` at offset `off` and found no valid translation: counts it
   * and, once the page is hot, translates it. Returns the new translation or undefined.
   * `isEntry`: the pc was reached by a jump, a trap or a page exit (not by the end of an
   * interpreter chunk, which stops anywhere): it is recorded as a block head.
   */
  visit(page: number, off: number, isEntry: boolean): CompiledPage | undefined {
    let p = this.profiles[page];
    if (p === undefined) {
      p = new PageProfile();
      this.profiles[page] = p;
    }
    if (isEntry && p.entries.length < 64 && !p.entries.includes(off)) p.entries.push(off);
    if (++p.heat < TranslationCache.hot << Math.min(p.translations, 6)) return undefined;
    p.heat = 0;
    if (!p.entries.includes(off)) p.entries.push(off);
    return this.translate(page, p.entries);
  }

  /**
   * The dispatcher entered a compiled page at a non-head (after a jump or trap, not at the end
   * of an interpreter chunk): the second time at the same offset, translates a block there.
   */
  miss(page: number, cp: CompiledPage, off: number): void {
    const i = cp.extra.indexOf(off);
    if (i < 0) {
      if (cp.extra.length < 64) {
        cp.extra.push(off);
        cp.missCounts.push(1);
      }
      return;
    }
    if (++cp.missCounts[i]! < TranslationCache.missesToTranslate) return;
    cp.missCounts[i] = 0;
    this.readBase = page * 4096;
    const src = translateBlock(this.read, off, this.dp, cp.slots, () => undefined);
    if (src === undefined) return;
    cp.blocks[off >>> 1] = this.compile(`return ${src};`) as unknown as BlockFn;
    this.translated++;
  }

  /** A compiled page's RAM page was written: drop it (the profile stays). */
  invalidate(page: number): void {
    this.compiled[page] = undefined;
  }

  private translate(page: number, entries: readonly number[]): CompiledPage {
    const p = this.profiles[page]!;
    p.translations++;
    const gen = this.env.gen[page]!;
    this.readBase = page * 4096;
    const t = translatePage(this.read, entries);
    const blocks = (this.compile(t.source) as PageBlocks).slice();
    this.translated++;
    const cp = new CompiledPage(blocks, t.slots, gen);
    this.install(page, cp);
    return cp;
  }

  /**
   * Runs the factory body `source` (generated from decoded instructions only: numbers and
   * fixed text) with the environment bound; the result is kept by source text.
   */
  private compile(source: string): unknown {
    let r = this.sources.get(source);
    if (r === undefined) {
      if (this.sources.size >= MAX_SOURCES) this.sources.clear();
      const factory = new Function(...this.argNames, `'use strict';\n${source}`) as (...args: unknown[]) => unknown;
      r = factory(...this.argValues);
      this.sources.set(source, r);
      this.compiledByV8++;
    }
    return r;
  }

  private install(page: number, cp: CompiledPage): void {
    if (this.compiled[page] === undefined) {
      if (this.fifoCount === MAX_PAGES) {
        const old = this.fifo[this.fifoHead]!;
        this.compiled[old] = undefined;
        this.fifoCount--;
        this.fifoHead = (this.fifoHead + 1) % MAX_PAGES;
      }
      this.fifo[(this.fifoHead + this.fifoCount) % MAX_PAGES] = page;
      this.fifoCount++;
    }
    this.compiled[page] = cp;
  }
}
