/* rv32c: compressed instruction decodes, each checked by its result (see rv32c.S). */
#include "rt.h"
const char *test_name = "rv32c";
typedef u32 (*fn2)(u32, u32);
u32 c_li(u32, u32), c_lui(u32, u32), c_addi(u32, u32), c_addi16sp(u32, u32), c_addi4spn(u32, u32),
    c_slli(u32, u32), c_srli(u32, u32), c_srai(u32, u32), c_andi(u32, u32), c_mv(u32, u32),
    c_add(u32, u32), c_sub(u32, u32), c_xor(u32, u32), c_or(u32, u32), c_and(u32, u32),
    c_lwsw(u32, u32), c_lwspswsp(u32, u32), c_jmp(u32, u32), c_jal_t(u32, u32), c_jalr_t(u32, u32),
    c_br(u32, u32), c_nop(u32, u32), c_mixed(u32, u32), c_ebreak(u32, u32);
static volatile u32 area[64];

int test_main(void) {
  check(1, c_li(0, 0), 0xffffffe0);
  check(2, c_lui(0, 0), 0xfffe1000);
  check(3, c_addi(0, 0), 0xffffffff);
  check(4, c_addi16sp(0, 0), 64);
  check(5, c_addi4spn(0, 0), 1020);
  check(6, c_slli(3, 0), 0x80000000);
  check(7, c_srli(0x80000000, 0), 1);
  check(8, c_srai(0x80000000, 0), 0xf8000000);
  check(9, c_andi(0xffffffff, 0), 0xfffffffe);
  check(10, c_mv(1, 0x1234), 0x1234);
  check(11, c_add(0xffffffff, 2), 1);
  check(12, c_sub(1, 2), 0xffffffff);
  check(13, c_xor(0xff00, 0x0ff0), 0xf0f0);
  check(14, c_or(0xff00, 0x0ff0), 0xfff0);
  check(15, c_and(0xff00, 0x0ff0), 0x0f00);
  check(16, c_lwsw((u32)(uptr)area, 0xcafebabe), 0xcafebabe);
  check(17, area[31], 0xcafebabe);
  check(18, c_lwspswsp(0x13579bdf, 0), 0x13579bdf);
  check(19, c_jmp(0, 0), 3);
  check(20, c_jal_t(0, 0), 0);
  check(21, c_jalr_t(0, 0), 0);
  check(22, c_br(0, 0), 1);
  check(23, c_br(5, 0), 2);
  check(24, c_nop(77, 0), 77);
  check(25, c_mixed(1, 0), 102);
  trap_reset();
  check(26, c_ebreak(0, 0), 9);
  check(27, trap_cause, 3);
  check(28, trap_count, 1);
  trap_expect = 0;
  /* the encodings are really 16-bit: c_li is 2 halfwords (c.li, c.jr) */
  check(29, ((volatile u16 *)(uptr)c_li)[0] & 3, 1);
  check(30, ((volatile u16 *)(uptr)c_li)[1], 0x8082);
  return 0;
}
