/**
 * Console input on its way into the machine: a ring of bytes typed but not yet taken by UART0.
 * The ring is machine state (arena words `console.inputRing`: read count, write count, then the
 * bytes), so both threads and a replay see the same bytes. Bytes move on into the UART as far as
 * its receiver has room, and otherwise only when the guest reads the receiver or writes the UART:
 * points the guest's own execution decides, so a replay moves bytes into the UART at the same
 * instruction.
 */
import type { Uart16550 } from '../devices/index.js';
import type { StateArena } from '../memory/state-arena.js';

/** Size of the console input ring (bytes typed but not yet taken by UART0). */
export const INPUT_RING_BYTES = 4096;

/** The console input ring in front of UART0. */
export class ConsoleInputRing {
  /** Word offset of the ring's field: [0] read count, [1] write count, then the bytes. */
  private readonly at: number;
  private readonly bytes: Uint8Array;

  constructor(private readonly arena: StateArena, private readonly uart: Uart16550) {
    this.at = arena.allocate('console', 'inputRing', 2 + INPUT_RING_BYTES / 4);
    this.bytes = new Uint8Array(arena.buffer, (this.at + 2) * 4, INPUT_RING_BYTES);
  }

  /** Bytes in the ring (not yet in the UART). */
  get pending(): number {
    const u = this.arena.u32;
    return (u[this.at + 1]! - u[this.at]!) >>> 0;
  }

  /** Room left in the ring. */
  get free(): number {
    return INPUT_RING_BYTES - this.pending;
  }

  /** Takes as many of `bytes` as fit, moves what it can into the UART; returns how many it took. */
  receive(bytes: Uint8Array): number {
    const u = this.arena.u32;
    const n = Math.min(bytes.length, this.free);
    let tail = u[this.at + 1]!;
    for (let i = 0; i < n; i++) {
      this.bytes[tail % INPUT_RING_BYTES] = bytes[i]!;
      tail = (tail + 1) >>> 0;
    }
    u[this.at + 1] = tail;
    this.drain();
    return n;
  }

  /** Moves bytes from the ring into the UART's receiver while it has room. */
  drain(): void {
    const u = this.arena.u32;
    let head = u[this.at]!;
    const tail = u[this.at + 1]!;
    while (head !== tail) {
      const chunk = new Uint8Array(Math.min(64, (tail - head) >>> 0));
      for (let i = 0; i < chunk.length; i++) chunk[i] = this.bytes[(head + i) % INPUT_RING_BYTES]!;
      const taken = this.uart.receive(chunk);
      if (taken === 0) break;
      head = (head + taken) >>> 0;
    }
    u[this.at] = head;
  }

  /** One byte from UART0's receiver (for the SBI console calls), or -1. */
  readByte(): number {
    this.drain();
    if ((this.uart.read(5, 1) & 1) === 0) return -1;
    return this.uart.read(0, 1) & 0xff;
  }
}
