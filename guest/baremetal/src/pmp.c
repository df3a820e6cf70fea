/* pmp: TOR, NAPOT and NA4 regions checked from S and U (access faults 1/5/7 with mtval), M-mode
 * ignoring unlocked entries, and a locked entry that binds M-mode and ignores writes. */
#include "rt.h"
const char *test_name = "pmp";

static u32 ld(u32 a) { u32 v; __asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(a) : "memory"); return v; }
static void st(u32 a, u32 v) { __asm__ volatile("sw %0, 0(%1)" :: "r"(v), "r"(a) : "memory"); }
static void sfence(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static u32 d1, d2, d3, d4;
static void s_load_d1(void) { (void)ld(d1 + 16); }
static void s_store_d1(void) { st(d1 + 20, 1); }
static void s_exec_d1(void) { ((void (*)(void))(uptr)d1)(); }
static void s_load_d2(void) { (void)ld(d2 + 0xffc); }
static void s_store_d2(void) { st(d2, 1); }
static void s_load_after_d2(void) { (void)ld(d2 + 0x1000); }
static void s_load_d3(void) { (void)ld(d3); }
static void s_store_d3(void) { st(d3, 5); }
static void s_store_d3_next(void) { st(d3 + 4, 6); }

static u32 in_mode(int mode, void (*f)(void)) {
  trap_reset();
  enter_mode(mode);
  f();
  enter_m();
  return trap_count;
}

int test_main(void) {
  u32 free = ((u32)(uptr)__free_mem + 4095) & ~4095u;
  d1 = free; d2 = free + 0x1000; d3 = free + 0x3000; d4 = free + 0x4000;
  *(volatile u32 *)(uptr)d1 = 0x00008067; /* ret */
  /* entry 7: everything RWX (lowest priority); entries 0..3 under test */
  csr_write(pmpcfg0, 0);
  csr_write(pmpaddr7, 0xffffffffu);
  csr_write(pmpcfg1, 0x1fu << 24);
  csr_write(pmpaddr0, (d1 >> 2) | 0x1ff);   /* NAPOT 4 KiB at d1: R only */
  csr_write(pmpaddr1, d2 >> 2);             /* TOR [d2, d2 + 4 KiB): nothing allowed */
  csr_write(pmpaddr2, (d2 + 0x1000) >> 2);
  csr_write(pmpaddr3, d3 >> 2);             /* NA4 at d3: R only */
  csr_write(pmpcfg0, (0x11u << 24) | (0x08u << 16) | (0x00u << 8) | 0x19u);
  sfence();
  check(1, csr_read(pmpcfg0), 0x11080019);
  check(2, csr_read(pmpaddr0), (d1 >> 2) | 0x1ff);
  check(3, csr_read(pmpaddr2), (d2 + 0x1000) >> 2);

  check(10, in_mode(PRV_S, s_load_d1), 0);
  check(11, in_mode(PRV_S, s_store_d1), 1); check(12, trap_cause, 7); check(13, trap_tval, d1 + 20);
  check(14, in_mode(PRV_S, s_exec_d1), 1); check(15, trap_cause, 1); check(16, trap_tval, d1);
  check(17, in_mode(PRV_U, s_store_d1), 1); check(18, trap_cause, 7);
  check(20, in_mode(PRV_S, s_load_d2), 1); check(21, trap_cause, 5); check(22, trap_tval, d2 + 0xffc);
  check(23, in_mode(PRV_S, s_store_d2), 1); check(24, trap_cause, 7); check(25, trap_tval, d2);
  check(26, in_mode(PRV_U, s_load_d2), 1); check(27, trap_cause, 5);
  check(28, in_mode(PRV_S, s_load_after_d2), 0);
  check(30, in_mode(PRV_S, s_load_d3), 0);
  check(31, in_mode(PRV_S, s_store_d3), 1); check(32, trap_cause, 7); check(33, trap_tval, d3);
  check(34, in_mode(PRV_S, s_store_d3_next), 0);
  check(35, *(volatile u32 *)(uptr)(d3 + 4), 6);

  /* M-mode ignores unlocked entries */
  trap_reset();
  st(d1 + 20, 0x1234);
  st(d2, 0x5678);
  check(40, trap_count, 0);
  check(41, ld(d1 + 20), 0x1234);

  /* a locked entry (4: NAPOT 4 KiB at d4, L|R) applies to M-mode too */
  *(volatile u32 *)(uptr)d4 = 0x4444;
  csr_write(pmpaddr4, (d4 >> 2) | 0x1ff);
  csr_write(pmpcfg1, (0x1fu << 24) | 0x99u);
  sfence();
  trap_reset();
  u32 v = ld(d4);
  st(d4, 1);
  check(50, v, 0x4444);
  check(51, trap_count, 1); check(52, trap_cause, 7); check(53, trap_tval, d4);
  /* locked: cfg and address writes are ignored */
  csr_write(pmpcfg1, (0x1fu << 24) | 0x1fu);
  csr_write(pmpaddr4, 0);
  check(54, csr_read(pmpcfg1) & 0xff, 0x99);
  check(55, csr_read(pmpaddr4), (d4 >> 2) | 0x1ff);
  trap_reset();
  st(d4, 2);
  check(56, trap_count, 1);
  check(57, ld(d4), 0x4444);
  trap_expect = 0;
  /* let S/U reach everything again for the runtime (entry 7 covers all) */
  csr_write(pmpcfg0, 0);
  return 0;
}
