/*
 * sbi-test: an S-mode program that exercises an SBI implementation the way a kernel would.
 * Linked at 0x80400000 (QEMU's rv32 kernel address after a small -bios image):
 *   qemu-system-riscv32 -M virt -nographic -smp 4 -bios replayvm-sbi.bin -kernel sbi-test.elf
 * Prints one "PASS name" or "FAIL name: ..." line per check and shuts down through SBI SRST:
 * exit status 0 if everything passed, 1 (system failure) otherwise.
 */
#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e

#define SIP_SSIP 0x2
#define SIP_STIP 0x20

struct sbiret { long error, value; };

static struct sbiret ecall(unsigned long ext, unsigned long fid, unsigned long a0, unsigned long a1,
			   unsigned long a2, unsigned long a3)
{
	register unsigned long r0 __asm__("a0") = a0, r1 __asm__("a1") = a1;
	register unsigned long r2 __asm__("a2") = a2, r3 __asm__("a3") = a3;
	register unsigned long r6 __asm__("a6") = fid, r7 __asm__("a7") = ext;
	__asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r3), "r"(r6), "r"(r7) : "memory");
	return (struct sbiret){ (long)r0, (long)r1 };
}

static unsigned long csr_sip(void) { unsigned long v; __asm__ volatile("csrr %0, sip" : "=r"(v)); return v; }
static unsigned long rdtime(void) { unsigned long v; __asm__ volatile("rdtime %0" : "=r"(v)); return v; }

static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }

/* Output through DBCN write (the first thing checked), legacy putchar as a fallback. */
static int use_dbcn;
static void puts_(const char *s)
{
	if (use_dbcn)
		ecall(EXT_DBCN, 0, slen(s), (unsigned long)s, 0, 0);
	else
		for (; *s; s++)
			ecall(1, 0, (unsigned long)*s, 0, 0, 0);
}

static void puthex(unsigned long v)
{
	char b[11] = "0x", *p = b + 2;
	int i;
	for (i = 28; i >= 0; i -= 4)
		*p++ = "0123456789abcdef"[(v >> i) & 15];
	*p = 0;
	puts_(b);
}

static int failures;
static void check(const char *name, int ok, unsigned long got)
{
	if (ok) {
		puts_("PASS ");
		puts_(name);
		puts_("\n");
	} else {
		failures++;
		puts_("FAIL ");
		puts_(name);
		puts_(": got ");
		puthex(got);
		puts_("\n");
	}
}

/* Filled by secondary harts. */
static volatile unsigned long arrived[8], got_ipi[8];
extern void secondary_entry(void);

/* A started hart: note it, optionally wait for an IPI (SSIP), then stop itself. */
void secondary_main(unsigned long hart, unsigned long opaque)
{
	arrived[hart] = opaque;
	if (opaque == 2) {
		unsigned long t0 = rdtime();
		while (!(csr_sip() & SIP_SSIP) && rdtime() - t0 < 100000000)
			;
		got_ipi[hart] = (csr_sip() & SIP_SSIP) != 0;
		__asm__ volatile("csrc sip, %0" :: "r"(SIP_SSIP));
	}
	ecall(EXT_HSM, 1, 0, 0, 0, 0); /* hart_stop: does not return */
	for (;;)
		;
}

static int wait_status(unsigned long hart, long want)
{
	unsigned long t0 = rdtime();
	while (rdtime() - t0 < 100000000) { /* 10 s at 10 MHz */
		struct sbiret r = ecall(EXT_HSM, 2, hart, 0, 0, 0);
		if (r.error == 0 && r.value == want)
			return 1;
	}
	return 0;
}

void test_main(unsigned long hart, unsigned long fdt)
{
	static const unsigned long exts[] = { EXT_TIME, EXT_IPI, EXT_RFENCE, EXT_HSM, EXT_SRST, EXT_DBCN };
	struct sbiret r;
	unsigned long i, nharts, t0;
	static volatile unsigned char bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	volatile unsigned int *mis;

	(void)fdt;
	r = ecall(EXT_BASE, 3, EXT_DBCN, 0, 0, 0);
	use_dbcn = r.error == 0 && r.value > 0;
	puts_("sbi-test: boot hart ");
	puthex(hart);
	puts_("\n");

	r = ecall(EXT_BASE, 0, 0, 0, 0, 0);
	check("base spec version >= 0.2", r.error == 0 && (unsigned long)r.value >= 2, (unsigned long)r.value);
	r = ecall(EXT_BASE, 1, 0, 0, 0, 0);
	puts_("INFO impl id ");
	puthex((unsigned long)r.value);
	r = ecall(EXT_BASE, 2, 0, 0, 0, 0);
	puts_(" version ");
	puthex((unsigned long)r.value);
	puts_("\n");
	for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		r = ecall(EXT_BASE, 3, exts[i], 0, 0, 0);
		check("probe_extension", r.error == 0 && r.value > 0, exts[i]);
	}
	r = ecall(EXT_BASE, 3, 0x12345678, 0, 0, 0);
	check("probe_extension unknown = 0", r.error == 0 && r.value == 0, (unsigned long)r.value);
	r = ecall(0x12345678, 0, 0, 0, 0, 0);
	check("unknown extension -> NOT_SUPPORTED", r.error == -2, (unsigned long)r.error);

	r = ecall(EXT_DBCN, 2, 'D', 0, 0, 0);
	ecall(EXT_DBCN, 2, '\n', 0, 0, 0);
	check("dbcn write_byte", r.error == 0, (unsigned long)r.error);
	r = ecall(EXT_DBCN, 0, 4, (unsigned long)"DBCN\n", 0, 0);
	ecall(EXT_DBCN, 2, '\n', 0, 0, 0);
	check("dbcn write count", r.error == 0 && r.value == 4, (unsigned long)r.value);
	r = ecall(2, 0, 0, 0, 0, 0);
	check("legacy getchar (no input) = -1", r.error == -1, (unsigned long)r.error);

	/* HSM: the boot hart is started, the others are stopped until we start them. */
	r = ecall(EXT_HSM, 2, hart, 0, 0, 0);
	check("hsm status of boot hart = started", r.error == 0 && r.value == 0, (unsigned long)r.value);
	for (nharts = 0; nharts < 8; nharts++) {
		r = ecall(EXT_HSM, 2, nharts, 0, 0, 0);
		if (r.error)
			break;
	}
	puts_("INFO harts ");
	puthex(nharts);
	puts_("\n");
	check("hsm status of hart 8 = invalid param", ecall(EXT_HSM, 2, 8, 0, 0, 0).error == -3, 0);
	for (i = 0; i < nharts; i++) {
		if (i == hart)
			continue;
		r = ecall(EXT_HSM, 0, i, (unsigned long)secondary_entry, 1, 0);
		check("hsm hart_start", r.error == 0, (unsigned long)r.error);
		t0 = rdtime();
		while (arrived[i] != 1 && rdtime() - t0 < 100000000)
			;
		check("started hart ran with a0 = hartid, a1 = opaque", arrived[i] == 1, arrived[i]);
		check("started hart stopped itself", wait_status(i, 1), i);
		r = ecall(EXT_HSM, 0, i, (unsigned long)secondary_entry, 2, 0);
		check("hsm hart_start again", r.error == 0, (unsigned long)r.error);
		check("hart started again", wait_status(i, 0), i);
		r = ecall(EXT_RFENCE, 0, 1ul << i, 0, 0, 0);
		check("remote fence.i to a running hart", r.error == 0, (unsigned long)r.error);
		r = ecall(EXT_RFENCE, 1, 1ul << i, 0, 0, 0x1000);
		check("remote sfence.vma to a running hart", r.error == 0, (unsigned long)r.error);
		r = ecall(EXT_IPI, 0, 1ul << i, 0, 0, 0);
		check("send_ipi to another hart", r.error == 0, (unsigned long)r.error);
		check("other hart saw SSIP", wait_status(i, 1) && got_ipi[i] == 1, got_ipi[i]);
	}
	r = ecall(EXT_HSM, 0, hart, (unsigned long)secondary_entry, 1, 0);
	check("hart_start of a started hart = ALREADY_AVAILABLE", r.error == -6, (unsigned long)r.error);

	/* IPI to ourselves with SSIE off: SSIP becomes pending. */
	r = ecall(EXT_IPI, 0, 1ul << hart, 0, 0, 0);
	check("send_ipi to self", r.error == 0 && (csr_sip() & SIP_SSIP), csr_sip());
	__asm__ volatile("csrc sip, %0" :: "r"(SIP_SSIP));
	check("SSIP clears", !(csr_sip() & SIP_SSIP), csr_sip());
	r = ecall(EXT_IPI, 0, 1, 100, 0, 0);
	check("send_ipi with a bad hart = INVALID_PARAM", r.error == -3, (unsigned long)r.error);
	r = ecall(EXT_RFENCE, 0, 0, (unsigned long)-1, 0, 0);
	check("remote fence.i to all harts", r.error == 0, (unsigned long)r.error);
	r = ecall(EXT_RFENCE, 2, 0, (unsigned long)-1, 0, (unsigned long)-1);
	check("remote sfence.vma.asid to all harts", r.error == 0, (unsigned long)r.error);

	/* TIME: STIP rises once the deadline passes and drops when the timer is moved away. */
	t0 = rdtime();
	r = ecall(EXT_TIME, 0, t0 + 10000, 0, 0, 0);
	while (!(csr_sip() & SIP_STIP) && rdtime() - t0 < 100000000)
		;
	check("set_timer raises STIP", r.error == 0 && (csr_sip() & SIP_STIP), csr_sip());
	ecall(EXT_TIME, 0, (unsigned long)-1, (unsigned long)-1, 0, 0);
	check("set_timer(-1) clears STIP", !(csr_sip() & SIP_STIP), csr_sip());

	/* Misaligned word load and store (done by hardware or emulated by the firmware). */
	mis = (volatile unsigned int *)(bytes + 1);
	check("misaligned load", *mis == 0x05040302, *mis);
	*mis = 0xa1b2c3d4;
	check("misaligned store", bytes[1] == 0xd4 && bytes[4] == 0xa1 && bytes[5] == 6, bytes[1]);

	puts_(failures ? "sbi-test: FAILED\n" : "sbi-test: all passed\n");
	ecall(EXT_SRST, 0, 0, failures ? 1 : 0, 0, 0);
	puts_("FAIL srst returned\n");
	for (;;)
		;
}
