/*
 * replayvm-sbi: M-mode setup and the SBI calls (spec v2.0 subset) for QEMU's virt board.
 *
 * Extensions: BASE, TIME, IPI, RFENCE, HSM, SRST, DBCN and the legacy v0.1 calls.
 * Implementation ID 0x52505643 ("RPVC": replayvm's C firmware; IDs 0..11 are taken by BBL,
 * OpenSBI, Xvisor, KVM, RustSBI, Diosix, Coffer, Xen, PolarFire HSS, coreboot, oreboot, bhyve,
 * and replayvm's built-in TypeScript SBI reports 0x5250564d "RPVM").
 */
#include "firmware.h"

#define SBI_SPEC_VERSION ((2u << 24) | 0)
#define SBI_IMPL_ID 0x52505643
#define SBI_IMPL_VERSION 0x00010000

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED -1
#define SBI_ERR_NOT_SUPPORTED -2
#define SBI_ERR_INVALID_PARAM -3
#define SBI_ERR_INVALID_ADDRESS -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED -7

#define EXT_BASE 0x10
#define EXT_TIME 0x54494d45
#define EXT_IPI 0x735049
#define EXT_RFENCE 0x52464e43
#define EXT_HSM 0x48534d
#define EXT_SRST 0x53525354
#define EXT_DBCN 0x4442434e

#define HSM_STARTED 0
#define HSM_STOPPED 1
#define HSM_START_PENDING 2
#define HSM_CLAIMED 0x100 /* private: a hart_start is filling in the start address */

/* QEMU virt devices. */
#define CLINT_MSIP(h) ((volatile u32 *)(0x02000000UL + 4 * (h)))
#define CLINT_MTIMECMP_LO(h) ((volatile u32 *)(0x02004000UL + 8 * (h)))
#define CLINT_MTIMECMP_HI(h) ((volatile u32 *)(0x02004004UL + 8 * (h)))
#define CLINT_MTIME_LO ((volatile u32 *)0x0200bff8UL)
#define CLINT_MTIME_HI ((volatile u32 *)0x0200bffcUL)
#define SIFIVE_TEST ((volatile u32 *)0x00100000UL)
#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333
#define TEST_RESET 0x7777
#define DRAM_BASE 0x80000000UL

/* Exceptions handed straight to S-mode: misaligned fetch, access faults, breakpoint, U ecall, page faults. */
#define DELEG_EXC ((1u << 0) | (1u << 1) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | \
		   (1u << 12) | (1u << 13) | (1u << 15))

#define FENCE_I 1
#define FENCE_VMA 2

struct fw_dynamic_info {
	unsigned long magic, version, next_addr, next_mode, options, boot_hart;
};
#define FW_DYNAMIC_MAGIC 0x4942534f

struct sbiret {
	long error;
	long value;
};

extern char _bss_start[], _bss_end[], _fw_end[];

/* HSM state lives in .data: a hart parks before the boot hart clears .bss. */
static volatile u32 hsm_state[MAX_HARTS] __attribute__((section(".data"))) = {
	HSM_STOPPED, HSM_STOPPED, HSM_STOPPED, HSM_STOPPED, HSM_STOPPED, HSM_STOPPED, HSM_STOPPED, HSM_STOPPED
};
static volatile u32 lottery __attribute__((section(".data")));
static volatile unsigned long hsm_addr[MAX_HARTS], hsm_arg[MAX_HARTS];
/* Requests to hart t: ssip_req[t] (set SSIP), fence_req[t][s] (fences asked for by hart s). */
static volatile u32 ssip_req[MAX_HARTS];
static volatile u32 fence_req[MAX_HARTS][MAX_HARTS];
static u32 hart_mask;   /* harts described by the device tree */
static int use_sstc;    /* the device tree advertises Sstc and the hart has stimecmp */

static inline void fence_rw(void) { __asm__ volatile("fence rw, rw" ::: "memory"); }

static __attribute__((noreturn)) void halt(u32 code)
{
	fence_rw();
	*SIFIVE_TEST = code;
	for (;;)
		__asm__ volatile("wfi");
}

static __attribute__((noreturn)) void fatal(const char *what, struct regs *r)
{
	fw_printf("\nreplayvm-sbi: fatal: %s on hart %u: mcause=0x%x mepc=0x%x mtval=0x%x mstatus=0x%x\n", what,
		  csr_read(mhartid), csr_read(mcause), r ? r->mepc : csr_read(mepc), csr_read(mtval),
		  r ? r->mstatus : csr_read(mstatus));
	halt((1u << 16) | TEST_FAIL);
}

/* Runs `insn` (a 4-byte CSR access) under guard_trap; returns 0 if it did not trap. */
#define csr_probe(insn) ({ \
	register unsigned long cause_ __asm__("t4") = 0; \
	unsigned long tvec_ = csr_read(mtvec); \
	csr_write(mtvec, (unsigned long)guard_trap); \
	__asm__ volatile(".option push\n.option norvc\n" insn "\n.option pop" : "+r"(cause_) :: "t0", "memory"); \
	csr_write(mtvec, tvec_); \
	cause_; })

static u64 mtime(void)
{
	u32 hi, lo;
	do {
		hi = *CLINT_MTIME_HI;
		lo = *CLINT_MTIME_LO;
	} while (hi != *CLINT_MTIME_HI);
	return ((u64)hi << 32) | lo;
}

/* Per-hart machine setup done as soon as a hart arrives. */
static void hart_init(void)
{
	csr_write(mie, MIP_MSIP);
	csr_write(medeleg, DELEG_EXC);
	csr_write(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
	csr_write(mcounteren, 7);
	csr_write(scounteren, 7);
	csr_clear(mstatus, MSTATUS_FS | MSTATUS_MPRV);
	/* PMP: entry 0 hides the firmware from S/U, entry 1 (NAPOT, all ones) opens everything else. */
	csr_write(pmpaddr0, (FW_BASE >> 2) | ((FW_RESERVED >> 3) - 1));
	csr_write(pmpaddr1, 0xffffffffUL);
	csr_write(pmpcfg0, (0x18u) | ((0x18u | 7u) << 8));
	csr_write(satp, 0);
	__asm__ volatile("sfence.vma" ::: "memory");
}

/* Setup that depends on what the boot hart learnt from the device tree; done before entering S. */
static void hart_late_init(void)
{
	if (!csr_probe("csrr t0, 0x14d")) { /* stimecmp exists: keep it from firing until Linux sets it */
		csr_probe("li t0, -1\ncsrw 0x15d, t0"); /* stimecmph */
		csr_probe("li t0, -1\ncsrw 0x14d, t0"); /* stimecmp */
		if (use_sstc)
			csr_probe("li t0, 0x80000000\ncsrs 0x31a, t0"); /* menvcfgh.STCE */
	}
	csr_clear(mip, MIP_SSIP | MIP_STIP);
}

/* Handles requests other harts left for this one (MSIP): SSIP and remote fences. */
static void process_ipis(unsigned long hart)
{
	unsigned long s;

	*CLINT_MSIP(hart) = 0;
	fence_rw();
	if (__atomic_exchange_n(&ssip_req[hart], 0, __ATOMIC_ACQ_REL))
		csr_set(mip, MIP_SSIP);
	for (s = 0; s < MAX_HARTS; s++) {
		u32 req = __atomic_load_n(&fence_req[hart][s], __ATOMIC_ACQUIRE);
		if (!req)
			continue;
		if (req & FENCE_I)
			__asm__ volatile("fence.i" ::: "memory");
		if (req & FENCE_VMA)
			__asm__ volatile("sfence.vma" ::: "memory");
		__atomic_store_n(&fence_req[hart][s], 0, __ATOMIC_RELEASE);
	}
}

void hsm_wait(unsigned long hart)
{
	csr_write(mie, MIP_MSIP);
	for (;;) {
		process_ipis(hart);
		if (__atomic_load_n(&hsm_state[hart], __ATOMIC_ACQUIRE) == HSM_START_PENDING)
			break;
		__asm__ volatile("wfi");
	}
	hart_late_init();
	csr_write(mie, MIP_MSIP);
	{
		unsigned long addr = hsm_addr[hart], arg = hsm_arg[hart];
		__atomic_store_n(&hsm_state[hart], HSM_STARTED, __ATOMIC_RELEASE);
		enter_next(hart, arg, addr, 1);
	}
}

/* The set of harts an SBI hart_mask/hart_mask_base pair names, or -1 if it names a hart we lack. */
static long target_harts(unsigned long mask, unsigned long base, u32 *out)
{
	u32 set = 0;
	unsigned long i;

	if (base == (unsigned long)-1) {
		*out = hart_mask;
		return 0;
	}
	for (i = 0; i < 32 && mask; i++, mask >>= 1) {
		if (!(mask & 1))
			continue;
		if (base + i >= MAX_HARTS || !(hart_mask & (1u << (base + i))))
			return -1;
		set |= 1u << (base + i);
	}
	*out = set;
	return 0;
}

static void send_ipi(u32 targets, unsigned long self)
{
	unsigned long t;

	for (t = 0; t < MAX_HARTS; t++) {
		if (!(targets & (1u << t)))
			continue;
		if (t == self) {
			csr_set(mip, MIP_SSIP);
			continue;
		}
		__atomic_store_n(&ssip_req[t], 1, __ATOMIC_RELEASE);
		fence_rw();
		*CLINT_MSIP(t) = 1;
	}
}

/* Remote fences: the local one directly; other started harts by IPI, waiting until each is done. */
static void remote_fence(u32 targets, unsigned long self, u32 kind)
{
	u32 sent = 0;
	unsigned long t;

	for (t = 0; t < MAX_HARTS; t++) {
		if (!(targets & (1u << t)))
			continue;
		if (t == self) {
			if (kind & FENCE_I)
				__asm__ volatile("fence.i" ::: "memory");
			if (kind & FENCE_VMA)
				__asm__ volatile("sfence.vma" ::: "memory");
			continue;
		}
		if (__atomic_load_n(&hsm_state[t], __ATOMIC_ACQUIRE) != HSM_STARTED)
			continue;
		__atomic_store_n(&fence_req[t][self], kind, __ATOMIC_RELEASE);
		fence_rw();
		*CLINT_MSIP(t) = 1;
		sent |= 1u << t;
	}
	for (t = 0; t < MAX_HARTS; t++)
		while ((sent & (1u << t)) && __atomic_load_n(&fence_req[t][self], __ATOMIC_ACQUIRE))
			process_ipis(self); /* serve fences asked of us meanwhile, or two harts could deadlock */
}

static void set_timer(unsigned long hart, u64 when)
{
	if (use_sstc) { /* STIP follows stimecmp (menvcfg.STCE): program that, as OpenSBI does */
		csr_write(0x15d, 0xffffffffUL);
		csr_write(0x14d, (unsigned long)(u32)when);
		csr_write(0x15d, (unsigned long)(u32)(when >> 32));
		return;
	}
	*CLINT_MTIMECMP_LO(hart) = 0xffffffffu;
	*CLINT_MTIMECMP_HI(hart) = (u32)(when >> 32);
	*CLINT_MTIMECMP_LO(hart) = (u32)when;
	csr_clear(mip, MIP_STIP);
	csr_set(mie, MIP_MTIP);
}

static __attribute__((noreturn)) void system_reset(unsigned long type, unsigned long reason)
{
	if (type == 0) /* shutdown; a "system failure" reason exits with status 1 as OpenSBI does */
		halt(reason == 1 ? ((1u << 16) | TEST_FAIL) : TEST_PASS);
	halt(TEST_RESET);
}

/* Reads an unsigned long at a virtual address of the caller (legacy calls pass pointers). */
static int read_caller_word(unsigned long addr, unsigned long *out)
{
	struct mprv_result r = mprv_access(addr, csr_read(mstatus) | MSTATUS_MPRV, MPRV_LW, 0);
	*out = r.value;
	return r.cause ? -1 : 0;
}

static int hart_mask_from_ptr(unsigned long ptr, u32 *out)
{
	unsigned long m;
	if (!ptr) {
		*out = hart_mask;
		return 0;
	}
	if (read_caller_word(ptr, &m))
		return -1;
	*out = (u32)m & hart_mask;
	return 0;
}

static long legacy_call(struct regs *r, unsigned long ext, unsigned long hart)
{
	unsigned long *a = &r->x[10];
	u32 targets;

	switch (ext) {
	case 0:
		set_timer(hart, ((u64)a[1] << 32) | a[0]);
		return 0;
	case 1:
		uart_putc((int)a[0]);
		return 0;
	case 2:
		return uart_getc();
	case 3:
		csr_clear(mip, MIP_SSIP);
		return 0;
	case 4:
		if (hart_mask_from_ptr(a[0], &targets))
			return SBI_ERR_INVALID_ADDRESS;
		send_ipi(targets, hart);
		return 0;
	case 5:
	case 6:
	case 7:
		if (hart_mask_from_ptr(a[0], &targets))
			return SBI_ERR_INVALID_ADDRESS;
		remote_fence(targets, hart, ext == 5 ? FENCE_I : FENCE_VMA);
		return 0;
	case 8:
		system_reset(0, 0);
	default:
		return SBI_ERR_NOT_SUPPORTED;
	}
}

static int probe_extension(unsigned long ext)
{
	switch (ext) {
	case EXT_BASE: case EXT_TIME: case EXT_IPI: case EXT_RFENCE: case EXT_HSM: case EXT_SRST: case EXT_DBCN:
		return 1;
	default:
		return ext <= 8; /* legacy extensions */
	}
}

static struct sbiret hsm_call(unsigned long fid, unsigned long *a, unsigned long self)
{
	struct sbiret ret = { SBI_SUCCESS, 0 };
	unsigned long h = a[0];

	switch (fid) {
	case 0: { /* hart_start(hartid, start_addr, opaque) */
		u32 expect = HSM_STOPPED;
		if (h >= MAX_HARTS || !(hart_mask & (1u << h))) {
			ret.error = SBI_ERR_INVALID_PARAM;
			break;
		}
		if (!__atomic_compare_exchange_n(&hsm_state[h], &expect, HSM_CLAIMED, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE)) {
			ret.error = expect == HSM_STARTED ? SBI_ERR_ALREADY_AVAILABLE : SBI_ERR_ALREADY_STARTED;
			break;
		}
		hsm_addr[h] = a[1];
		hsm_arg[h] = a[2];
		__atomic_store_n(&hsm_state[h], HSM_START_PENDING, __ATOMIC_RELEASE);
		fence_rw();
		*CLINT_MSIP(h) = 1;
		break;
	}
	case 1: /* hart_stop */
		csr_clear(mie, MIP_MTIP);
		csr_clear(mip, MIP_SSIP | MIP_STIP);
		__atomic_store_n(&hsm_state[self], HSM_STOPPED, __ATOMIC_RELEASE);
		hart_park(self);
	case 2: /* hart_get_status */
		if (h >= MAX_HARTS || !(hart_mask & (1u << h))) {
			ret.error = SBI_ERR_INVALID_PARAM;
			break;
		}
		ret.value = hsm_state[h] == HSM_CLAIMED ? HSM_STOPPED : hsm_state[h];
		break;
	default: /* hart_suspend and anything newer */
		ret.error = SBI_ERR_NOT_SUPPORTED;
	}
	return ret;
}

/* DBCN read/write: `base` is a physical address; only RAM is accepted. */
static int dbcn_range_ok(unsigned long n, unsigned long lo, unsigned long hi)
{
	return hi == 0 && lo >= DRAM_BASE && lo + n >= lo;
}

static void sbi_ecall(struct regs *r, unsigned long hart)
{
	unsigned long *a = &r->x[10];
	unsigned long ext = a[7], fid = a[6];
	struct sbiret ret = { SBI_SUCCESS, 0 };
	u32 targets;

	if (ext <= 8) {
		a[0] = (unsigned long)legacy_call(r, ext, hart);
		return;
	}
	switch (ext) {
	case EXT_BASE:
		switch (fid) {
		case 0: ret.value = SBI_SPEC_VERSION; break;
		case 1: ret.value = SBI_IMPL_ID; break;
		case 2: ret.value = SBI_IMPL_VERSION; break;
		case 3: ret.value = probe_extension(a[0]); break;
		case 4: ret.value = (long)csr_read(mvendorid); break;
		case 5: ret.value = (long)csr_read(marchid); break;
		case 6: ret.value = (long)csr_read(mimpid); break;
		default: ret.error = SBI_ERR_NOT_SUPPORTED;
		}
		break;
	case EXT_TIME:
		if (fid == 0)
			set_timer(hart, ((u64)a[1] << 32) | a[0]);
		else
			ret.error = SBI_ERR_NOT_SUPPORTED;
		break;
	case EXT_IPI:
		if (fid != 0)
			ret.error = SBI_ERR_NOT_SUPPORTED;
		else if (target_harts(a[0], a[1], &targets))
			ret.error = SBI_ERR_INVALID_PARAM;
		else
			send_ipi(targets, hart);
		break;
	case EXT_RFENCE:
		if (fid > 2)
			ret.error = SBI_ERR_NOT_SUPPORTED; /* hypervisor fences */
		else if (target_harts(a[0], a[1], &targets))
			ret.error = SBI_ERR_INVALID_PARAM;
		else
			remote_fence(targets, hart, fid == 0 ? FENCE_I : FENCE_VMA);
		break;
	case EXT_HSM:
		ret = hsm_call(fid, a, hart);
		break;
	case EXT_SRST:
		if (fid != 0 || a[0] > 2 || a[1] > 1)
			ret.error = fid != 0 ? SBI_ERR_NOT_SUPPORTED : SBI_ERR_INVALID_PARAM;
		else
			system_reset(a[0], a[1]);
		break;
	case EXT_DBCN:
		if (fid == 0 || fid == 1) { /* write / read (num_bytes, base_lo, base_hi) */
			unsigned long n = a[0], i;
			volatile unsigned char *buf = (volatile unsigned char *)a[1];
			if (!dbcn_range_ok(n, a[1], a[2])) {
				ret.error = SBI_ERR_INVALID_PARAM;
				break;
			}
			for (i = 0; i < n; i++) {
				if (fid == 0) {
					uart_putc(buf[i]);
				} else {
					int c = uart_getc();
					if (c < 0)
						break;
					buf[i] = (unsigned char)c;
				}
			}
			ret.value = (long)i;
		} else if (fid == 2) {
			uart_putc((int)(a[0] & 0xff));
		} else {
			ret.error = SBI_ERR_NOT_SUPPORTED;
		}
		break;
	default:
		ret.error = SBI_ERR_NOT_SUPPORTED;
	}
	a[0] = (unsigned long)ret.error;
	a[1] = (unsigned long)ret.value;
}

/* Hands the current trap to S-mode as if it had been delegated. */
static void redirect(struct regs *r, unsigned long cause, unsigned long tval)
{
	unsigned long ms = r->mstatus, prev = (ms & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;

	if (prev == 3)
		fatal("unexpected trap in M-mode", r);
	csr_write(sepc, r->mepc);
	csr_write(scause, cause);
	csr_write(stval, tval);
	ms &= ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_MPP);
	if (prev == 1)
		ms |= MSTATUS_SPP;
	if (r->mstatus & MSTATUS_SIE)
		ms |= MSTATUS_SPIE;
	ms &= ~MSTATUS_SIE;
	ms |= 1ul << MSTATUS_MPP_SHIFT;
	r->mstatus = ms;
	r->mepc = csr_read(stvec) & ~3ul;
}

/* Fetches the trapped instruction through the trapped mode's translation; 0 if redirected. */
static int fetch_insn(struct regs *r, unsigned long *insn, unsigned long *len)
{
	unsigned long ms = csr_read(mstatus) | MSTATUS_MPRV | MSTATUS_MXR;
	struct mprv_result lo = mprv_access(r->mepc, ms, MPRV_LHU, 0), hi = { 0, 0 };

	if (!lo.cause && (lo.value & 3) == 3)
		hi = mprv_access(r->mepc + 2, ms, MPRV_LHU, 0);
	if (lo.cause || hi.cause) {
		unsigned long c = lo.cause ? lo.cause : hi.cause;
		redirect(r, c == 13 ? 12 : c == 5 ? 1 : c, r->mepc + (lo.cause ? 0 : 2));
		return 0;
	}
	*insn = lo.value | (hi.value << 16);
	*len = (lo.value & 3) == 3 ? 4 : 2;
	return 1;
}

/* Misaligned load/store from S/U: done byte by byte with the trapped mode's privilege. */
static void misaligned(struct regs *r, unsigned long cause, unsigned long addr)
{
	unsigned long insn, len, ms, val = 0, i;
	int load, width, sign = 0, reg;

	if (!fetch_insn(r, &insn, &len))
		return;
	if (len == 4 && (insn & 0x7f) == 0x03) {
		unsigned long f3 = (insn >> 12) & 7;
		load = 1;
		reg = (int)((insn >> 7) & 31);
		width = f3 == 0 || f3 == 4 ? 1 : f3 == 1 || f3 == 5 ? 2 : f3 == 2 ? 4 : 0;
		sign = f3 < 4;
	} else if (len == 4 && (insn & 0x7f) == 0x23) {
		unsigned long f3 = (insn >> 12) & 7;
		load = 0;
		reg = (int)((insn >> 20) & 31);
		width = f3 == 0 ? 1 : f3 == 1 ? 2 : f3 == 2 ? 4 : 0;
	} else if (len == 2 && (insn & 0xe003) == 0x4000) { /* c.lw */
		load = 1, width = 4, reg = (int)(8 + ((insn >> 2) & 7));
	} else if (len == 2 && (insn & 0xe003) == 0xc000) { /* c.sw */
		load = 0, width = 4, reg = (int)(8 + ((insn >> 2) & 7));
	} else if (len == 2 && (insn & 0xe003) == 0x4002) { /* c.lwsp */
		load = 1, width = 4, reg = (int)((insn >> 7) & 31);
	} else if (len == 2 && (insn & 0xe003) == 0xc002) { /* c.swsp */
		load = 0, width = 4, reg = (int)((insn >> 2) & 31);
	} else {
		width = 0, load = 0, reg = 0;
	}
	if (!width) {
		redirect(r, cause, addr);
		return;
	}
	ms = csr_read(mstatus) | MSTATUS_MPRV;
	if (!load)
		val = r->x[reg];
	for (i = 0; i < (unsigned long)width; i++) {
		struct mprv_result b = load ? mprv_access(addr + i, ms, MPRV_LBU, 0)
					    : mprv_access(addr + i, ms, MPRV_SB, (val >> (8 * i)) & 0xff);
		if (b.cause) {
			redirect(r, b.cause, addr + i);
			return;
		}
		if (load)
			val |= b.value << (8 * i);
	}
	if (load) {
		if (sign && width < 4 && (val & (1ul << (8 * width - 1))))
			val |= ~0ul << (8 * width);
		if (reg)
			r->x[reg] = val;
	}
	r->mepc += len;
}

/* Illegal instruction: emulate reads of time/timeh (CSRRS rd, time, x0) if the hart lacks them. */
static void illegal(struct regs *r, unsigned long tval)
{
	unsigned long insn = tval, len = 4;

	if (!insn && !fetch_insn(r, &insn, &len))
		return;
	if ((insn & 0x7f) == 0x73 && ((insn >> 12) & 7) == 2 && ((insn >> 15) & 31) == 0) {
		unsigned long csr = insn >> 20, rd = (insn >> 7) & 31;
		if (csr == 0xc01 || csr == 0xc81) {
			u64 t = mtime();
			if (rd)
				r->x[rd] = csr == 0xc01 ? (u32)t : (u32)(t >> 32);
			r->mepc += 4;
			return;
		}
	}
	redirect(r, 2, tval);
}

void sbi_trap_handler(struct regs *r)
{
	unsigned long cause = csr_read(mcause), hart = csr_read(mhartid);

	if ((long)cause < 0) {
		switch (cause & 0xff) {
		case 7: /* machine timer: pass it on as the supervisor timer */
			csr_clear(mie, MIP_MTIP);
			csr_set(mip, MIP_STIP);
			return;
		case 3: /* machine software interrupt: requests from another hart */
			process_ipis(hart);
			return;
		default:
			fatal("unexpected interrupt", r);
		}
	}
	if ((r->mstatus & MSTATUS_MPP) == MSTATUS_MPP)
		fatal("trap in M-mode", r);
	switch (cause) {
	case 9: /* ecall from S */
		r->mepc += 4;
		sbi_ecall(r, hart);
		return;
	case 2:
		illegal(r, csr_read(mtval));
		return;
	case 4:
	case 6:
		misaligned(r, cause, csr_read(mtval));
		return;
	default:
		redirect(r, cause, csr_read(mtval));
	}
}

void fw_main(unsigned long hart, unsigned long fdt, unsigned long dinfo)
{
	const struct fw_dynamic_info *di = (const struct fw_dynamic_info *)dinfo;
	unsigned long next = DEFAULT_NEXT, mode = 1;
	struct fdt_info info;
	int boot, valid, r;

	/* QEMU's fw_dynamic_info sits in the boot ROM (0x1000..) or in RAM. */
	valid = !(dinfo & 3) && ((dinfo >= 0x1000 && dinfo < 0x12000) || dinfo >= DRAM_BASE) &&
		di->magic == FW_DYNAMIC_MAGIC && di->version >= 1;
	if (valid) {
		next = di->next_addr;
		mode = di->next_mode == 0 ? 0 : 1;
	}
	if (valid && di->version >= 2 && di->boot_hart < MAX_HARTS)
		boot = hart == di->boot_hart;
	else
		boot = __atomic_exchange_n(&lottery, 1, __ATOMIC_ACQ_REL) == 0;

	hart_init();
	if (!boot) {
		__atomic_store_n(&hsm_state[hart], HSM_STOPPED, __ATOMIC_RELEASE);
		hart_park(hart);
	}

	memset(_bss_start, 0, (unsigned long)(_bss_end - _bss_start));
	if (fdt_scan((const void *)fdt, &info) == 0 && info.hart_mask) {
		hart_mask = info.hart_mask;
	} else {
		fw_puts("replayvm-sbi: no usable device tree, assuming harts 0-7\n");
		hart_mask = (1u << MAX_HARTS) - 1;
	}
	hart_mask |= 1u << hart;
	use_sstc = info.sstc && !csr_probe("csrr t0, 0x14d") && !csr_probe("csrr t0, 0x31a");
	r = fdt_add_memreserve((void *)fdt, FW_BASE, FW_RESERVED);
	fw_printf("replayvm-sbi %u.%u (SBI v2.0): boot hart %u, harts mask 0x%x, next 0x%x (%s-mode), fdt 0x%x%s%s\n",
		  SBI_IMPL_VERSION >> 16, (SBI_IMPL_VERSION >> 8) & 0xff, hart, hart_mask, next, mode ? "S" : "U", fdt,
		  use_sstc ? ", sstc" : "", r < 0 ? ", FDT NOT PATCHED" : "");
	if ((unsigned long)_fw_end > FW_BASE + FW_RESERVED)
		fatal("firmware larger than its reservation", 0);

	__atomic_store_n(&hsm_state[hart], HSM_STARTED, __ATOMIC_RELEASE);
	hart_late_init();
	enter_next(hart, fdt, next, mode);
}
