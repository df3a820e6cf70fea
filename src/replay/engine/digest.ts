/**
 * State digests for record/replay checkpoints: per hart its pc, a hash of its state and its
 * registers; a hash of every device's state; a hash of RAM. RAM is hashed page by page and a
 * page's hash is reused while its write generation is unchanged, so a digest costs time in
 * proportion to the pages written since the last one. A page never written (generation 0: RAM
 * starts zeroed and every write bumps the generation) is hashed as zeros without reading it.
 * It reads the machine through the state walk (src/memory/state-walk.ts), as the state hash and
 * save/restore do; host-derived sections (see StateField.host, e.g. a hart's signal word) count as
 * zeros of their size, which keeps digests equal to those of logs written before the walk.
 */
import type { HartApi } from '../../cpu/hart-api.js';
import type { Ram } from '../../memory/ram.js';
import { PAGE_SIZE } from '../../memory/ram.js';
import type { StateArena, StateField } from '../../memory/state-arena.js';
import { hashWords, hashWordsHalves } from '../../memory/state-hash.js';
import { walkMachineState } from '../../memory/state-walk.js';
import type { StateDigest } from '../sources/digests.js';

export type { StateDigest };

/** Computes digests of one machine (keep one per machine: it caches page hashes). */
export class StateDigester {
  private readonly pageHash: Uint32Array;
  private readonly pageGen: Int32Array;
  private readonly pageKnown: Uint8Array;

  constructor(private readonly arena: StateArena, private readonly ram: Ram, private readonly harts: readonly HartApi[]) {
    const pages = ram.size / PAGE_SIZE;
    this.pageHash = new Uint32Array(pages * 2);
    this.pageGen = new Int32Array(pages);
    this.pageKnown = new Uint8Array(pages);
  }

  /** The digest of the machine now (call with the machine quiescent: under the locks). */
  digest(): StateDigest {
    // Sections by owner, in walk order: harts' (hartN) apart, every other owner's together.
    const hartSections = new Map<string, Uint32Array[]>();
    const deviceSections: Uint32Array[] = [];
    const add = (f: StateField, words: Uint32Array): void => {
      if (!/^hart\d+$/.test(f.owner)) {
        deviceSections.push(words);
        return;
      }
      const list = hartSections.get(f.owner);
      if (list === undefined) hartSections.set(f.owner, [words]);
      else list.push(words);
    };
    let changed = 0;
    const perPage = PAGE_SIZE >>> 2;
    walkMachineState(this.arena, this.ram, {
      section: add,
      skipped: (f) => add(f, new Uint32Array(f.words)),
      page: (p, g, ram, first) => {
        if (this.pageKnown[p] === 1 && this.pageGen[p] === g) return;
        // RAM starts zeroed and every write bumps its page's generation, so a page still at
        // generation 0 holds zeros: most of RAM at the first digest (hashing all 128 MiB took
        // 200 ms, a tenth of a Linux boot).
        const [hi, lo] = this.pageKnown[p] === 0 && g === 0 ? zeroPageHash() : hashWordsHalves(ram.subarray(first, first + perPage));
        this.pageHash[2 * p] = hi;
        this.pageHash[2 * p + 1] = lo;
        this.pageGen[p] = g;
        this.pageKnown[p] = 1;
        changed++;
      },
    });
    const harts = this.harts.map((h) => {
      const regs: number[] = [];
      for (let i = 1; i < 32; i++) regs.push(h.getReg(i) >>> 0);
      return { pc: h.getPc() >>> 0, regsHash: hashWords(concat(hartSections.get(`hart${h.hartId}`) ?? [])), regs };
    });
    const devicesHash = hashWords(concat(deviceSections));
    return { harts, devicesHash, ramHash: hashWords(this.pageHash), ramPages: changed };
  }
}

/** The words of `parts`, one after the other. */
function concat(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

let zeroHash: readonly [number, number] | undefined;

/** The hash halves of a page of zeros. */
function zeroPageHash(): readonly [number, number] {
  zeroHash ??= hashWordsHalves(new Uint32Array(PAGE_SIZE >>> 2));
  return zeroHash;
}
