/**
 * The one walk of machine state. Everything a machine is (hart registers and CSRs, device
 * registers, the clocks, the board's counters: the state arena's named sections; and RAM, page
 * by page with its write generation) is visited here, in a fixed order: arena sections in
 * allocation order, then RAM pages in address order. The state hash (state-hash.ts), the
 * record/replay digest and save/restore (below; snapshots and migration build on it) all use
 * this walk, so they cover the same state by construction.
 *
 * Host-derived sections (StateField.host: a hart's signal word, the clocks' offsets against the
 * host clock, the RTC's host origin) are not state of the guest: the walk never exposes their
 * words. A visitor may hear of them (`skipped`) to keep a layout stable; after a restore, each
 * component re-derives them (Hart.stateReplaced, the clocks continuing from the host's time).
 */
import { PAGE_SHIFT, PAGE_SIZE, type Ram } from './ram.js';
import type { StateArena, StateField } from './state-arena.js';

/** 32-bit words in a RAM page. */
export const PAGE_WORDS = PAGE_SIZE >>> 2;

/** What the walk calls, in order. */
export interface StateVisitor {
  /** One guest-state section of the arena; `words` is a live view of its words. */
  section(field: StateField, words: Uint32Array): void;
  /** One host-derived section the walk leaves out (only its place and size, never its words). */
  skipped?(field: StateField): void;
  /**
   * One RAM page: its index, its write generation (0: never written, so all zeros) and where
   * its words are: `ram[first .. first + PAGE_WORDS)` (a view of all RAM, so the walk allocates
   * nothing per page).
   */
  page?(index: number, generation: number, ram: Uint32Array, first: number): void;
}

/** Walks the arena's sections, then RAM's pages (see the file comment). */
export function walkMachineState(arena: StateArena, ram: Ram, visitor: StateVisitor): void {
  for (const field of arena.layout()) {
    if (field.host) visitor.skipped?.(field);
    else visitor.section(field, arena.u32.subarray(field.word, field.word + field.words));
  }
  if (visitor.page === undefined) return;
  const pages = ram.size >>> PAGE_SHIFT;
  const gen = ram.pageGeneration;
  for (let p = 0; p < pages; p++) visitor.page(p, gen[p]!, ram.u32, p * PAGE_WORDS);
}

/** One saved arena section. */
export interface SavedSection {
  readonly owner: string;
  readonly name: string;
  readonly words: Uint32Array;
}

/** One saved RAM page (only pages ever written are saved: the others are zeros). */
export interface SavedPage {
  readonly index: number;
  readonly words: Uint32Array;
}

/** A machine's state as plain data: the walk's guest sections and written RAM pages, copied. */
export interface MachineStateImage {
  readonly ramBase: number;
  readonly ramSize: number;
  readonly sections: readonly SavedSection[];
  readonly pages: readonly SavedPage[];
}

/** A state image that does not fit the machine it is restored into. */
export class MachineStateError extends Error {
  override name = 'MachineStateError';
}

/** Copies the machine's state (call with the machine quiescent: under the locks). */
export function saveMachineState(arena: StateArena, ram: Ram): MachineStateImage {
  const sections: SavedSection[] = [];
  const pages: SavedPage[] = [];
  walkMachineState(arena, ram, {
    section: (f, words) => sections.push({ owner: f.owner, name: f.name, words: words.slice() }),
    page: (index, generation, all, first) => {
      if (generation !== 0) pages.push({ index, words: all.slice(first, first + PAGE_WORDS) });
    },
  });
  return { ramBase: ram.base, ramSize: ram.size, sections, pages };
}

/**
 * Writes `image` back into a machine of the same configuration: every guest section, and RAM
 * (pages the image does not hold become zeros). Every page whose words change gets a new write
 * generation, so caches keyed by generation (decode cache, digest page hashes) see the change.
 * Host-derived sections are left as they are. The caller then tells the components that derive
 * caches from the arena (harts: stateReplaced). Throws MachineStateError, naming the section, when
 * the layout differs; nothing is written then.
 */
export function restoreMachineState(arena: StateArena, ram: Ram, image: MachineStateImage): void {
  if (image.ramBase !== ram.base || image.ramSize !== ram.size) {
    throw new MachineStateError(`state image has RAM 0x${image.ramBase.toString(16)}+${image.ramSize}, this machine 0x${ram.base.toString(16)}+${ram.size}`);
  }
  const targets: Uint32Array[] = [];
  let i = 0;
  walkMachineState(arena, ram, {
    section: (f, words) => {
      const saved = image.sections[i++];
      const where = `section ${i - 1} (${f.owner}.${f.name}, ${f.words} words)`;
      if (saved === undefined) throw new MachineStateError(`state image ends before ${where}`);
      if (saved.owner !== f.owner || saved.name !== f.name || saved.words.length !== f.words) {
        throw new MachineStateError(`state image has ${saved.owner}.${saved.name} (${saved.words.length} words) where this machine has ${where}`);
      }
      targets.push(words);
    },
  });
  if (i !== image.sections.length) throw new MachineStateError(`state image has ${image.sections.length} sections, this machine ${i}`);
  const pages = ram.size >>> PAGE_SHIFT;
  image.pages.forEach((pg, k) => {
    const after = k === 0 ? -1 : image.pages[k - 1]!.index;
    if (!(pg.index > after && pg.index < pages) || pg.words.length !== PAGE_WORDS) {
      throw new MachineStateError(`state image RAM page ${k} (index ${pg.index}, ${pg.words.length} words): out of order, beyond the ${pages} pages or not ${PAGE_WORDS} words`);
    }
  });
  image.sections.forEach((s, k) => targets[k]!.set(s.words));
  let next = 0;
  for (let p = 0; p < pages; p++) {
    const saved = image.pages[next]?.index === p ? image.pages[next++]!.words : undefined;
    const at = p * PAGE_WORDS;
    if (saved === undefined && ram.pageGeneration[p] === 0) continue; // zeros stay zeros
    const page = ram.u32.subarray(at, at + PAGE_WORDS);
    if (saved === undefined) page.fill(0);
    else page.set(saved);
    ram.markWritten(p << PAGE_SHIFT);
  }
}
