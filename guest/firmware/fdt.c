/*
 * replayvm-sbi: the little device-tree work the firmware needs (flattened device tree v17,
 * big-endian): which harts exist, whether they have Sstc, and a /memreserve/ entry so Linux
 * leaves the firmware's RAM alone.
 */
#include "firmware.h"

#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

/* Header word offsets. */
#define H_MAGIC 0
#define H_TOTALSIZE 1
#define H_OFF_STRUCT 2
#define H_OFF_STRINGS 3
#define H_OFF_RSVMAP 4
#define H_VERSION 5
#define H_SIZE_STRINGS 8
#define H_SIZE_STRUCT 9

static u32 be32(const void *p)
{
	const unsigned char *b = p;
	return ((u32)b[0] << 24) | ((u32)b[1] << 16) | ((u32)b[2] << 8) | b[3];
}

static void put_be32(void *p, u32 v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static u32 hdr(const void *fdt, int word)
{
	return be32((const unsigned char *)fdt + 4 * word);
}

static void set_hdr(void *fdt, int word, u32 v)
{
	put_be32((unsigned char *)fdt + 4 * word, v);
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/* True if the ISA string names the multi-letter extension `ext` ("_sstc" as a whole token). */
static int isa_has(const char *isa, unsigned long len, const char *ext)
{
	unsigned long n = strlen(ext), i;
	for (i = 0; i + n <= len; i++) {
		if (isa[i] == '_' && !memcmp(isa + i + 1, ext, n)) {
			char after = i + 1 + n < len ? isa[i + 1 + n] : 0;
			if (after == 0 || after == '_')
				return 1;
		}
	}
	return 0;
}

static int parse_hex(const char *s, u32 *out)
{
	u32 v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		u32 d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

int fdt_scan(const void *fdt, struct fdt_info *info)
{
	const unsigned char *base = fdt, *p, *end, *strings;
	int depth = 0, cpu_depth = -1;

	info->hart_mask = 0;
	info->sstc = 0;
	if (hdr(fdt, H_MAGIC) != FDT_MAGIC || hdr(fdt, H_VERSION) < 17)
		return -1;
	p = base + hdr(fdt, H_OFF_STRUCT);
	end = p + hdr(fdt, H_SIZE_STRUCT);
	strings = base + hdr(fdt, H_OFF_STRINGS);
	while (p < end) {
		u32 tok = be32(p);
		p += 4;
		if (tok == FDT_BEGIN_NODE) {
			const char *name = (const char *)p;
			unsigned long len = strlen(name);
			depth++;
			if (cpu_depth < 0 && !memcmp(name, "cpu@", 4)) {
				u32 id;
				if (!parse_hex(name + 4, &id)) {
					cpu_depth = depth;
					if (id < MAX_HARTS)
						info->hart_mask |= 1u << id;
				}
			}
			p += (len + 4) & ~3UL;
		} else if (tok == FDT_END_NODE) {
			if (depth == cpu_depth)
				cpu_depth = -1;
			depth--;
		} else if (tok == FDT_PROP) {
			u32 len = be32(p), nameoff = be32(p + 4);
			const char *val = (const char *)p + 8;
			if (depth == cpu_depth && streq((const char *)strings + nameoff, "riscv,isa") &&
			    isa_has(val, len, "sstc"))
				info->sstc = 1;
			p += 8 + ((len + 3) & ~3UL);
		} else if (tok == FDT_NOP) {
			continue;
		} else {
			break; /* FDT_END or garbage */
		}
	}
	return 0;
}

/*
 * Adds a /memreserve/ entry for [base, base + size) unless one exists. The entries come right
 * after the header and before the structure and strings blocks (as libfdt writes them), so the
 * rest of the blob moves up 16 bytes into the free space after it: QEMU places the device tree
 * with at least a few hundred KiB of RAM after its end.
 */
int fdt_add_memreserve(void *fdt, u64 base, u64 size)
{
	unsigned char *b = fdt, *e;
	u32 total = hdr(fdt, H_TOTALSIZE), rsv = hdr(fdt, H_OFF_RSVMAP);
	u32 ostruct = hdr(fdt, H_OFF_STRUCT), ostrings = hdr(fdt, H_OFF_STRINGS);

	if (hdr(fdt, H_MAGIC) != FDT_MAGIC || hdr(fdt, H_VERSION) < 17 || rsv > ostruct || rsv > ostrings)
		return -1;
	for (e = b + rsv;; e += 16) {
		u32 bh = be32(e), bl = be32(e + 4), sh = be32(e + 8), sl = be32(e + 12);
		if (!bh && !bl && !sh && !sl)
			break;
		if (bh == (u32)(base >> 32) && bl == (u32)base && sh == (u32)(size >> 32) && sl == (u32)size)
			return 0;
		if (e + 16 > b + ostruct)
			return -1;
	}
	memmove(e + 16, e, total - (u32)(e - b));
	put_be32(e, (u32)(base >> 32));
	put_be32(e + 4, (u32)base);
	put_be32(e + 8, (u32)(size >> 32));
	put_be32(e + 12, (u32)size);
	set_hdr(fdt, H_OFF_STRUCT, ostruct + 16);
	set_hdr(fdt, H_OFF_STRINGS, ostrings + 16);
	set_hdr(fdt, H_TOTALSIZE, total + 16);
	return 1;
}
