/**
 * Per-hart power state (SBI HSM), kept in the state arena so it is hashed and snapshotted.
 * With `-bios none` or a firmware file every hart is STARTED at reset; with the built-in SBI
 * only the boot hart is, the others wait STOPPED for `hart_start`.
 */
import type { StateArena } from '../../memory/state-arena.js';
import { HSM_STARTED } from './constants.js';

/** The HSM state words of all harts. */
export class HartStates {
  private readonly u32: Uint32Array;
  private readonly base: number;
  readonly count: number;

  constructor(arena: StateArena, count: number) {
    this.u32 = arena.u32;
    this.count = count;
    // Per hart: state, suspend type, resume address, opaque.
    this.base = arena.allocate('hsm', 'harts', count * 4);
  }

  /** The HSM state (HSM_STARTED, HSM_STOPPED, ...) of hart `id`. */
  state(id: number): number {
    return this.u32[this.base + id * 4]!;
  }

  setState(id: number, state: number): void {
    this.u32[this.base + id * 4] = state;
  }

  /** Records a suspend request: type, resume address and opaque (for non-retentive resume). */
  setSuspend(id: number, type: number, resumeAddr: number, opaque: number): void {
    const w = this.base + id * 4;
    this.u32[w + 1] = type >>> 0;
    this.u32[w + 2] = resumeAddr >>> 0;
    this.u32[w + 3] = opaque >>> 0;
  }

  suspendType(id: number): number {
    return this.u32[this.base + id * 4 + 1]!;
  }

  resumeAddr(id: number): number {
    return this.u32[this.base + id * 4 + 2]!;
  }

  opaque(id: number): number {
    return this.u32[this.base + id * 4 + 3]!;
  }

  /** Sets every hart to `state`, hart 0 to `bootState`. */
  resetAll(bootState: number, othersState: number): void {
    for (let i = 0; i < this.count; i++) {
      this.setState(i, i === 0 ? bootState : othersState);
      this.setSuspend(i, 0, 0, 0);
    }
  }

  /** True when hart `id` is powered and not suspended. */
  isStarted(id: number): boolean {
    return this.state(id) === HSM_STARTED;
  }
}
