/* csr: M/S CSR read/write/set/clear semantics, WARL fields, counters, counter-enable gating. */
#include "rt.h"
const char *test_name = "csr";

static u32 rd_cycle(void) { u32 v; __asm__ volatile("rdcycle %0" : "=r"(v)); return v; }
static u32 rd_time(void) { u32 v; __asm__ volatile("rdtime %0" : "=r"(v)); return v; }
static u32 rd_instret(void) { u32 v; __asm__ volatile("rdinstret %0" : "=r"(v)); return v; }

/* Runs f in privilege `mode` and returns how many illegal-instruction traps it caused. */
static u32 illegal_in(int mode, void (*f)(void)) {
  trap_reset();
  enter_mode(mode);
  f();
  enter_m();
  u32 n = trap_count;
  if (n) check(900, trap_cause, 2);
  trap_expect = 0;
  return n;
}
static void do_cycle(void) { (void)rd_cycle(); }
static void do_time(void) { (void)rd_time(); }
static void do_instret(void) { (void)rd_instret(); }
static void do_mscratch(void) { (void)csr_read(mscratch); }
static void do_sscratch(void) { (void)csr_read(sscratch); }
static void do_satp(void) { (void)csr_read(satp); }

int test_main(void) {
  check(1, csr_read(mhartid), hart_id);
  u32 misa = csr_read(misa);
  info("misa", misa);
  check(2, misa >> 30, 1);  /* MXL = 32 */
  u32 need = (1u << 0) | (1u << 2) | (1u << 8) | (1u << 12) | (1u << 18) | (1u << 20); /* A C I M S U */
  check(3, misa & need, need);
  info("mvendorid", csr_read(mvendorid));
  info("marchid", csr_read(marchid));
  info("mimpid", csr_read(mimpid));

  /* csrrw / csrrs / csrrc and immediate forms on mscratch (it holds the trap stack: saved) */
  u32 saved_mscratch = csr_read(mscratch);
  csr_write(mscratch, 0x12345678);
  check(10, csr_swap(mscratch, 0xffffffff), 0x12345678);
  u32 old;
  __asm__ volatile("csrrc %0, mscratch, %1" : "=r"(old) : "r"(0x0f0f0f0fu));
  check(11, old, 0xffffffff);
  check(12, csr_read(mscratch), 0xf0f0f0f0);
  __asm__ volatile("csrrs %0, mscratch, %1" : "=r"(old) : "r"(0x00000003u));
  check(13, old, 0xf0f0f0f0);
  check(14, csr_read(mscratch), 0xf0f0f0f3);
  __asm__ volatile("csrrwi %0, mscratch, 31" : "=r"(old));
  check(15, old, 0xf0f0f0f3);
  check(16, csr_read(mscratch), 31);
  __asm__ volatile("csrrci %0, mscratch, 5" : "=r"(old));
  check(17, csr_read(mscratch), 26);
  __asm__ volatile("csrrsi %0, mscratch, 1" : "=r"(old));
  check(18, csr_read(mscratch), 27);
  __asm__ volatile("csrrs %0, mscratch, x0" : "=r"(old)); /* no write */
  check(19, old, 27);
  csr_write(mscratch, saved_mscratch);
  /* read-only CSR: a read with csrrs x0 is fine, a write is illegal */
  trap_reset();
  (void)csr_read(mvendorid);
  __asm__ volatile("csrrs x0, mhartid, x0");
  check(20, trap_count, 0);
  __asm__ volatile("csrw mhartid, %0" :: "r"(5u));
  check(21, trap_count, 1);
  check(22, trap_cause, 2);
  __asm__ volatile("csrrsi x0, mimpid, 1");
  check(23, trap_count, 2);
  __asm__ volatile("csrr t0, 0x7c0" ::: "t0"); /* an unimplemented custom CSR */
  check(24, trap_count, 3);
  check(25, trap_cause, 2);
  trap_expect = 0;

  /* mstatus fields and the sstatus view */
  u32 ms = csr_read(mstatus);
  csr_clear(mstatus, MSTATUS_MPP);
  check(30, csr_read(mstatus) & MSTATUS_MPP, 0);
  csr_set(mstatus, 1u << 11);
  check(31, csr_read(mstatus) & MSTATUS_MPP, 1u << 11);
  csr_set(mstatus, MSTATUS_MPP);
  check(32, csr_read(mstatus) & MSTATUS_MPP, MSTATUS_MPP);
  check(33, csr_read(sstatus) & MSTATUS_MPP, 0);
  csr_set(sstatus, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR);
  u32 sm = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_SUM | MSTATUS_MXR;
  check(34, csr_read(mstatus) & sm, sm);
  csr_clear(mstatus, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TVM);
  csr_set(sstatus, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TVM); /* not visible through sstatus */
  check(35, csr_read(mstatus) & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_TVM), 0);
  csr_clear(sstatus, sm);
  check(36, csr_read(mstatus) & sm, 0);
  u32 mm = MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_MPIE;
  csr_set(mstatus, mm);
  check(37, csr_read(mstatus) & mm, mm);
  csr_clear(mstatus, mm);
  check(38, csr_read(mstatus) & mm, 0);
  csr_write(mstatus, ms);

  /* trap-setup CSRs */
  u32 tv = csr_read(mtvec);
  csr_write(mtvec, (u32)(uptr)m_trap_table | 1);
  check(40, csr_read(mtvec), (u32)(uptr)m_trap_table | 1);
  csr_write(mtvec, tv);
  check(41, csr_read(mtvec), tv);
  csr_write(mepc, 0x80001236);
  check(42, csr_read(mepc), 0x80001236); /* IALIGN = 16: bit 1 is writable */
  csr_write(sepc, 0x80001232);
  check(43, csr_read(sepc), 0x80001232);
  csr_write(mepc, 0xffffffff);           /* spec: bit 0 reads 0; QEMU 7.2 keeps it */
  info("mepc-after-writing-ffffffff", csr_read(mepc));
  csr_write(mcause, 5);
  check(44, csr_read(mcause), 5);
  csr_write(mcause, 0x80000007);
  check(45, csr_read(mcause), 0x80000007);
  csr_write(mtval, 0xdeadbeef);
  check(46, csr_read(mtval), 0xdeadbeef);
  csr_write(scause, 0xd);
  check(47, csr_read(scause), 0xd);
  csr_write(stval, 0xcafe);
  check(48, csr_read(stval), 0xcafe);
  u32 saved_sscratch = csr_read(sscratch);
  csr_write(sscratch, 0xa5a5a5a5);
  check(49, csr_read(sscratch), 0xa5a5a5a5);
  csr_write(sscratch, saved_sscratch);
  csr_write(stvec, 0x80004000);
  check(50, csr_read(stvec), 0x80004000);
  csr_write(stvec, (u32)(uptr)s_trap_vector);

  /* delegation and interrupt enables */
  csr_write(mideleg, 0x222);
  check(60, csr_read(mideleg) & 0xaaa, 0x222); /* QEMU (H extension) forces VS bits on */
  info("mideleg", csr_read(mideleg));
  csr_write(medeleg, 1u << 8 | 1u << 12 | 1u << 13 | 1u << 15 | 1u << 3);
  check(61, csr_read(medeleg), 1u << 8 | 1u << 12 | 1u << 13 | 1u << 15 | 1u << 3);
  csr_write(medeleg, 0xffffffff);
  info("medeleg-all", csr_read(medeleg));
  csr_write(medeleg, 0);
  check(62, csr_read(medeleg), 0);
  csr_write(mie, 0xaaa);
  check(63, csr_read(mie), 0xaaa);
  check(64, csr_read(sie) & 0xaaa, 0x222);        /* sie = mie & mideleg */
  csr_write(sie, 0);
  check(65, csr_read(mie), 0x888);
  csr_write(mie, 0);
  csr_write(mideleg, 0);
  check(66, csr_read(sie) & 0xaaa, 0);
  csr_set(mip, 2);                        /* SSIP is writable from M */
  check(67, csr_read(mip) & 2, 2);
  csr_clear(mip, 2);
  check(68, csr_read(mip) & 2, 0);
  u32 mtip = csr_read(mip) & 0x80;
  csr_set(mip, 0x80);                     /* MTIP is read-only: writing it changes nothing */
  check(69, csr_read(mip) & 0x80, mtip);

  /* satp is writable from M */
  csr_write(satp, 0x80012345);
  check(70, csr_read(satp), 0x80012345);
  csr_write(satp, 0);
  check(71, csr_read(satp), 0);

  /* counters increase; minstret is writable */
  u32 c0 = rd_cycle(), i0 = rd_instret();
  for (volatile int k = 0; k < 100; k++) {}
  u32 c1 = rd_cycle(), i1 = rd_instret();
  check_true(80, c1 != c0);
  check_true(81, i1 - i0 >= 100);
  check(82, csr_read(mcycle) != 0, 1);
  u32 t0 = rd_time();
  for (volatile int k = 0; k < 2000; k++) {}
  check_true(85, rd_time() != t0);

  /* counter-enable gating from S and U */
  csr_write(mcounteren, 7);
  check(90, csr_read(mcounteren) & 7, 7);
  csr_write(scounteren, 5);
  check(91, csr_read(scounteren) & 7, 5);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
  check(92, illegal_in(PRV_S, do_cycle), 1);
  check(93, illegal_in(PRV_S, do_time), 1);
  check(94, illegal_in(PRV_S, do_instret), 1);
  csr_write(mcounteren, 7);
  check(95, illegal_in(PRV_S, do_cycle), 0);
  check(96, illegal_in(PRV_S, do_time), 0);
  check(97, illegal_in(PRV_S, do_instret), 0);
  check(98, illegal_in(PRV_U, do_cycle), 1);  /* scounteren = 0 */
  csr_write(scounteren, 1);
  check(99, illegal_in(PRV_U, do_cycle), 0);
  check(100, illegal_in(PRV_U, do_instret), 1);
  csr_write(mcounteren, 6);                   /* M clears CY: U is gated even with scounteren.CY */
  check(101, illegal_in(PRV_U, do_cycle), 1);
  csr_write(mcounteren, 0);
  csr_write(scounteren, 0);
  /* privilege checks on CSR numbers */
  check(110, illegal_in(PRV_S, do_mscratch), 1);
  check(111, illegal_in(PRV_S, do_sscratch), 0);
  check(112, illegal_in(PRV_U, do_sscratch), 1);
  check(113, illegal_in(PRV_S, do_satp), 0);
  check(114, illegal_in(PRV_U, do_satp), 1);
  return 0;
}
