/**
 * NS16550A UART as on QEMU's `virt` board (reg-shift 0: byte registers at offsets 0..7),
 * following the register semantics of QEMU's hw/char/serial.c.
 *
 * All state lives in the state arena (owner = the `name` given to the constructor):
 * `regs` (one word per register, see the R_* indices) and `rxFifo` (16 bytes, one per word).
 *
 * Differences from QEMU, deliberate:
 * - Transmission is instantaneous: the backend accepts every byte at once, so THRE/TEMT are
 *   set again right after a THR write (QEMU does the same when its chardev accepts the byte).
 * - The character timeout interrupt (CTI) is not timed: while the receive FIFO holds data
 *   below its trigger level, CTI is reported at once. There is no host timer in the core, and
 *   this keeps the device deterministic; drivers read the FIFO empty on CTI anyway.
 * - The transmit FIFO is not modelled (bytes go straight to the backend).
 * - Modem control lines are fixed: MSR reads DCD|DSR|CTS outside loopback.
 */
import type { MmioDevice } from '../../memory/address-map.js';
import type { StateArena } from '../../memory/state-arena.js';
import type { CharBackend } from '../char-backend.js';
import type { IrqLine } from '../irq.js';

/** Receive FIFO depth of a 16550A. */
export const UART_FIFO_LENGTH = 16;

// IER bits
const IER_RDI = 0x01;
const IER_THRI = 0x02;
const IER_RLSI = 0x04;
const IER_MSI = 0x08;
// IIR values
const IIR_NO_INT = 0x01;
const IIR_ID = 0x06;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FE = 0xc0;
// FCR bits
const FCR_FE = 0x01;
const FCR_RFR = 0x02;
const FCR_XFR = 0x04;
// LCR bits
const LCR_DLAB = 0x80;
// MCR bits
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
// LSR bits
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_BI = 0x10;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const LSR_INT_ANY = 0x1e;
// MSR bits
const MSR_CTS = 0x10;
const MSR_DSR = 0x20;
const MSR_DCD = 0x80;
const MSR_ANY_DELTA = 0x0f;

// Word indices within the `regs` field.
const R_RBR = 0;
const R_IER = 1;
const R_IIR = 2;
const R_FCR = 3;
const R_LCR = 4;
const R_MCR = 5;
const R_LSR = 6;
const R_MSR = 7;
const R_SCR = 8;
const R_DIVIDER = 9;
const R_THR = 10;
const R_THR_IPENDING = 11;
const R_ITL = 12;
const R_FIFO_HEAD = 13;
const R_FIFO_COUNT = 14;
const R_IRQ_LEVEL = 15;
const REG_WORDS = 16;

/** A 16550A UART whose registers and receive FIFO live in the state arena. */
export class Uart16550 implements MmioDevice {
  private readonly u32: Uint32Array;
  private readonly regs: number;
  private readonly fifo: number;

  /**
   * @param arena state arena; fields `<name>.regs` and `<name>.rxFifo` are allocated in it.
   * @param name arena owner name, for example `uart0`.
   * @param backend where transmitted bytes go.
   * @param irq the interrupt line into the PLIC (source 10 on `virt`).
   */
  constructor(arena: StateArena, name: string, private readonly backend: CharBackend, private readonly irq: IrqLine) {
    this.u32 = arena.u32;
    this.regs = arena.allocate(name, 'regs', REG_WORDS);
    this.fifo = arena.allocate(name, 'rxFifo', UART_FIFO_LENGTH);
    this.reset();
  }

  private g(i: number): number {
    return this.u32[this.regs + i]!;
  }

  private s(i: number, v: number): void {
    this.u32[this.regs + i] = v >>> 0;
  }

  /** Power-on reset (QEMU serial_reset): 9600 8N1, OUT2 set, interrupts off, FIFOs empty. */
  reset(): void {
    for (let i = 0; i < REG_WORDS; i++) this.s(i, 0);
    for (let i = 0; i < UART_FIFO_LENGTH; i++) this.u32[this.fifo + i] = 0;
    this.s(R_IIR, IIR_NO_INT);
    this.s(R_LSR, LSR_TEMT | LSR_THRE);
    this.s(R_MSR, MSR_DCD | MSR_DSR | MSR_CTS);
    this.s(R_DIVIDER, 0x0c);
    this.s(R_MCR, MCR_OUT2);
    this.s(R_ITL, 1);
    this.updateIrq();
  }

  private fifoEnabled(): boolean {
    return (this.g(R_FCR) & FCR_FE) !== 0;
  }

  /** Bytes the device can take now: free FIFO slots, or 1/0 for the holding register when FIFOs are off. */
  rxSpace(): number {
    if ((this.g(R_MCR) & MCR_LOOP) !== 0) return 0; // in loopback, the line input is disconnected
    if (this.fifoEnabled()) return UART_FIFO_LENGTH - this.g(R_FIFO_COUNT);
    return (this.g(R_LSR) & LSR_DR) !== 0 ? 0 : 1;
  }

  /** Pushes host input into the receiver; returns how many bytes were accepted (at most `rxSpace()`). */
  receive(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.rxSpace());
    for (let i = 0; i < n; i++) this.receiveByte(bytes[i]!);
    if (n > 0) this.updateIrq();
    return n;
  }

  private receiveByte(byte: number): void {
    if (this.fifoEnabled()) {
      const count = this.g(R_FIFO_COUNT);
      if (count >= UART_FIFO_LENGTH) {
        this.s(R_LSR, this.g(R_LSR) | LSR_OE);
      } else {
        const head = this.g(R_FIFO_HEAD);
        this.u32[this.fifo + ((head + count) % UART_FIFO_LENGTH)] = byte & 0xff;
        this.s(R_FIFO_COUNT, count + 1);
      }
    } else {
      if ((this.g(R_LSR) & LSR_DR) !== 0) this.s(R_LSR, this.g(R_LSR) | LSR_OE);
      this.s(R_RBR, byte & 0xff);
    }
    this.s(R_LSR, this.g(R_LSR) | LSR_DR);
  }

  private popFifo(): number {
    const count = this.g(R_FIFO_COUNT);
    if (count === 0) return 0;
    const head = this.g(R_FIFO_HEAD);
    const v = this.u32[this.fifo + head]!;
    this.s(R_FIFO_HEAD, (head + 1) % UART_FIFO_LENGTH);
    this.s(R_FIFO_COUNT, count - 1);
    return v;
  }

  private resetRxFifo(): void {
    this.s(R_FIFO_HEAD, 0);
    this.s(R_FIFO_COUNT, 0);
  }

  /** serial_update_irq: picks the highest-priority source, updates IIR and the line. */
  private updateIrq(): void {
    const ier = this.g(R_IER);
    const lsr = this.g(R_LSR);
    let iir = IIR_NO_INT;
    if ((ier & IER_RLSI) !== 0 && (lsr & LSR_INT_ANY) !== 0) {
      iir = IIR_RLSI;
    } else if ((ier & IER_RDI) !== 0 && (lsr & LSR_DR) !== 0) {
      if (!this.fifoEnabled() || this.g(R_FIFO_COUNT) >= this.g(R_ITL)) iir = IIR_RDI;
      else iir = IIR_CTI; // character timeout, reported without delay (see the file comment)
    } else if ((ier & IER_THRI) !== 0 && this.g(R_THR_IPENDING) !== 0) {
      iir = IIR_THRI;
    } else if ((ier & IER_MSI) !== 0 && (this.g(R_MSR) & MSR_ANY_DELTA) !== 0) {
      iir = IIR_MSI;
    }
    this.s(R_IIR, iir | (this.g(R_IIR) & 0xf0));
    const level = iir !== IIR_NO_INT;
    this.s(R_IRQ_LEVEL, level ? 1 : 0);
    this.irq.set(level);
  }

  /** The level this device drives on its interrupt line. */
  get irqLevel(): boolean {
    return this.g(R_IRQ_LEVEL) !== 0;
  }

  /** Reads a register. Only byte registers exist (offsets 0..7); a wider access acts on the byte at `offset`. */
  read(offset: number, _size: 1 | 2 | 4): number {
    if (offset >= 8) return 0; // QEMU maps 8 byte registers; the rest of the 0x100 slot is unassigned
    switch (offset) {
      case 0: {
        if ((this.g(R_LCR) & LCR_DLAB) !== 0) return this.g(R_DIVIDER) & 0xff;
        let ret: number;
        if (this.fifoEnabled()) {
          ret = this.popFifo();
          if (this.g(R_FIFO_COUNT) === 0) this.s(R_LSR, this.g(R_LSR) & ~(LSR_DR | LSR_BI));
        } else {
          ret = this.g(R_RBR);
          this.s(R_LSR, this.g(R_LSR) & ~(LSR_DR | LSR_BI));
        }
        this.updateIrq();
        this.backend.acceptInput?.();
        return ret;
      }
      case 1:
        if ((this.g(R_LCR) & LCR_DLAB) !== 0) return (this.g(R_DIVIDER) >>> 8) & 0xff;
        return this.g(R_IER);
      case 2: {
        const ret = this.g(R_IIR);
        if ((ret & IIR_ID) === IIR_THRI && (ret & 0x08) === 0) {
          this.s(R_THR_IPENDING, 0);
          this.updateIrq();
        }
        return ret;
      }
      case 3:
        return this.g(R_LCR);
      case 4:
        return this.g(R_MCR);
      case 5: {
        const ret = this.g(R_LSR);
        if ((ret & (LSR_BI | LSR_OE)) !== 0) {
          this.s(R_LSR, ret & ~(LSR_BI | LSR_OE));
          this.updateIrq();
        }
        return ret;
      }
      case 6: {
        const mcr = this.g(R_MCR);
        if ((mcr & MCR_LOOP) !== 0) {
          // Loopback: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
          return ((mcr & 0x0c) << 4) | ((mcr & 0x02) << 3) | ((mcr & 0x01) << 5);
        }
        const ret = this.g(R_MSR);
        if ((ret & MSR_ANY_DELTA) !== 0) {
          this.s(R_MSR, ret & 0xf0);
          this.updateIrq();
        }
        return ret;
      }
      default:
        return this.g(R_SCR);
    }
  }

  /** Writes a register (the low byte of `value`). */
  write(offset: number, _size: 1 | 2 | 4, value: number): void {
    const val = value & 0xff;
    if (offset >= 8) return;
    switch (offset) {
      case 0:
        if ((this.g(R_LCR) & LCR_DLAB) !== 0) {
          this.s(R_DIVIDER, (this.g(R_DIVIDER) & 0xff00) | val);
          return;
        }
        this.s(R_THR, val);
        this.s(R_THR_IPENDING, 0);
        this.s(R_LSR, this.g(R_LSR) & ~(LSR_THRE | LSR_TEMT));
        this.updateIrq();
        this.transmit(val);
        return;
      case 1:
        if ((this.g(R_LCR) & LCR_DLAB) !== 0) {
          this.s(R_DIVIDER, (this.g(R_DIVIDER) & 0x00ff) | (val << 8));
          return;
        }
        {
          const changed = (this.g(R_IER) ^ val) & 0x0f;
          this.s(R_IER, val & 0x0f);
          if ((changed & IER_THRI) !== 0) {
            // As QEMU (and Bochs): enabling THRI with THR empty raises the interrupt again.
            const on = (val & IER_THRI) !== 0 && (this.g(R_LSR) & LSR_THRE) !== 0;
            this.s(R_THR_IPENDING, on ? 1 : 0);
          }
          if (changed !== 0) this.updateIrq();
        }
        return;
      case 2: {
        let v = val;
        if (((v ^ this.g(R_FCR)) & FCR_FE) !== 0) v |= FCR_XFR | FCR_RFR;
        if ((v & FCR_RFR) !== 0) {
          this.s(R_LSR, this.g(R_LSR) & ~(LSR_DR | LSR_BI));
          this.resetRxFifo();
        }
        if ((v & FCR_XFR) !== 0) {
          this.s(R_LSR, this.g(R_LSR) | LSR_THRE);
          this.s(R_THR_IPENDING, 1);
        }
        v &= 0xc9;
        this.s(R_FCR, v);
        if ((v & FCR_FE) !== 0) {
          this.s(R_IIR, this.g(R_IIR) | IIR_FE);
          this.s(R_ITL, [1, 4, 8, 14][(v >>> 6) & 3]!);
        } else {
          this.s(R_IIR, this.g(R_IIR) & ~IIR_FE);
        }
        this.updateIrq();
        return;
      }
      case 3:
        this.s(R_LCR, val);
        return;
      case 4:
        this.s(R_MCR, val & 0x1f);
        return;
      case 5:
      case 6:
        return; // LSR and MSR are read-only
      default:
        this.s(R_SCR, val);
    }
  }

  private transmit(byte: number): void {
    if ((this.g(R_MCR) & MCR_LOOP) !== 0) {
      this.receiveByte(byte);
    } else {
      this.backend.write(new Uint8Array([byte]));
    }
    this.s(R_LSR, this.g(R_LSR) | LSR_THRE | LSR_TEMT);
    this.s(R_THR_IPENDING, 1);
    this.updateIrq();
  }
}
