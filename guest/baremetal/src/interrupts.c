/* interrupts: CLINT timer and software interrupts in M and forwarded to S, WFI wake-up, PLIC
 * external interrupts from the UART (THRE, IRQ 10) and the goldfish RTC alarm (IRQ 11). */
#include "rt.h"
const char *test_name = "interrupts";

#define MTIMECMP (CLINT + 0x4000)
#define MTIME (CLINT + 0xbff8)
#define PLIC_PRIO(s) (PLIC + 4 * (s))
#define PLIC_PENDING (PLIC + 0x1000)
#define PLIC_ENABLE0 (PLIC + 0x2000)
#define PLIC_THRESH0 (PLIC + 0x200000)
#define PLIC_CLAIM0 (PLIC + 0x200004)

static u64 mtime(void) {
  u32 hi, lo;
  do { hi = REG32(MTIME + 4); lo = REG32(MTIME); } while (hi != REG32(MTIME + 4));
  return ((u64)hi << 32) | lo;
}
static void set_mtimecmp(u64 t) {
  REG32(MTIMECMP + 4) = 0xffffffffu;
  REG32(MTIMECMP) = (u32)t;
  REG32(MTIMECMP + 4) = (u32)(t >> 32);
}
/* Wait until *counter reaches want (or about 2 s of mtime passed). The condition is checked with
 * the global enable off, then WFI (which wakes on a pending enabled interrupt regardless), then
 * the enable is opened so the handler runs: no lost wake-up. s: use sstatus.SIE (in S-mode). */
static int wait_for(volatile u32 *counter, u32 want, int s) {
  u64 end = mtime() + 20000000u;
  for (;;) {
    if (s) csr_clear(sstatus, MSTATUS_SIE); else csr_clear(mstatus, MSTATUS_MIE);
    if (*counter >= want) return 1;
    if (mtime() > end) return 0;
    __asm__ volatile("wfi");
    if (s) csr_set(sstatus, MSTATUS_SIE); else csr_set(mstatus, MSTATUS_MIE);
  }
}

static volatile u32 claimed[4], nclaimed, forwarded;
static int ext_hook(struct frame *f, u32 cause) {
  (void)f;
  if (cause == 0x8000000bu) {
    u32 id = REG32(PLIC_CLAIM0);
    if (id == 10) REG8(UART0 + 1) = 0;              /* IER: THRE interrupt off */
    if (id == 11) { REG32(RTC + 0x10) = 0; REG32(RTC + 0x1c) = 1; } /* disable, clear */
    if (nclaimed < 4) claimed[nclaimed] = id;
    nclaimed++;
    REG32(PLIC_CLAIM0) = id;
    return 1;
  }
  if (cause == 0x80000007u && forwarded == 0) {       /* SBI-style: forward M timer as STIP */
    forwarded = 1;
    csr_clear(mie, 1u << 7);
    csr_set(mip, 1u << 5);
    return 1;
  }
  return 0;
}

int test_main(void) {
  /* M timer interrupt */
  trap_reset();
  set_mtimecmp(mtime() + 1000);
  csr_write(mie, 1u << 7);
  csr_set(mstatus, MSTATUS_MIE);
  check(1, wait_for(&trap_count, 1, 0), 1);
  csr_clear(mstatus, MSTATUS_MIE);
  check(2, trap_cause, 0x80000007);
  check(3, trap_mpp, PRV_M);
  set_mtimecmp(~0ull);
  check(4, csr_read(mip) & 0x80, 0);

  /* M software interrupt (msip) */
  trap_reset();
  REG32(CLINT) = 1;
  check(10, REG32(CLINT), 1);
  check(11, csr_read(mip) & 0x8, 0x8);
  csr_write(mie, 1u << 3);
  csr_set(mstatus, MSTATUS_MIE);
  check(12, wait_for(&trap_count, 1, 0), 1);
  csr_clear(mstatus, MSTATUS_MIE);
  check(13, trap_cause, 0x80000003);
  REG32(CLINT) = 0;
  check(14, csr_read(mip) & 0x8, 0);

  /* WFI wakes on a pending enabled interrupt even with MIE = 0 (no trap taken) */
  trap_reset();
  csr_write(mie, 1u << 7);
  set_mtimecmp(mtime() + 500);
  u64 end = mtime() + 20000000u;
  while (!(csr_read(mip) & 0x80) && mtime() < end) __asm__ volatile("wfi");
  check(20, csr_read(mip) & 0x80, 0x80);
  check(21, trap_count, 0);
  set_mtimecmp(~0ull);
  csr_write(mie, 0);

  /* interrupts delegated to S: the M timer is forwarded as STIP (as an SBI does); SSIP */
  m_hook = ext_hook;
  trap_reset();
  csr_write(mideleg, (1u << 1) | (1u << 5) | (1u << 9));
  enter_mode(PRV_S);
  csr_write(sie, 1u << 5);
  csr_set(sstatus, MSTATUS_SIE);
  enter_m();
  trap_count = 0;
  csr_set(mie, 1u << 7);
  set_mtimecmp(mtime() + 1000);
  enter_mode(PRV_S);
  wait_for(&strap_count, 1, 1);
  enter_m();
  set_mtimecmp(~0ull);
  check(30, forwarded, 1);
  check(31, strap_count, 1);
  check(32, strap_cause, 0x80000005);
  csr_clear(mip, 1u << 5);
  strap_count = 0;
  enter_mode(PRV_S);
  csr_write(sie, 1u << 1);
  csr_set(sip, 1u << 1);              /* S software interrupt, raised by S itself */
  wait_for(&strap_count, 1, 1);
  csr_clear(sip, 1u << 1);
  csr_clear(sstatus, MSTATUS_SIE);
  enter_m();
  check(33, strap_count, 1);
  check(34, strap_cause, 0x80000001);
  check(35, strap_spp, 1);
  csr_write(mideleg, 0);

  /* PLIC: UART THRE interrupt (IRQ 10) */
  trap_reset();
  REG32(PLIC_PRIO(10)) = 1;
  REG32(PLIC_PRIO(11)) = 2;
  check(40, REG32(PLIC_PRIO(10)), 1);
  REG32(PLIC_THRESH0) = 0;
  REG32(PLIC_ENABLE0) = (1u << 10) | (1u << 11);
  check(41, REG32(PLIC_ENABLE0) & 0xc00, 0xc00);
  csr_write(mie, 1u << 11);
  csr_set(mstatus, MSTATUS_MIE);
  REG8(UART0 + 1) = 2;                 /* IER: transmitter holding register empty */
  check(42, wait_for(&nclaimed, 1, 0), 1);
  check(43, claimed[0], 10);
  check(44, REG32(PLIC_PENDING) & (1u << 10), 0);

  /* PLIC: goldfish RTC alarm (IRQ 11), 1 ms ahead */
  u32 lo = REG32(RTC + 0x00);
  u32 hi = REG32(RTC + 0x04);
  u64 now = ((u64)hi << 32) | lo;
  check_true(50, now != 0);
  u64 alarm = now + 1000000u;
  REG32(RTC + 0x10) = 1;               /* IRQ_ENABLED */
  REG32(RTC + 0x0c) = (u32)(alarm >> 32);
  REG32(RTC + 0x08) = (u32)alarm;      /* writing ALARM_LOW arms the alarm */
  check(51, wait_for(&nclaimed, 2, 0), 1);
  check(52, claimed[1], 11);
  /* threshold masks: priority 1 <= threshold 1 does not interrupt */
  REG32(PLIC_THRESH0) = 1;
  check(53, REG32(PLIC_THRESH0), 1);
  REG8(UART0 + 1) = 2;
  for (volatile int i = 0; i < 2000; i++) {}
  check(54, nclaimed, 2);
  check_true(55, (REG32(PLIC_PENDING) & (1u << 10)) != 0);
  csr_clear(mstatus, MSTATUS_MIE);
  REG32(PLIC_THRESH0) = 0;             /* QEMU's claim also honours the threshold */
  u32 id = REG32(PLIC_CLAIM0);         /* claim by polling (source still asserted), then complete */
  check(56, id, 10);
  REG8(UART0 + 1) = 0;
  REG32(PLIC_CLAIM0) = id;
  REG32(PLIC_THRESH0) = 0;
  REG32(PLIC_ENABLE0) = 0;
  csr_write(mie, 0);
  m_hook = 0;
  trap_expect = 0;
  return 0;
}
