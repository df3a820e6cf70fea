/* rv32a: LR/SC success and failure cases and every AMO (old value returned, memory updated). */
#include "rt.h"
const char *test_name = "rv32a";

static volatile u32 mem[2048] __attribute__((aligned(4096)));

#define AMO(op, addr, v) ({ u32 r_; __asm__ volatile(op " %0, %2, (%1)" : "=r"(r_) : "r"(addr), "r"((u32)(v)) : "memory"); r_; })

static void amo(u32 id, const char *op_unused, u32 old, u32 got, u32 want_mem) {
  (void)op_unused;
  check(id, got, old);
  check(id + 1, mem[0], want_mem);
}

int test_main(void) {
  volatile u32 *w = &mem[0];
  u32 v, sc;
  /* LR/SC success */
  *w = 100;
  __asm__ volatile("lr.w %0, (%2)\naddi %0, %0, 1\nsc.w %1, %0, (%2)" : "=&r"(v), "=&r"(sc) : "r"(w) : "memory");
  check(1, sc, 0);
  check(2, *w, 101);
  /* SC without a reservation fails and does not write */
  __asm__ volatile("sc.w %0, %1, (%2)" : "=&r"(sc) : "r"(555u), "r"(w) : "memory");
  check_true(3, sc != 0);
  check(4, *w, 101);
  /* a second SC after a successful one fails (the reservation is consumed) */
  __asm__ volatile("lr.w %0, (%3)\nsc.w %1, %0, (%3)\nsc.w %2, %0, (%3)" : "=&r"(v), "=&r"(sc), "=&r"(v) : "r"(w) : "memory");
  check(5, sc, 0);
  check_true(6, v != 0);
  /* SC to an address other than the reserved one (another page) fails */
  volatile u32 *other = &mem[1024];
  *other = 7;
  __asm__ volatile("lr.w %0, (%2)\nsc.w %1, %0, (%3)" : "=&r"(v), "=&r"(sc) : "r"(w), "r"(other) : "memory");
  check_true(7, sc != 0);
  check(8, *other, 7);
  /* LR.aq / SC.rl forms */
  *w = 5;
  __asm__ volatile("lr.w.aq %0, (%2)\nslli %0, %0, 1\nsc.w.rl %1, %0, (%2)" : "=&r"(v), "=&r"(sc) : "r"(w) : "memory");
  check(9, sc, 0);
  check(10, *w, 10);
  /* a retry loop (the usual CAS idiom) */
  *w = 41;
  __asm__ volatile("1: lr.w.aqrl %0, (%2)\naddi %0, %0, 1\nsc.w.aqrl %1, %0, (%2)\nbnez %1, 1b" : "=&r"(v), "=&r"(sc) : "r"(w) : "memory");
  check(11, *w, 42);
  /* AMOs */
  *w = 10;          amo(20, "swap", 10, AMO("amoswap.w", w, 0xdeadbeef), 0xdeadbeef);
  *w = 10;          amo(22, "add", 10, AMO("amoadd.w", w, 0xffffffff), 9);
  *w = 0xff00ff00;  amo(24, "xor", 0xff00ff00, AMO("amoxor.w", w, 0x0ff00ff0), 0xf0f0f0f0);
  *w = 0xff00ff00;  amo(26, "and", 0xff00ff00, AMO("amoand.w", w, 0x0ff00ff0), 0x0f000f00);
  *w = 0xff00ff00;  amo(28, "or", 0xff00ff00, AMO("amoor.w", w, 0x0ff00ff0), 0xfff0fff0);
  *w = 0xffffffff;  amo(30, "min", 0xffffffff, AMO("amomin.w", w, 1), 0xffffffff);
  *w = 0xffffffff;  amo(32, "minu", 0xffffffff, AMO("amominu.w", w, 1), 1);
  *w = 0x80000000;  amo(34, "max", 0x80000000, AMO("amomax.w", w, 0x7fffffff), 0x7fffffff);
  *w = 0x80000000;  amo(36, "maxu", 0x80000000, AMO("amomaxu.w", w, 0x7fffffff), 0x80000000);
  *w = 3;           amo(38, "min2", 3, AMO("amomin.w", w, 0x80000000), 0x80000000);
  *w = 3;           amo(40, "max2", 3, AMO("amomax.w.aqrl", w, 0xfffffffe), 3);
  *w = 3;           amo(42, "maxu2", 3, AMO("amomaxu.w.aq", w, 0xfffffffe), 0xfffffffe);
  *w = 3;           amo(44, "minu2", 3, AMO("amominu.w.rl", w, 0xfffffffe), 3);
  /* rd = x0: memory still updated */
  *w = 1;
  __asm__ volatile("amoadd.w x0, %1, (%0)" :: "r"(w), "r"(2u) : "memory");
  check(50, *w, 3);
  /* an AMO to the reserved word breaks the reservation? (implementation-defined: not checked) */
  return 0;
}
