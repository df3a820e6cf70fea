/**
 * The board's own machine state, one arena field `board.clock` of 8 words: the instructions
 * executed by all harts (2 words), a spare pair, the RTC's start date in ns (2 words, signed)
 * and the round-robin scheduler's position (the hart whose turn it is, the steps it has used).
 */
import type { StateArena } from '../memory/state-arena.js';

const TWO32 = 0x1_0000_0000;
const W_TOTAL_STEPS = 0;
const W_RTC_START = 4;
const W_RR_HART = 6;
const W_RR_USED = 7;
const WORDS = 8;

/** Typed access to the `board.clock` arena words. */
export class BoardWords {
  private readonly w: number;

  constructor(private readonly arena: StateArena) {
    this.w = arena.allocate('board', 'clock', WORDS);
  }

  /** Zeroes the words (a new machine; an attaching thread restores them afterwards). */
  clear(): void {
    this.arena.u32.fill(0, this.w, this.w + WORDS);
  }

  /** Instructions executed so far by all harts (exact up to 2^53). */
  get totalSteps(): number {
    const u = this.arena.u32;
    return u[this.w + W_TOTAL_STEPS + 1]! * TWO32 + u[this.w + W_TOTAL_STEPS]!;
  }

  set totalSteps(v: number) {
    const u = this.arena.u32;
    u[this.w + W_TOTAL_STEPS] = v % TWO32 >>> 0;
    u[this.w + W_TOTAL_STEPS + 1] = Math.floor(v / TWO32) >>> 0;
  }

  /** The RTC's date at power-on, ns since the Unix epoch (signed 64-bit). */
  get rtcStartNs(): bigint {
    return BigInt.asIntN(64, this.arena.readU64(this.w + W_RTC_START));
  }

  set rtcStartNs(v: bigint) {
    this.arena.writeU64(this.w + W_RTC_START, BigInt.asUintN(64, v));
  }

  /** The hart whose turn it is. */
  get rrHart(): number {
    return this.arena.u32[this.w + W_RR_HART]!;
  }

  /** Steps that hart has used of its quantum. */
  get rrUsed(): number {
    return this.arena.u32[this.w + W_RR_USED]!;
  }

  /** Sets the round-robin position. */
  setRoundRobin(hart: number, used: number): void {
    this.arena.u32[this.w + W_RR_HART] = hart;
    this.arena.u32[this.w + W_RR_USED] = used;
  }
}
