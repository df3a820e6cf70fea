/* rv32m: mul/mulh/mulhsu/mulhu/div/divu/rem/remu with sign and overflow edge cases. */
#include "rt.h"
const char *test_name = "rv32m";
#define RR(op, a, b) ({ u32 r_; __asm__ volatile(op " %0, %1, %2" : "=r"(r_) : "r"((u32)(a)), "r"((u32)(b))); r_; })

int test_main(void) {
  check(1, RR("mul", 6, 7), 42);
  check(2, RR("mul", 0x80000000, 0xffffffff), 0x80000000);
  check(3, RR("mul", 0xfffffff9, 3), 0xffffffeb);
  check(4, RR("mul", 0x12345678, 0x9abcdef0), 0x242d2080);
  check(10, RR("mulh", 0xffffffff, 0xffffffff), 0);
  check(11, RR("mulh", 0x80000000, 0x80000000), 0x40000000);
  check(12, RR("mulh", 0x80000000, 0x7fffffff), 0xc0000000);
  check(13, RR("mulh", 0xfffffff9, 3), 0xffffffff);
  check(14, RR("mulh", 0x7fffffff, 0x7fffffff), 0x3fffffff);
  check(20, RR("mulhu", 0xffffffff, 0xffffffff), 0xfffffffe);
  check(21, RR("mulhu", 0x80000000, 2), 1);
  check(22, RR("mulhu", 0x12345678, 0x9abcdef0), 0x0b00ea4e);
  check(30, RR("mulhsu", 0xffffffff, 0xffffffff), 0xffffffff);
  check(31, RR("mulhsu", 0x80000000, 0xffffffff), 0x80000000);
  check(32, RR("mulhsu", 0x7fffffff, 0xffffffff), 0x7ffffffe);
  check(33, RR("mulhsu", 2, 0x80000000), 1);
  check(40, RR("div", 0xfffffff9, 2), 0xfffffffd);   /* -7 / 2 = -3 (toward zero) */
  check(41, RR("div", 7, 0xfffffffe), 0xfffffffd);
  check(42, RR("div", 0x80000000, 0xffffffff), 0x80000000); /* overflow */
  check(43, RR("div", 1234, 0), 0xffffffff);
  check(44, RR("div", 0x80000000, 0), 0xffffffff);
  check(50, RR("divu", 0x80000000, 3), 0x2aaaaaaa);
  check(51, RR("divu", 1234, 0), 0xffffffff);
  check(52, RR("divu", 0xffffffff, 1), 0xffffffff);
  check(60, RR("rem", 0xfffffff9, 2), 0xffffffff);   /* -7 % 2 = -1 */
  check(61, RR("rem", 7, 0xfffffffe), 1);
  check(62, RR("rem", 0x80000000, 0xffffffff), 0);
  check(63, RR("rem", 1234, 0), 1234);
  check(64, RR("rem", 0xfffffff9, 0), 0xfffffff9);
  check(70, RR("remu", 0x80000000, 3), 2);
  check(71, RR("remu", 1234, 0), 1234);
  check(72, RR("remu", 0xffffffff, 0x10), 0xf);
  u32 r;
  __asm__ volatile("mul x0, %1, %1\nmv %0, x0" : "=r"(r) : "r"(5u));
  check(80, r, 0);
  return 0;
}
