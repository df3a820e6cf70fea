/* devices: 16550 UART registers, goldfish RTC time, empty virtio-mmio slots, and access faults
 * (5/7, mtval = address) for loads and stores to unmapped physical addresses. */
#include "rt.h"
const char *test_name = "devices";

static u32 ld(u32 a) { u32 v; __asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(a) : "memory"); return v; }
static void st(u32 a, u32 v) { __asm__ volatile("sw %0, 0(%1)" :: "r"(v), "r"(a) : "memory"); }

int test_main(void) {
  /* UART: line status, divisor latch, scratch, interrupt identification */
  check(1, REG8(UART0 + 5) & 0x61, 0x60);   /* THRE | TEMT, no data ready */
  check(2, REG8(UART0 + 2) & 0x0f, 0x01);   /* IIR: no interrupt pending */
  u8 lcr = REG8(UART0 + 3);
  REG8(UART0 + 3) = 0x83;                   /* DLAB */
  REG8(UART0 + 0) = 0x0c;
  REG8(UART0 + 1) = 0x00;
  check(3, REG8(UART0 + 0), 0x0c);
  check(4, REG8(UART0 + 1), 0x00);
  check(5, REG8(UART0 + 3), 0x83);
  REG8(UART0 + 0) = 0x01;
  check(6, REG8(UART0 + 0), 0x01);
  REG8(UART0 + 3) = 0x03;
  check(7, REG8(UART0 + 3), 0x03);
  check(8, REG8(UART0 + 1), 0x00);          /* IER again, not DLM */
  REG8(UART0 + 7) = 0xa5;
  check(9, REG8(UART0 + 7), 0xa5);
  REG8(UART0 + 7) = 0x5a;
  check(10, REG8(UART0 + 7), 0x5a);
  REG8(UART0 + 3) = lcr ? lcr : 0x03;
  println("uart ok");

  /* goldfish RTC: nanoseconds since the epoch, nonzero, advancing */
  u32 lo1 = REG32(RTC + 0x00), hi1 = REG32(RTC + 0x04);
  for (volatile int i = 0; i < 20000; i++) {}
  u32 lo2 = REG32(RTC + 0x00), hi2 = REG32(RTC + 0x04);
  u64 t1 = ((u64)hi1 << 32) | lo1, t2 = ((u64)hi2 << 32) | lo2;
  check_true(20, t1 != 0);
  check_true(21, t2 > t1);
  check_true(22, hi1 > 0x16000000u / 0x100u); /* after ~2009: hi word of ns since 1970 */
  check(23, REG32(RTC + 0x18), 0);         /* ALARM_STATUS: no alarm */

  /* virtio-mmio: 8 empty slots */
  for (u32 i = 0; i < 8; i++) {
    u32 base = VIRTIO0 + 0x1000 * i;
    check(30 + i, REG32(base + 0x000), 0x74726976); /* "virt" */
    check(40 + i, REG32(base + 0x008), 0);          /* device id 0: empty */
    check(50 + i, REG32(base + 0x004), 1);          /* QEMU 7.2 default: legacy (version 1) */
  }
  info("virtio-vendor", REG32(VIRTIO0 + 0xc));

  /* unmapped physical addresses: access faults */
  trap_reset();
  u32 v = ld(0x00200000u);
  check(60, trap_count, 1); check(61, trap_cause, 5); check(62, trap_tval, 0x00200000u);
  st(0x00200010u, v);
  check(63, trap_count, 2); check(64, trap_cause, 7); check(65, trap_tval, 0x00200010u);
  (void)ld(0xf0000000u);
  check(66, trap_count, 3); check(67, trap_cause, 5); check(68, trap_tval, 0xf0000000u);
  ((void (*)(void))(uptr)0x00200000u)();
  check(69, trap_count, 4); check(70, trap_cause, 1); check(71, trap_tval, 0x00200000u);
  trap_expect = 0;
  return 0;
}
