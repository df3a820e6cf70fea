/* vm: Sv32 translation built here: 4 KiB pages, superpages, A/D updates, page faults 12/13/15
 * with the faulting address, SUM, MXR, sfence.vma, MPRV, delegation of page faults to S. */
#include "rt.h"
const char *test_name = "vm";

#define V 1u
#define R 2u
#define W 4u
#define X 8u
#define U 16u
#define G 32u
#define A 64u
#define D 128u
#define PTE(pa, fl) ((((u32)(pa)) >> 12) << 10 | (fl))

static u32 *root, *l2;
static u32 pg[6];     /* physical data pages */
static u32 satp_val;

static void zero_page(u32 pa) { for (int i = 0; i < 1024; i++) ((volatile u32 *)(uptr)pa)[i] = 0; }
static void map4k(u32 va, u32 pa, u32 fl) { l2[(va >> 12) & 1023] = PTE(pa, fl); }

static u32 ld(u32 va) { u32 v; __asm__ volatile("lw %0, 0(%1)" : "=r"(v) : "r"(va) : "memory"); return v; }
static void st(u32 va, u32 v) { __asm__ volatile("sw %0, 0(%1)" :: "r"(v), "r"(va) : "memory"); }
static void sfence(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
static void vm_on(void) { enter_mode(PRV_S); csr_write(satp, satp_val); sfence(); }
static void vm_off(void) { csr_write(satp, 0); sfence(); enter_m(); }

#define VA_PAGE 0x40000000u  /* 4 KiB pages via l2 */
#define VA_SUPER 0x40400000u /* a 4 MiB superpage */
#define VA_BADSUPER 0x40800000u

int test_main(void) {
  u32 free = ((u32)(uptr)__free_mem + 4095) & ~4095u;
  root = (u32 *)(uptr)free;
  l2 = (u32 *)(uptr)(free + 0x1000);
  for (int i = 0; i < 6; i++) pg[i] = free + 0x2000 + 0x1000 * (u32)i;
  for (int i = 0; i < 8; i++) zero_page(free + 0x1000 * (u32)i);
  /* identity superpages for RAM (code, data, stacks, tables) and the UART; global, S only */
  for (u32 i = 0; i < 4; i++) root[(0x80000000u >> 22) + i] = PTE(0x80000000u + (i << 22), V | R | W | X | A | D | G);
  root[0x10000000u >> 22] = PTE(0x10000000u, V | R | W | A | D);
  root[VA_PAGE >> 22] = PTE((u32)(uptr)l2, V);
  root[VA_SUPER >> 22] = PTE(0x80800000u, V | R | W | A | D);
  root[VA_BADSUPER >> 22] = PTE(0x80801000u, V | R | W | A | D); /* misaligned superpage */
  map4k(VA_PAGE + 0x0000, pg[0], V | R | W | A | D);
  map4k(VA_PAGE + 0x1000, pg[1], V | R | A);          /* read-only */
  map4k(VA_PAGE + 0x2000, pg[2], V | R | W);          /* A = D = 0 */
  map4k(VA_PAGE + 0x3000, pg[3], V | R | W | U | A | D); /* user page */
  map4k(VA_PAGE + 0x4000, pg[4], V | X | A);          /* execute-only */
  map4k(VA_PAGE + 0x5000, pg[5], 0);                  /* invalid */
  satp_val = 0x80000000u | (free >> 12);
  ((volatile u32 *)(uptr)pg[0])[1] = 0x11111111;
  ((volatile u32 *)(uptr)pg[1])[0] = 0x22222222;
  ((volatile u32 *)(uptr)pg[3])[0] = 0x33333333;
  ((volatile u32 *)(uptr)pg[4])[0] = 0x00008067;      /* ret (jalr x0, 0(ra)) */
  ((volatile u32 *)(uptr)pg[5])[0] = 0x55555555;

  /* translation, 4 KiB pages and superpages */
  trap_reset();
  vm_on();
  u32 r1 = ld(VA_PAGE + 4);
  st(VA_PAGE + 8, 0xabcdef01);
  u32 r2 = ld(VA_PAGE + 0x1000);
  st(VA_SUPER + 0x1234, 0x5a5a5a5a);
  u32 r3 = ld(0x80000000u + ((u32)(uptr)&satp_val - 0x80000000u)); /* identity still works */
  vm_off();
  check(1, r1, 0x11111111);
  check(2, ((volatile u32 *)(uptr)pg[0])[2], 0xabcdef01);
  check(3, r2, 0x22222222);
  check(4, *(volatile u32 *)(uptr)(0x80801234u), 0x5a5a5a5a);
  check(5, r3, satp_val);
  check(6, trap_count, 0);

  /* page faults with stval/mtval = the virtual address */
  trap_reset();
  vm_on(); (void)ld(VA_PAGE + 0x5010); vm_off();
  check(10, trap_cause, 13); check(11, trap_tval, VA_PAGE + 0x5010);
  trap_reset();
  vm_on(); st(VA_PAGE + 0x5020, 1); vm_off();
  check(12, trap_cause, 15); check(13, trap_tval, VA_PAGE + 0x5020);
  trap_reset();
  vm_on(); st(VA_PAGE + 0x1008, 1); vm_off();               /* store to a read-only page */
  check(14, trap_cause, 15); check(15, trap_tval, VA_PAGE + 0x1008);
  check(16, ((volatile u32 *)(uptr)pg[1])[2], 0);
  trap_reset();
  vm_on(); ((void (*)(void))(uptr)(VA_PAGE + 0x0000))(); vm_off(); /* fetch from a non-X page */
  check(17, trap_cause, 12); check(18, trap_tval, VA_PAGE);
  trap_reset();
  vm_on(); (void)ld(VA_BADSUPER + 0x10); vm_off();
  check(19, trap_cause, 13); check(20, trap_tval, VA_BADSUPER + 0x10);
  trap_reset();
  vm_on(); (void)ld(0x00400000u); vm_off();                 /* nothing mapped at all */
  check(21, trap_cause, 13); check(22, trap_tval, 0x00400000u);

  /* execute-only page: runnable; loads need MXR */
  trap_reset();
  vm_on();
  ((void (*)(void))(uptr)(VA_PAGE + 0x4000))();
  u32 c0 = trap_count;
  (void)ld(VA_PAGE + 0x4000);
  csr_set(sstatus, MSTATUS_MXR);
  u32 xr = ld(VA_PAGE + 0x4000);
  csr_clear(sstatus, MSTATUS_MXR);
  vm_off();
  check(30, c0, 0);
  check(31, trap_count, 1); check(32, trap_cause, 13);
  check(33, xr, 0x00008067);

  /* SUM: S may touch U pages only with SUM, and never execute them */
  trap_reset();
  vm_on();
  (void)ld(VA_PAGE + 0x3000);
  u32 c1 = trap_count;
  csr_set(sstatus, MSTATUS_SUM);
  u32 ur = ld(VA_PAGE + 0x3000);
  st(VA_PAGE + 0x3004, 0x77);
  u32 c2 = trap_count;
  ((void (*)(void))(uptr)(VA_PAGE + 0x3000))();
  csr_clear(sstatus, MSTATUS_SUM);
  vm_off();
  check(40, c1, 1); check(41, c2, 1); check(42, ur, 0x33333333);
  check(43, ((volatile u32 *)(uptr)pg[3])[1], 0x77);
  check(44, trap_count, 2); check(45, trap_cause, 12);

  /* A/D: hardware sets A on access and D on write (or raises a page fault: spec option) */
  trap_reset();
  vm_on(); (void)ld(VA_PAGE + 0x2000); vm_off();
  if (trap_count) check(50, trap_cause, 13);
  else check(50, l2[2] & (A | D), A);
  trap_reset();
  vm_on(); st(VA_PAGE + 0x2000, 9); vm_off();
  if (trap_count) check(51, trap_cause, 15);
  else check(51, l2[2] & (A | D), A | D);
  l2[2] = PTE(pg[2], V | R | W);
  trap_reset();
  vm_on(); st(VA_SUPER, 1); vm_off();
  check(52, trap_count, 0);

  /* sfence.vma makes a changed mapping visible */
  vm_on();
  u32 before = ld(VA_PAGE + 4);
  map4k(VA_PAGE, pg[5], V | R | W | A | D);
  sfence();
  u32 after = ld(VA_PAGE);
  map4k(VA_PAGE, pg[0], V | R | W | A | D);
  __asm__ volatile("sfence.vma %0, zero" :: "r"(VA_PAGE) : "memory");
  u32 again = ld(VA_PAGE + 4);
  vm_off();
  check(60, before, 0x11111111); check(61, after, 0x55555555); check(62, again, 0x11111111);

  /* MPRV: M-mode loads and stores translated with MPP = S */
  csr_write(satp, satp_val);
  sfence();
  csr_clear(mstatus, MSTATUS_MPP);
  csr_set(mstatus, 1u << 11);
  csr_set(mstatus, MSTATUS_MPRV);
  u32 mp = ld(VA_PAGE + 4);
  st(VA_PAGE + 12, 0x600d);
  csr_clear(mstatus, MSTATUS_MPRV);
  csr_write(satp, 0);
  sfence();
  check(70, mp, 0x11111111);
  check(71, ((volatile u32 *)(uptr)pg[0])[3], 0x600d);
  /* satp is ignored in M without MPRV */
  csr_write(satp, satp_val);
  check(72, *(volatile u32 *)(uptr)pg[1], 0x22222222);
  csr_write(satp, 0);

  /* page faults delegated to S */
  csr_write(medeleg, (1u << 12) | (1u << 13) | (1u << 15));
  trap_reset();
  vm_on(); (void)ld(VA_PAGE + 0x5044); st(VA_PAGE + 0x1000, 3); vm_off();
  csr_write(medeleg, 0);
  check(80, strap_count, 2); check(81, strap_cause, 15); check(82, strap_tval, VA_PAGE + 0x1000);
  check(83, trap_count, 0);
  trap_expect = 0;
  return 0;
}
