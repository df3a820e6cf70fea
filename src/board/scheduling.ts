/**
 * How the board shares time: harts run round robin in quanta (as QEMU's single-threaded TCG,
 * so `-smp N` is deterministic), and when every hart waits for an interrupt the board idles:
 * with `-icount sleep=off` the virtual clock jumps to the next deadline, otherwise the host
 * sleeps until it (with icount, virtual time follows host time meanwhile: an idle warp).
 */
import type { HostTime } from '../main-loop/clock.js';
import type { Clocks } from '../main-loop/clocks.js';
import { alignSleepNs, type IcountConfig } from '../main-loop/icount-config.js';
import type { BoardWords } from './board-words.js';
import type { SliceResult } from './machine-api.js';

/** Steps a hart runs before the next hart's turn, unless `config.quantum` says otherwise. */
export const DEFAULT_QUANTUM = 10_000;

/** The round-robin order of the harts; its position is machine state (BoardWords). */
export class RoundRobin {
  /**
   * @param runnable whether hart `i` can run now (started, and not waiting in WFI without an
   *   enabled pending interrupt).
   */
  constructor(
    private readonly words: BoardWords,
    private readonly harts: number,
    readonly quantum: number,
    private readonly runnable: (i: number) => boolean,
  ) {}

  /** Steps left of the current hart's quantum. */
  get left(): number {
    return this.quantum - this.words.rrUsed;
  }

  /** The hart whose turn it is (rotating past harts that cannot run), or -1 if none can. */
  pick(): number {
    const cur = this.words.rrHart;
    for (let k = 0; k < this.harts; k++) {
      const i = (cur + k) % this.harts;
      if (this.runnable(i)) {
        if (k !== 0) this.words.setRoundRobin(i, 0);
        return i;
      }
    }
    return -1;
  }

  /** Hart `i` ran `ran` steps: it keeps its turn until its quantum is used or it cannot run. */
  account(i: number, ran: number): void {
    const used = this.words.rrUsed + ran;
    if (ran === 0 || used >= this.quantum || !this.runnable(i)) this.words.setRoundRobin((i + 1) % this.harts, 0);
    else this.words.setRoundRobin(i, used);
  }

  /** Power-on: hart 0's turn. */
  reset(): void {
    this.words.setRoundRobin(0, 0);
  }
}

/** What the idle decision reads. */
export interface IdleContext {
  readonly clocks: Clocks;
  readonly icount: IcountConfig | undefined;
  readonly hostTime: HostTime;
  /**
   * Whether idle time (icount sleep=on) follows host time; false when it comes from elsewhere
   * (a replay applies the log's warps) and the board only waits (MachineRrHooks.idleFollowsHost).
   */
  readonly idleFollowsHost: boolean;
}

/**
 * Every hart waits for an interrupt. icount with sleep=off: warp the virtual clock to the next
 * virtual deadline and go on (undefined). Otherwise idle until the deadline in host time; with
 * icount and sleep=on the virtual clock follows host time meanwhile (an idle warp, ended by the
 * next runSlice). `nextVirtualNs` is the next device deadline on the virtual clock,
 * `nextHostNs` one in host monotonic ns (Infinity: none).
 */
export function idle(ctx: IdleContext, nextVirtualNs: number, nextHostNs: number): SliceResult | undefined {
  const { clocks, icount } = ctx;
  const now = clocks.now('virtual');
  if (icount !== undefined && !icount.sleep) {
    if (nextVirtualNs === Infinity) return { kind: 'idle', wakeAtHostNs: nextHostNs };
    // Jump to the deadline; if a device reports one that is already due but did not fire,
    // still move time forward so the machine always makes progress.
    clocks.warp(Math.max(nextVirtualNs - now, 2 ** clocks.shift));
    return undefined;
  }
  if (icount !== undefined && !ctx.idleFollowsHost) return { kind: 'idle', wakeAtHostNs: Infinity };
  if (icount !== undefined) clocks.startIdleWarp();
  const hostNow = ctx.hostTime.monotonicNs();
  return { kind: 'idle', wakeAtHostNs: Math.min(nextVirtualNs === Infinity ? Infinity : hostNow + Math.max(0, nextVirtualNs - now), nextHostNs) };
}

/** align=on: when the guest is ahead of host time by more than QEMU's margin, sleep it off. */
export function alignSleep(clocks: Clocks, hostTime: HostTime): SliceResult | undefined {
  const ahead = alignSleepNs(clocks.alignAheadNs());
  return ahead > 0 ? { kind: 'idle', wakeAtHostNs: hostTime.monotonicNs() + ahead } : undefined;
}
