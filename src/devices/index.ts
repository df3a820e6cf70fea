/** The devices of the `virt` board. */
export { Uart16550, UART_FIFO_LENGTH } from './uart16550/uart16550.js';
export { Clint, CLINT_SIZE, CLINT_MSIP_BASE, CLINT_MTIMECMP_BASE, CLINT_MTIME } from './clint/clint.js';
export { Plic, VIRT_PLIC_NUM_SOURCES, VIRT_PLIC_NUM_PRIORITIES, VIRT_PLIC_SIZE } from './plic/plic.js';
export { GoldfishRtc, GOLDFISH_RTC_SIZE } from './goldfish-rtc/goldfish-rtc.js';
export { SifiveTest, SIFIVE_TEST_SIZE, type SifiveTestRequest } from './sifive-test/sifive-test.js';
export { VirtioMmioEmptyTransport } from './virtio-mmio/empty-transport.js';
export * from './virtio-mmio/constants.js';
export type { IrqLine } from './irq.js';
export type { HartInterruptPins } from '../cpu/index.js';
export type { CharBackend } from './char-backend.js';
