/* demo: the `npm start` banner: hart id, misa decoded, first primes and Fibonacci numbers. */
#include "rt.h"
const char *test_name = "demo";

int test_main(void) {
  println("replayvm bare-metal demo");
  puts("hart "); put_dec(hart_id); putc('\n');
  u32 misa = csr_read(misa);
  char isa[40];
  int n = 0;
  isa[n++] = 'R'; isa[n++] = 'V';
  u32 mxl = misa >> 30;
  if (mxl == 1) { isa[n++] = '3'; isa[n++] = '2'; } else { isa[n++] = '6'; isa[n++] = '4'; }
  for (int i = 0; i < 26; i++) if (misa & (1u << i)) isa[n++] = (char)('A' + i);
  isa[n] = 0;
  puts("INFO* misa "); puts(isa); putc('\n');
  puts("primes:");
  u32 found = 0;
  for (u32 c = 2; found < 12; c++) {
    int prime = 1;
    for (u32 d = 2; d * d <= c; d++) if (c % d == 0) { prime = 0; break; }
    if (prime) { putc(' '); put_dec(c); found++; }
  }
  putc('\n');
  puts("fibonacci:");
  u32 a = 0, b = 1;
  for (int i = 0; i < 15; i++) { putc(' '); put_dec(a); u32 t = a + b; a = b; b = t; }
  putc('\n');
  println("bye");
  return 0;
}
