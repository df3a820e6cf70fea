/**
 * A fast, deterministic, non-cryptographic 64-bit hash of all machine state: what the state walk
 * (state-walk.ts) visits, the arena's guest sections and every word of RAM. Two 32-bit lanes with different multipliers (a
 * murmur3-style mix per word) are combined and finalised; the result is 16 hex digits.
 * It detects any single-word change; it is not meant to resist deliberate collisions.
 */
import type { Ram } from './ram.js';
import type { StateArena } from './state-arena.js';
import { PAGE_WORDS, walkMachineState } from './state-walk.js';

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

/** Running state of the two lanes. */
interface Lanes {
  a: number;
  b: number;
}

/** Mixes words[start .. end) into the lanes. */
function mixWords(lanes: Lanes, words: Uint32Array, start: number, end: number): void {
  let a = lanes.a;
  let b = lanes.b;
  for (let i = start; i < end; i++) {
    const w = words[i]!;
    let k = Math.imul(w, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let m = Math.imul(w ^ (w >>> 16), C3);
    m = (m << 17) | (m >>> 15);
    b = (Math.imul(b ^ m, C4) + i) | 0;
    b = (b << 11) | (b >>> 21);
  }
  lanes.a = a;
  lanes.b = b;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, C3);
  h ^= h >>> 13;
  h = Math.imul(h, C4);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEED_A = 0x9747b28c;
const SEED_B = 0x2545f491;

/** The two finalised 32-bit halves of a hash, high first. */
function finish(lanes: Lanes): [number, number] {
  const hi = fmix((lanes.a + Math.imul(lanes.b, 3)) | 0);
  const lo = fmix((lanes.b ^ Math.imul(lanes.a, 0x165667b1)) | 0);
  return [hi, lo];
}

function hex([hi, lo]: readonly [number, number]): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/** Mixes the first `count` words and their count into fresh lanes. */
function lanesOfWords(words: Uint32Array, count: number): Lanes {
  const lanes: Lanes = { a: SEED_A, b: SEED_B };
  mixWords(lanes, words, 0, count);
  lanes.a ^= count;
  lanes.b ^= Math.imul(count, 0x27d4eb2d);
  return lanes;
}

/**
 * Hashes the machine's state as the state walk visits it: each guest section of `arena` (its
 * size, then its words), then all of `ram`; returns 16 lowercase hex digits.
 */
export function hashMachineState(arena: StateArena, ram: Ram): string {
  const lanes: Lanes = { a: SEED_A, b: SEED_B };
  let sections = 0;
  walkMachineState(arena, ram, {
    section: (_f, words) => {
      lanes.a ^= words.length;
      mixWords(lanes, words, 0, words.length);
      sections++;
    },
    page: (_index, _generation, all, first) => mixWords(lanes, all, first, first + PAGE_WORDS),
  });
  lanes.a ^= sections;
  lanes.b ^= Math.imul(ram.size, 0x27d4eb2d) ^ ram.base;
  return hex(finish(lanes));
}

/**
 * Hashes the first `count` words of `words` (default all) with the same mix as
 * hashMachineState; returns 16 lowercase hex digits. For digests of parts of the state.
 */
export function hashWords(words: Uint32Array, count = words.length): string {
  return hex(finish(lanesOfWords(words, count)));
}

/** hashWords as its two 32-bit halves (high, low), for callers that keep hashes in a table. */
export function hashWordsHalves(words: Uint32Array, count = words.length): [number, number] {
  return finish(lanesOfWords(words, count));
}
