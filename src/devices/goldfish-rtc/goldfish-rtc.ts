/**
 * Goldfish RTC as on QEMU's `virt` board (hw/rtc/goldfish_rtc.c): a 64-bit nanosecond counter
 * (wall-clock time plus an offset the guest sets by writing TIME) and one alarm.
 *
 * State in the arena (owner `rtc`): `offset` (signed 64-bit ns added to the clock), `alarmNext`
 * (64-bit, in counter ns), `regs` (timeHigh latch, irqEnabled, irqPending, alarmRunning, irq level).
 *
 * Like QEMU's `tick_offset`, the wall-clock epoch lives in `offset` (exact, 64-bit), set at
 * reset, and the clock the counter runs on stays small (ns since power-on). A clock that
 * carried the epoch itself would be a JS number near 1.7e18 with ~256 ns of rounding, and the
 * board's deadline arithmetic and the device's own comparison could then disagree about
 * whether an alarm is due (which left a guest waiting forever).
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { StateArena } from '../../memory/state-arena.js';
import type { IrqLine } from '../irq.js';

/** Register offsets. */
export const RTC_TIME_LOW = 0x00;
export const RTC_TIME_HIGH = 0x04;
export const RTC_ALARM_LOW = 0x08;
export const RTC_ALARM_HIGH = 0x0c;
export const RTC_IRQ_ENABLED = 0x10;
export const RTC_CLEAR_ALARM = 0x14;
export const RTC_ALARM_STATUS = 0x18;
export const RTC_CLEAR_INTERRUPT = 0x1c;
/** Size of the RTC's range on `virt`. */
export const GOLDFISH_RTC_SIZE = 0x1000;

const R_TIME_HIGH = 0;
const R_IRQ_ENABLED = 1;
const R_IRQ_PENDING = 2;
const R_ALARM_RUNNING = 3;
const R_IRQ_LEVEL = 4;
const REG_WORDS = 5;

const MASK32 = 0xffffffffn;

/** The Goldfish real-time clock. */
export class GoldfishRtc implements MmioDevice {
  private readonly arena: StateArena;
  private readonly u32: Uint32Array;
  private readonly offsetW: number;
  private readonly alarmW: number;
  private readonly regs: number;

  /**
   * @param arena state arena (owner `rtc`).
   * @param clock the time the counter runs on, in ns (the board passes ns since power-on; the
   *   epoch goes into the offset through `reset(tickOffsetNs)`).
   * @param irq the interrupt line into the PLIC (source 11 on `virt`).
   */
  constructor(arena: StateArena, private readonly clock: { realtimeNs(): number }, private readonly irq: IrqLine) {
    this.arena = arena;
    this.u32 = arena.u32;
    this.offsetW = arena.allocate('rtc', 'offset', 2);
    this.alarmW = arena.allocate('rtc', 'alarmNext', 2);
    this.regs = arena.allocate('rtc', 'regs', REG_WORDS);
    this.reset();
  }

  /**
   * Reset: offset = `tickOffsetNs` (the counter shows clock + offset: the board passes the
   * wall-clock time at power-on), alarm off, interrupt lowered.
   */
  reset(tickOffsetNs = 0n): void {
    this.arena.writeU64(this.offsetW, BigInt.asUintN(64, tickOffsetNs));
    this.arena.writeU64(this.alarmW, 0n);
    for (let i = 0; i < REG_WORDS; i++) this.u32[this.regs + i] = 0;
    this.irq.set(false);
  }

  private clockNs(): bigint {
    const t = this.clock.realtimeNs();
    return BigInt(Math.max(0, Math.floor(t)));
  }

  private offset(): bigint {
    return BigInt.asIntN(64, this.arena.readU64(this.offsetW));
  }

  private setOffset(v: bigint): void {
    this.arena.writeU64(this.offsetW, BigInt.asUintN(64, v));
  }

  /** The counter the guest reads: clock plus offset, as an unsigned 64-bit value. */
  count(): bigint {
    return BigInt.asUintN(64, this.clockNs() + this.offset());
  }

  private alarmNext(): bigint {
    return this.arena.readU64(this.alarmW);
  }

  private updateIrq(): void {
    const level = (this.u32[this.regs + R_IRQ_PENDING]! & this.u32[this.regs + R_IRQ_ENABLED]!) !== 0;
    this.u32[this.regs + R_IRQ_LEVEL] = level ? 1 : 0;
    this.irq.set(level);
  }

  private raiseAlarm(): void {
    this.u32[this.regs + R_ALARM_RUNNING] = 0;
    this.u32[this.regs + R_IRQ_PENDING] = 1;
    this.updateIrq();
  }

  private setAlarm(): void {
    if (this.alarmNext() <= this.count()) {
      this.raiseAlarm();
    } else {
      this.u32[this.regs + R_ALARM_RUNNING] = 1;
    }
  }

  /** Fires the alarm if it is due. Call after host time moves. */
  update(): void {
    if (this.u32[this.regs + R_ALARM_RUNNING] !== 0 && this.alarmNext() <= this.count()) this.raiseAlarm();
  }

  /** When the running alarm fires, in the clock's ns; Infinity if no alarm runs. */
  nextAlarmNs(): number {
    if (this.u32[this.regs + R_ALARM_RUNNING] === 0) return Infinity;
    return Number(this.alarmNext() - this.offset());
  }

  /** Registers are 32-bit; narrower reads return the low bits of the register. */
  read(offset: number, _size: 1 | 2 | 4): number {
    switch (offset) {
      case RTC_TIME_LOW: {
        const c = this.count();
        this.u32[this.regs + R_TIME_HIGH] = Number(c >> 32n);
        return Number(c & MASK32);
      }
      case RTC_TIME_HIGH:
        return this.u32[this.regs + R_TIME_HIGH]!;
      case RTC_ALARM_LOW:
        return this.u32[this.alarmW]!;
      case RTC_ALARM_HIGH:
        return this.u32[this.alarmW + 1]!;
      case RTC_IRQ_ENABLED:
        return this.u32[this.regs + R_IRQ_ENABLED]!;
      case RTC_ALARM_STATUS:
        return this.u32[this.regs + R_ALARM_RUNNING]!;
      default:
        return 0;
    }
  }

  /** Writes a 32-bit register. */
  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    const v = BigInt(value >>> 0);
    switch (offset) {
      case RTC_TIME_LOW:
      case RTC_TIME_HIGH: {
        const current = this.count();
        const next = offset === RTC_TIME_LOW ? (current & ~MASK32) | v : (current & MASK32) | (v << 32n);
        this.setOffset(this.offset() + (next - current));
        return;
      }
      case RTC_ALARM_LOW:
        this.u32[this.alarmW] = value >>> 0;
        this.setAlarm();
        return;
      case RTC_ALARM_HIGH:
        this.u32[this.alarmW + 1] = value >>> 0;
        return;
      case RTC_IRQ_ENABLED:
        this.u32[this.regs + R_IRQ_ENABLED] = value & 1;
        this.updateIrq();
        return;
      case RTC_CLEAR_ALARM:
        this.u32[this.regs + R_ALARM_RUNNING] = 0;
        return;
      case RTC_CLEAR_INTERRUPT:
        this.u32[this.regs + R_IRQ_PENDING] = 0;
        this.updateIrq();
        return;
      default:
    }
  }
}
