/* rv32i: every RV32I instruction with edge cases (sign extension, shifts by 31, signed and
 * unsigned compares, branches taken and not taken, jalr clearing bit 0, x0 writes ignored). */
#include "rt.h"
const char *test_name = "rv32i";

#define RR(op, a, b) ({ u32 r_; __asm__ volatile(op " %0, %1, %2" : "=r"(r_) : "r"((u32)(a)), "r"((u32)(b))); r_; })
#define RI(op, a, imm) ({ u32 r_; __asm__ volatile(op " %0, %1, " #imm : "=r"(r_) : "r"((u32)(a))); r_; })
#define BR(op, a, b) ({ u32 t_; __asm__ volatile(".option push\n.option norvc\nli %0, 1\n" op " %1, %2, 1f\nli %0, 0\n1:\n.option pop" \
                         : "=&r"(t_) : "r"((u32)(a)), "r"((u32)(b))); t_; })
#define LD(op, p, off) ({ u32 r_; __asm__ volatile(op " %0, " #off "(%1)" : "=r"(r_) : "r"(p) : "memory"); r_; })

static volatile u8 buf[16] __attribute__((aligned(16))) = {0x80, 0x7f, 0xff, 0x01, 0x34, 0x12, 0x00, 0x80,
                                                           0xef, 0xbe, 0xad, 0xde, 0, 0, 0, 0};

int test_main(void) {
  /* register-register arithmetic */
  check(1, RR("add", 0x7fffffff, 1), 0x80000000);
  check(2, RR("add", 0xffffffff, 1), 0);
  check(3, RR("sub", 0, 1), 0xffffffff);
  check(4, RR("sub", 0x80000000, 1), 0x7fffffff);
  check(5, RR("and", 0xff00ff00, 0x0ff00ff0), 0x0f000f00);
  check(6, RR("or", 0xff00ff00, 0x0ff00ff0), 0xfff0fff0);
  check(7, RR("xor", 0xff00ff00, 0x0ff00ff0), 0xf0f0f0f0);
  check(8, RR("sll", 1, 31), 0x80000000);
  check(9, RR("sll", 1, 32), 1);          /* only the low 5 bits of rs2 count */
  check(10, RR("sll", 3, 0xffffffe1), 6);
  check(11, RR("srl", 0x80000000, 31), 1);
  check(12, RR("srl", 0x80000000, 0), 0x80000000);
  check(13, RR("sra", 0x80000000, 31), 0xffffffff);
  check(14, RR("sra", 0x40000000, 30), 1);
  check(15, RR("sra", 0x80000000, 33), 0xc0000000);
  check(16, RR("slt", 0xffffffff, 0), 1);
  check(17, RR("slt", 0, 0xffffffff), 0);
  check(18, RR("slt", 0x80000000, 0x7fffffff), 1);
  check(19, RR("sltu", 0xffffffff, 0), 0);
  check(20, RR("sltu", 0, 0xffffffff), 1);
  check(21, RR("slt", 5, 5), 0);
  /* immediates */
  check(30, RI("addi", 0, -1), 0xffffffff);
  check(31, RI("addi", 0x7fffffff, 1), 0x80000000);
  check(32, RI("addi", 5, -2048), 0xfffff805);
  check(33, RI("addi", 5, 2047), 2052);
  check(34, RI("andi", 0xffffffff, -16), 0xfffffff0);
  check(35, RI("andi", 0x12345678, 0x0ff), 0x78);
  check(36, RI("ori", 0x10000000, -2048), 0xfffff800);
  check(37, RI("xori", 0x0000ffff, -1), 0xffff0000);
  check(38, RI("slli", 1, 31), 0x80000000);
  check(39, RI("srli", 0xffffffff, 31), 1);
  check(40, RI("srai", 0x80000000, 31), 0xffffffff);
  check(41, RI("srai", 0x7fffffff, 31), 0);
  check(42, RI("slti", 0xffffffff, 0), 1);
  check(43, RI("slti", 0, -1), 0);
  check(44, RI("sltiu", 0, -1), 1);       /* -1 sign-extends to 0xffffffff, compared unsigned */
  check(45, RI("sltiu", 0xfffffffe, -1), 1);
  check(46, RI("sltiu", 0xffffffff, -1), 0);
  u32 r;
  __asm__ volatile("lui %0, 0xfffff" : "=r"(r)); check(50, r, 0xfffff000);
  __asm__ volatile("lui %0, 0x80000" : "=r"(r)); check(51, r, 0x80000000);
  u32 a1, a2;
  __asm__ volatile(".option push\n.option norvc\n1: auipc %0, 0\nla %1, 1b\n.option pop" : "=r"(a1), "=r"(a2));
  check(52, a1, a2);
  __asm__ volatile(".option push\n.option norvc\n1: auipc %0, 0x1\nla %1, 1b\n.option pop" : "=r"(a1), "=r"(a2));
  check(53, a1 - a2, 0x1000);
  /* loads: sign and zero extension */
  const volatile u8 *p = buf;
  check(60, LD("lb", p, 0), 0xffffff80);
  check(61, LD("lb", p, 1), 0x7f);
  check(62, LD("lbu", p, 0), 0x80);
  check(63, LD("lbu", p, 2), 0xff);
  check(64, LD("lh", p, 6), 0xffff8000);
  check(65, LD("lh", p, 4), 0x1234);
  check(66, LD("lhu", p, 6), 0x8000);
  check(67, LD("lw", p, 8), 0xdeadbeef);
  check(68, LD("lw", p + 12, -12), 0x01ff7f80);
  /* stores */
  volatile u8 *q = buf + 12;
  __asm__ volatile("sw %0, 0(%1)" :: "r"(0x11223344u), "r"(q) : "memory");
  __asm__ volatile("sb %0, 1(%1)" :: "r"(0xaabbccddu), "r"(q) : "memory");
  check(70, LD("lw", q, 0), 0x1122dd44);
  __asm__ volatile("sh %0, 2(%1)" :: "r"(0xaabbccddu), "r"(q) : "memory");
  check(71, LD("lw", q, 0), 0xccdddd44);
  __asm__ volatile("sw %0, -4(%1)" :: "r"(0xcafef00du), "r"(q + 4) : "memory");
  check(72, LD("lw", q, 0), 0xcafef00d);
  /* branches both ways */
  check(80, BR("beq", 1, 1), 1);  check(81, BR("beq", 1, 2), 0);
  check(82, BR("bne", 1, 2), 1);  check(83, BR("bne", 3, 3), 0);
  check(84, BR("blt", 0xffffffff, 0), 1); check(85, BR("blt", 0, 0xffffffff), 0);
  check(86, BR("bge", 0, 0xffffffff), 1); check(87, BR("bge", 0x80000000, 0), 0);
  check(88, BR("bge", 7, 7), 1);
  check(89, BR("bltu", 0, 0xffffffff), 1); check(90, BR("bltu", 0xffffffff, 0), 0);
  check(91, BR("bgeu", 0xffffffff, 0), 1); check(92, BR("bgeu", 0, 0xffffffff), 0);
  check(93, BR("bgeu", 9, 9), 1);
  /* backward branch loop */
  u32 cnt;
  __asm__ volatile("li %0, 0\nli t0, 10\n1: addi %0, %0, 1\naddi t0, t0, -1\nbnez t0, 1b" : "=&r"(cnt) :: "t0");
  check(94, cnt, 10);
  /* jal links pc+4 */
  u32 link, lab;
  __asm__ volatile(".option push\n.option norvc\nla %1, 1f\njal %0, 2f\n1: nop\n2:\n.option pop" : "=r"(link), "=&r"(lab));
  check(100, link, lab);
  /* jalr with an odd target: bit 0 is cleared */
  u32 skipped, tgt, l2, here;
  __asm__ volatile(".option push\n.option norvc\nli %1, 0\nla %0, 2f\naddi %0, %0, 1\n1: jalr %2, 0(%0)\nli %1, 1\n2: la %3, 1b\n.option pop"
                   : "=&r"(tgt), "=&r"(skipped), "=&r"(l2), "=&r"(here));
  check(101, skipped, 0);
  check(102, l2 - here, 4);
  /* jalr with rd == rs1 and a negative offset */
  u32 rr;
  __asm__ volatile(".option push\n.option norvc\nla %0, 2f\naddi %0, %0, 8\n1: jalr %0, -8(%0)\nnop\n2: la t0, 1b\nsub %0, %0, t0\n.option pop" : "=&r"(rr) :: "t0");
  check(103, rr, 4);
  /* x0 is hard-wired to zero */
  __asm__ volatile("addi x0, x0, 5\nlui x0, 0x12345\nlw x0, 0(%1)\nmv %0, x0" : "=r"(r) : "r"(buf) : "memory");
  check(110, r, 0);
  __asm__ volatile("jal x0, 1f\n1: add %0, x0, x0" : "=r"(r));
  check(111, r, 0);
  /* fence / fence.i are accepted */
  __asm__ volatile("fence\nfence rw, rw\nfence.i" ::: "memory");
  /* self-modifying code after fence.i: patch an addi immediate */
  return 0;
}
