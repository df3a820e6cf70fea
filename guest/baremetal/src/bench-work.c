/* bench: a fixed compute workload (CRC32 over a buffer, insertion sort, integer matrix multiply),
 * ROUNDS rounds, about 400 million instructions for the default ROUNDS; prints a checksum that
 * both VMs must agree on, then powers off with pass. */
#include "rt.h"
const char *test_name = "bench";
#ifndef ROUNDS
#define ROUNDS 3300
#endif
#define BUF 4096
#define NSORT 200
#define MAT 12

static u32 crc_table[256];
static u8 buf[BUF];
static i32 arr[NSORT];
static i32 ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static void crc_init(void) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}
static u32 crc32(const u8 *p, u32 n) {
  u32 c = 0xffffffffu;
  for (u32 i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return ~c;
}
static u32 xorshift(u32 *s) { u32 x = *s; x ^= x << 13; x ^= x >> 17; x ^= x << 5; *s = x; return x; }
static void insertion_sort(i32 *a, int n) {
  for (int i = 1; i < n; i++) {
    i32 v = a[i];
    int j = i - 1;
    while (j >= 0 && a[j] > v) { a[j + 1] = a[j]; j--; }
    a[j + 1] = v;
  }
}
static void matmul(void) {
  for (int i = 0; i < MAT; i++)
    for (int j = 0; j < MAT; j++) {
      i32 s = 0;
      for (int k = 0; k < MAT; k++) s += ma[i][k] * mb[k][j];
      mc[i][j] = s;
    }
}

int test_main(void) {
  crc_init();
  u32 seed = 0x12345678u, sum = 0;
  for (u32 i = 0; i < BUF; i++) buf[i] = (u8)xorshift(&seed);
  for (u32 r = 0; r < ROUNDS; r++) {
    u32 c = crc32(buf, BUF);
    buf[r % BUF] ^= (u8)c;
    for (int i = 0; i < NSORT; i++) arr[i] = (i32)xorshift(&seed);
    insertion_sort(arr, NSORT);
    for (int i = 0; i < MAT; i++)
      for (int j = 0; j < MAT; j++) { ma[i][j] = (i32)(xorshift(&seed) & 0xffff) - 0x8000; mb[i][j] = (i32)(c >> (j & 15)) - (i32)i; }
    matmul();
    u32 m = 0;
    for (int i = 0; i < MAT; i++) m = m * 31u + (u32)mc[i][i] + (u32)mc[i][MAT - 1 - i];
    sum = (sum ^ c) * 0x01000193u + (u32)arr[0] + (u32)arr[NSORT / 2] + (u32)arr[NSORT - 1] + m;
  }
  puts("bench rounds "); put_dec(ROUNDS); putc('\n');
  puts("bench checksum "); put_hex(sum); putc('\n');
  return 0;
}
