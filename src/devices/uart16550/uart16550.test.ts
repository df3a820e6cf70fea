import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateArena } from '../../memory/state-arena.js';
import { Uart16550 } from './uart16550.js';

function make(arena = new StateArena(4096)) {
  const out: number[] = [];
  const irq = { level: false, set(l: boolean) { this.level = l; } };
  const uart = new Uart16550(arena, 'uart0', { write: (b) => out.push(...b) }, irq);
  return { arena, uart, out, irq };
}

test('reset values match QEMU serial_reset', () => {
  const { uart, irq } = make();
  assert.equal(uart.read(5, 1), 0x60); // LSR: THRE|TEMT
  assert.equal(uart.read(2, 1), 0x01); // IIR: no interrupt
  assert.equal(uart.read(4, 1), 0x08); // MCR: OUT2
  assert.equal(uart.read(6, 1), 0xb0); // MSR: DCD|DSR|CTS
  uart.write(3, 1, 0x80);
  assert.equal(uart.read(0, 1), 0x0c); // divisor 12 (9600 baud)
  assert.equal(uart.read(1, 1), 0x00);
  assert.equal(irq.level, false);
});

test('THR writes go to the backend; DLAB selects the divisor latch', () => {
  const { uart, out } = make();
  uart.write(0, 1, 0x41);
  uart.write(0, 1, 0x42);
  assert.deepEqual(out, [0x41, 0x42]);
  assert.equal(uart.read(5, 1) & 0x60, 0x60);
  uart.write(3, 1, 0x83);
  uart.write(0, 1, 0x01);
  uart.write(1, 1, 0x02);
  assert.equal(uart.read(0, 1), 0x01);
  assert.equal(uart.read(1, 1), 0x02);
  assert.deepEqual(out, [0x41, 0x42]);
  uart.write(3, 1, 0x03);
  assert.equal(uart.read(3, 1), 0x03);
  uart.write(7, 1, 0x5a);
  assert.equal(uart.read(7, 1), 0x5a);
});

test('receive without FIFO: one holding register, DR, RDA interrupt', () => {
  const { uart, irq } = make();
  assert.equal(uart.rxSpace(), 1);
  uart.write(1, 1, 0x01); // ERBFI
  assert.equal(uart.receive(new Uint8Array([0x61, 0x62])), 1);
  assert.equal(uart.rxSpace(), 0);
  assert.equal(uart.read(5, 1) & 1, 1);
  assert.equal(irq.level, true);
  assert.equal(uart.read(2, 1), 0x04); // RDI
  assert.equal(uart.read(0, 1), 0x61);
  assert.equal(uart.read(5, 1) & 1, 0);
  assert.equal(irq.level, false);
});

test('FIFO: 16 bytes, trigger level, CTI below the trigger, IIR FIFO bits', () => {
  const { uart, irq } = make();
  uart.write(2, 1, 0x81); // enable FIFO, trigger level 8
  assert.equal(uart.read(2, 1) & 0xc0, 0xc0);
  assert.equal(uart.rxSpace(), 16);
  uart.write(1, 1, 0x01);
  const data = new Uint8Array(20).map((_, i) => i + 1);
  assert.equal(uart.receive(data.subarray(0, 3)), 3);
  assert.equal(uart.read(2, 1) & 0x0f, 0x0c); // character timeout (below trigger level)
  assert.equal(uart.receive(data.subarray(3)), 13);
  assert.equal(uart.rxSpace(), 0);
  assert.equal(uart.read(2, 1) & 0x0f, 0x04); // RDA: at/above trigger level
  const got: number[] = [];
  while (uart.read(5, 1) & 1) got.push(uart.read(0, 1));
  assert.deepEqual(got, Array.from(data.subarray(0, 16)));
  assert.equal(irq.level, false);
  // FCR receive reset empties the FIFO.
  uart.receive(new Uint8Array([9, 9]));
  uart.write(2, 1, 0x83);
  assert.equal(uart.read(5, 1) & 1, 0);
});

test('THRE interrupt: raised by IER, cleared by IIR read or THR write, raised again after transmit', () => {
  const { uart, irq } = make();
  uart.write(1, 1, 0x02); // ETBEI with THR empty
  assert.equal(irq.level, true);
  assert.equal(uart.read(2, 1), 0x02);
  assert.equal(irq.level, false); // reading IIR as the reported source clears it
  assert.equal(uart.read(2, 1), 0x01);
  uart.write(0, 1, 0x30); // transmitted at once: THR empty again
  assert.equal(irq.level, true);
  uart.write(1, 1, 0x00);
  assert.equal(irq.level, false);
});

test('priorities: RLS (overrun) over RDA over THRE; LSR read clears OE', () => {
  const { uart, irq } = make();
  uart.write(1, 1, 0x07);
  assert.equal(uart.read(2, 1), 0x02); // THRE alone
  uart.write(1, 1, 0x05);
  uart.write(1, 1, 0x07); // re-arm THRE
  uart.receive(new Uint8Array([1]));
  assert.equal(uart.read(2, 1), 0x04); // RDA beats THRE
  // Force an overrun: no FIFO, a second byte while DR is set (via loopback-free path).
  (uart as unknown as { receiveByte(b: number): void }).receiveByte(2);
  (uart as unknown as { updateIrq(): void }).updateIrq();
  assert.equal(uart.read(2, 1), 0x06); // RLS
  assert.equal(uart.read(5, 1) & 0x02, 0x02);
  assert.equal(uart.read(5, 1) & 0x02, 0);
  assert.equal(uart.read(2, 1), 0x04);
  assert.equal(irq.level, true);
});

test('loopback: transmitted bytes come back, MSR mirrors MCR', () => {
  const { uart, out } = make();
  uart.write(4, 1, 0x1b); // LOOP|OUT2|RTS|DTR
  uart.write(0, 1, 0x55);
  assert.deepEqual(out, []);
  assert.equal(uart.read(0, 1), 0x55);
  assert.equal(uart.read(6, 1), 0x80 | 0x10 | 0x20);
  assert.equal(uart.rxSpace(), 0);
});

test('state lives in the arena: copying the words to a fresh machine carries the registers over', () => {
  const a = make();
  a.uart.write(2, 1, 0x01);
  a.uart.write(3, 1, 0x03);
  a.uart.write(7, 1, 0x77);
  a.uart.write(1, 1, 0x01);
  a.uart.receive(new Uint8Array([7, 8, 9]));
  assert.ok(a.arena.field('uart0', 'regs'));
  assert.ok(a.arena.field('uart0', 'rxFifo'));
  const b = make();
  b.arena.u32.set(a.arena.u32.subarray(0, a.arena.usedWords));
  assert.equal(b.uart.read(7, 1), 0x77);
  assert.equal(b.uart.read(3, 1), 0x03);
  assert.equal(b.uart.irqLevel, true);
  assert.deepEqual([b.uart.read(0, 1), b.uart.read(0, 1), b.uart.read(0, 1)], [7, 8, 9]);
  // The original still has its bytes: the two machines are independent.
  assert.equal(a.uart.read(0, 1), 7);
});

test('offsets beyond the 8 registers read 0 and ignore writes', () => {
  const { uart } = make();
  uart.write(7, 1, 0x11);
  uart.write(0x0f, 1, 0x22);
  assert.equal(uart.read(0x0f, 1), 0);
  assert.equal(uart.read(7, 1), 0x11);
});
