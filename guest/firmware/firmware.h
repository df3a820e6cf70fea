/*
 * replayvm-sbi: a small M-mode SBI firmware for QEMU's virt board (RV32), written for replayvm.
 * Constants shared by start.S and the C files.
 */
#ifndef REPLAYVM_SBI_FIRMWARE_H
#define REPLAYVM_SBI_FIRMWARE_H

#define FW_BASE        0x80000000
/* RAM kept from Linux: a /memreserve/ entry in the device tree and a no-access PMP entry. */
#define FW_RESERVED    0x40000
#define MAX_HARTS      8
#define STACK_SHIFT    13              /* 8 KiB of M-mode stack per hart */
#define STACK_SIZE     (1 << STACK_SHIFT)
/* Where the next stage is when fw_dynamic_info is missing: QEMU's rv32 kernel address. */
#define DEFAULT_NEXT   0x80400000

/* Trap frame: x0..x31, then mepc and mstatus. */
#define FRAME_MEPC     128
#define FRAME_MSTATUS  132
#define FRAME_SIZE     144

#define MSTATUS_SIE    0x00000002
#define MSTATUS_MIE    0x00000008
#define MSTATUS_SPIE   0x00000020
#define MSTATUS_MPIE   0x00000080
#define MSTATUS_SPP    0x00000100
#define MSTATUS_MPP    0x00001800
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_FS     0x00006000
#define MSTATUS_MPRV   0x00020000
#define MSTATUS_SUM    0x00040000
#define MSTATUS_MXR    0x00080000

#define MIP_SSIP       0x002
#define MIP_MSIP       0x008
#define MIP_STIP       0x020
#define MIP_MTIP       0x080
#define MIP_SEIP       0x200

/* mprv_access operations. */
#define MPRV_LBU       0
#define MPRV_LHU       1
#define MPRV_LW        2
#define MPRV_SB        3

#ifndef __ASSEMBLER__

typedef unsigned int u32;
typedef unsigned long long u64;

#define stringify_(x) #x
#define stringify(x) stringify_(x)
#define csr_read(csr) ({ unsigned long v_; __asm__ volatile("csrr %0, " stringify(csr) : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " stringify(csr) ", %0" :: "rK"(val) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " stringify(csr) ", %0" :: "rK"(val) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " stringify(csr) ", %0" :: "rK"(val) : "memory")

struct regs {
	unsigned long x[32];
	unsigned long mepc, mstatus;
	unsigned long pad[2];
};

/* Result of a load/store done with the privilege of the trapped mode (MPRV). */
struct mprv_result {
	unsigned long value;
	unsigned long cause; /* 0, or the mcause of the fault the access raised */
};

/* start.S */
struct mprv_result mprv_access(unsigned long addr, unsigned long mstatus, unsigned long op, unsigned long value);
void guard_trap(void);
void trap_entry(void);
__attribute__((noreturn)) void enter_next(unsigned long hart, unsigned long arg, unsigned long addr,
					  unsigned long mode);
__attribute__((noreturn)) void hart_park(unsigned long hart);

/* sbi.c */
void fw_main(unsigned long hart, unsigned long fdt, unsigned long dinfo);
void sbi_trap_handler(struct regs *r);
__attribute__((noreturn)) void hsm_wait(unsigned long hart);

/* fdt.c */
struct fdt_info {
	u32 hart_mask;  /* harts with a cpu@N node */
	int sstc;       /* some riscv,isa string lists Sstc */
};
int fdt_scan(const void *fdt, struct fdt_info *info);
int fdt_add_memreserve(void *fdt, u64 base, u64 size);

/* lib.c */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
void *memmove(void *d, const void *s, unsigned long n);
int memcmp(const void *a, const void *b, unsigned long n);
unsigned long strlen(const char *s);
void uart_putc(int c);
int uart_getc(void);
void fw_puts(const char *s);
void fw_printf(const char *fmt, ...);

#endif
#endif
