/* traps: ecall from U/S/M, illegal instruction (mtval = bits), misaligned load/store, breakpoint,
 * mret/sret transitions, delegation to S, vectored vs direct mtvec, TW/TSR/TVM. */
#include "rt.h"
const char *test_name = "traps";

static volatile u32 word[4] __attribute__((aligned(16)));

static void do_ecall(void) { __asm__ volatile("li a7, 0\necall" ::: "a7", "memory"); }
static void do_wfi(void) { __asm__ volatile("wfi"); }
static void do_sret(void) { __asm__ volatile("sret"); }
static void do_mret(void) { __asm__ volatile("mret"); }
static void do_satp(void) { (void)csr_read(satp); }
static void do_sfence(void) { __asm__ volatile("sfence.vma"); }
static void do_illegal(void) { __asm__ volatile(".word 0xc0001073"); } /* unimp = csrrw x0, cycle, x0 */

/* run f in `mode` with traps recorded; back in M afterwards */
static void in_mode(int mode, void (*f)(void)) {
  trap_reset();
  enter_mode(mode);
  f();
  enter_m();
}

int test_main(void) {
  /* ecall causes from each privilege */
  in_mode(PRV_U, do_ecall);
  check(1, trap_cause, 8); check(2, trap_mpp, PRV_U); check(3, trap_count, 1);
  in_mode(PRV_S, do_ecall);
  check(4, trap_cause, 9); check(5, trap_mpp, PRV_S);
  trap_reset();
  do_ecall();
  check(6, trap_cause, 11); check(7, trap_mpp, PRV_M);
  /* illegal instruction: mtval holds the instruction bits */
  trap_reset();
  do_illegal();
  check(10, trap_cause, 2); check(11, trap_tval, 0xc0001073);
  trap_reset();
  trap_reset();
  __asm__ volatile("csrw cycle, x0");  /* a read-only counter written */
  check(12, trap_cause, 2);
  check(13, trap_tval, 0xc0001073);
  in_mode(PRV_U, do_illegal);
  check(14, trap_cause, 2); check(15, trap_tval, 0xc0001073); check(16, trap_mpp, PRV_U);
  /* misaligned loads/stores: either trap with mtval = the address (spec option), or complete
   * correctly (QEMU 7.2 does them in hardware). Misaligned AMOs must trap (QEMU: cause 4). */
  u32 a = (u32)(uptr)word;
  u32 v = 0;
  word[0] = 0x44332211; word[1] = 0x88776655;
  trap_reset();
  __asm__ volatile("lw %0, 1(%1)" : "=r"(v) : "r"(a) : "memory");
  if (trap_count) { check(20, trap_cause, 4); check(21, trap_tval, a + 1); } else check(20, v, 0x55443322);
  trap_reset();
  __asm__ volatile("lh %0, 3(%1)" : "=r"(v) : "r"(a) : "memory");
  if (trap_count) { check(22, trap_cause, 4); check(23, trap_tval, a + 3); } else check(22, v, 0x5544);
  trap_reset();
  __asm__ volatile("sw %0, 2(%1)" :: "r"(0xaabbccddu), "r"(a) : "memory");
  if (trap_count) { check(24, trap_cause, 6); check(25, trap_tval, a + 2); } else check(24, word[0], 0xccdd2211);
  trap_reset();
  __asm__ volatile("sh %0, 5(%1)" :: "r"(0x1234u), "r"(a) : "memory");
  if (trap_count) { check(26, trap_cause, 6); check(27, trap_tval, a + 5); } else check(26, word[1], 0x881234bb);
  trap_reset();
  __asm__ volatile("amoadd.w %0, %0, (%1)" : "+r"(v) : "r"(a + 2) : "memory");
  check(28, trap_count, 1);
  check_true(29, trap_cause == 6 || trap_cause == 4);
  check(30, trap_tval, a + 2);
  /* breakpoint */
  trap_reset();
  __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop");
  check(35, trap_cause, 3);
  info("ebreak-mtval", trap_tval == trap_epc ? 1 : trap_tval);
  trap_expect = 0;

  /* mret: MIE <- MPIE, MPIE <- 1, MPP <- U; privilege <- old MPP (M here) */
  u32 st;
  csr_clear(mstatus, MSTATUS_MIE | MSTATUS_MPIE);
  csr_set(mstatus, MSTATUS_MPP);
  __asm__ volatile("la t0, 1f\ncsrw mepc, t0\nmret\n1: csrr %0, mstatus" : "=r"(st) :: "t0", "memory");
  check(40, st & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP), MSTATUS_MPIE);
  /* sret from S to U: SPP <- U, SIE <- SPIE, SPIE <- 1; in U, sstatus is illegal */
  trap_reset();
  enter_mode(PRV_S);
  csr_clear(sstatus, MSTATUS_SPP | MSTATUS_SIE);
  csr_set(sstatus, MSTATUS_SPIE);
  __asm__ volatile("la t0, 1f\ncsrw sepc, t0\nsret\n1:" ::: "t0", "memory");
  (void)csr_read(sstatus); /* illegal in U */
  enter_m();
  check(41, trap_count, 1); /* enter_m's ecalls are not counted */
  check(42, trap_cause, 2); check(48, trap_mpp, PRV_U);
  st = csr_read(mstatus);
  check(43, st & (MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE), MSTATUS_SPIE | MSTATUS_SIE);
  csr_clear(mstatus, MSTATUS_SIE);
  in_mode(PRV_U, do_sret);
  check(44, trap_count, 1); check(45, trap_tval, 0x10200073);
  in_mode(PRV_S, do_mret);
  check(46, trap_count, 1); check(47, trap_tval, 0x30200073);

  /* delegation: ecall and illegal instruction from U go to the S handler */
  csr_write(medeleg, (1u << 8) | (1u << 2));
  in_mode(PRV_U, do_ecall);
  check(50, strap_cause, 8); check(51, strap_spp, 0);
  check(52, trap_count, 0);  /* nothing but enter_m's second ecall (from S) reached M */
  in_mode(PRV_U, do_illegal);
  check(54, strap_cause, 2); check(55, strap_tval, 0xc0001073);
  in_mode(PRV_S, do_illegal);   /* S traps are never delegated below S: S handler again */
  check(56, strap_cause, 2); check(57, strap_spp, 1); check(58, strap_count, 1);
  in_mode(PRV_S, do_ecall);     /* ecall from S not delegated: M */
  check(59, trap_cause, 9); check(60, strap_count, 0);
  csr_write(medeleg, 0);

  /* vectored mtvec: interrupts use base + 4 * cause; exceptions use base */
  u32 tv = csr_read(mtvec);
  trap_reset();
  vector_hit = 99;
  csr_write(mtvec, (u32)(uptr)m_trap_table | 1);
  __asm__ volatile("ecall");
  check(70, vector_hit, 0); check(71, trap_cause, 11);
  REG32(CLINT) = 1; /* msip */
  csr_set(mie, 1u << 3);
  csr_set(mstatus, MSTATUS_MIE);
  for (volatile int i = 0; i < 100 && trap_count < 2; i++) {}
  csr_clear(mstatus, MSTATUS_MIE);
  REG32(CLINT) = 0;
  check(72, vector_hit, 3); check(73, trap_cause, 0x80000003);
  csr_write(mtvec, tv);
  vector_hit = 99;
  REG32(CLINT) = 1;
  csr_set(mie, 1u << 3);
  csr_set(mstatus, MSTATUS_MIE);
  for (volatile int i = 0; i < 100 && trap_count < 3; i++) {}
  csr_clear(mstatus, MSTATUS_MIE);
  REG32(CLINT) = 0;
  check(74, vector_hit, 99); check(75, trap_cause, 0x80000003); check(76, trap_count, 3);

  /* TW, TSR, TVM */
  csr_set(mstatus, MSTATUS_TW);
  in_mode(PRV_S, do_wfi);
  check(80, trap_count, 1); check(81, trap_tval, 0x10500073);
  csr_clear(mstatus, MSTATUS_TW);
  csr_set(mstatus, MSTATUS_TSR);
  in_mode(PRV_S, do_sret);
  check(82, trap_count, 1); check(83, trap_tval, 0x10200073);
  csr_clear(mstatus, MSTATUS_TSR);
  csr_set(mstatus, MSTATUS_TVM);
  in_mode(PRV_S, do_satp);
  check(84, trap_count, 1); check(85, trap_cause, 2);
  in_mode(PRV_S, do_sfence);
  check(86, trap_count, 1); check(87, trap_tval, 0x12000073);
  csr_clear(mstatus, MSTATUS_TVM);
  in_mode(PRV_S, do_satp);
  check(88, trap_count, 0);
  trap_expect = 0;
  return 0;
}
