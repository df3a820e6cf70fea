/* replayvm bare-metal runtime: UART, finisher, checks, default trap handlers. */
#include "rt.h"

u32 hart_id, dtb_addr, failures;
volatile u32 trap_expect, trap_count, trap_cause, trap_tval, trap_epc, trap_mpp, vector_hit;
volatile u32 strap_count, strap_cause, strap_tval, strap_epc, strap_spp;
int (*m_hook)(struct frame *f, u32 cause);
int (*s_hook)(struct frame *f, u32 cause);

void putc(char c) {
  while ((REG8(UART0 + 5) & 0x20) == 0) {}
  REG8(UART0) = (u8)c;
}
void puts(const char *s) { while (*s) putc(*s++); }
void println(const char *s) { puts(s); putc('\n'); }
void put_hex(u32 v) {
  puts("0x");
  for (int i = 28; i >= 0; i -= 4) putc("0123456789abcdef"[(v >> i) & 15]);
}
void put_dec(u32 v) {
  char b[12];
  int n = 0;
  do { u32 q = v / 10u; b[n++] = (char)('0' + (v - q * 10u)); v = q; } while (v);
  while (n) putc(b[--n]);
}
void put_sdec(i32 v) {
  if (v < 0) { putc('-'); put_dec((u32)0 - (u32)v); } else put_dec((u32)v);
}
void finish_pass(void) {
  REG32(FINISHER) = 0x5555;
  for (;;) __asm__ volatile("wfi");
}
void finish_fail(u32 code) {
  REG32(FINISHER) = (code << 16) | 0x3333;
  for (;;) __asm__ volatile("wfi");
}
void check(u32 id, u32 got, u32 want) {
  if (got == want) return;
  failures++;
  puts("FAIL "); puts(test_name); puts(" case "); put_dec(id);
  puts(" got "); put_hex(got); puts(" want "); put_hex(want); putc('\n');
}
void check_true(u32 id, int cond) { check(id, cond ? 1 : 0, 1); }
void info(const char *label, u32 v) {
  puts("INFO* "); puts(label); putc(' '); put_hex(v); putc('\n');
}
void trap_reset(void) {
  trap_expect = 1; trap_count = 0; trap_cause = 0xffffffffu; trap_tval = 0; trap_epc = 0; trap_mpp = 0;
  strap_count = 0; strap_cause = 0xffffffffu; strap_tval = 0; strap_epc = 0; strap_spp = 0;
}

static u32 insn_len(u32 epc) { return (*(volatile u16 *)(uptr)epc & 3) == 3 ? 4 : 2; }

u32 m_trap_c(struct frame *f) {
  u32 cause = csr_read(mcause);
  u32 epc = csr_read(mepc);
  u32 st = csr_read(mstatus);
  if ((cause == 8 || cause == 9) && f->x[17] == 0x4d4d4d4du) { /* enter_m */
    csr_set(mstatus, MSTATUS_MPP);
    csr_write(mepc, epc + 4);
    return 0;
  }
  if (m_hook && m_hook(f, cause)) return 0;
  if (trap_expect) {
    trap_count++; trap_cause = cause; trap_tval = csr_read(mtval); trap_epc = epc;
    trap_mpp = (st >> 11) & 3;
    if (cause & 0x80000000u) {
      u32 irq = cause & 31; /* disable the source so the test makes progress */
      csr_clear(mie, 1u << irq);
      return 0;
    }
    if (cause == 1 || cause == 12) csr_write(mepc, f->x[1]);
    else csr_write(mepc, epc + insn_len(epc));
    return 0;
  }
  puts("FAIL "); puts(test_name); puts(" unexpected M trap mcause "); put_hex(cause);
  puts(" mepc "); put_hex(epc); puts(" mtval "); put_hex(csr_read(mtval)); putc('\n');
  finish_fail(2);
}

u32 s_trap_c(struct frame *f) {
  u32 cause = csr_read(scause);
  u32 epc = csr_read(sepc);
  if (cause == 8 && f->x[17] == 0x4d4d4d4du) { /* enter_m from U, delegated: continue in S */
    csr_set(sstatus, MSTATUS_SPP);
    csr_write(sepc, epc + 4);
    f->x[10] = 1;
    return 0;
  }
  if (s_hook && s_hook(f, cause)) return 0;
  if (trap_expect) {
    strap_count++; strap_cause = cause; strap_tval = csr_read(stval); strap_epc = epc;
    strap_spp = (csr_read(sstatus) >> 8) & 1;
    if (cause & 0x80000000u) {
      csr_clear(sie, 1u << (cause & 31));
      return 0;
    }
    if (cause == 1 || cause == 12) csr_write(sepc, f->x[1]);
    else csr_write(sepc, epc + insn_len(epc));
    return 0;
  }
  puts("FAIL "); puts(test_name); puts(" unexpected S trap scause "); put_hex(cause);
  puts(" sepc "); put_hex(epc); puts(" stval "); put_hex(csr_read(stval)); putc('\n');
  finish_fail(2);
}

void runtime_main(u32 hartid, u32 dtb) __attribute__((noreturn));
void runtime_main(u32 hartid, u32 dtb) {
  hart_id = hartid;
  dtb_addr = dtb;
  /* PMP entry 0 = NAPOT over the whole address space, RWX: S and U may access everything
   * (with PMP implemented and no matching entry, S/U accesses fail). */
  csr_write(pmpaddr0, 0xffffffffu);
  csr_write(pmpcfg0, 0x1f);
  csr_write(stvec, (u32)(uptr)s_trap_vector);
  int r = test_main();
  if (r == 0 && failures == 0) {
    puts("PASS "); println(test_name);
    finish_pass();
  }
  puts("FAIL "); puts(test_name); puts(" failures "); put_dec(failures); putc('\n');
  finish_fail(1);
}
