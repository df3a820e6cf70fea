/* replayvm bare-metal runtime: UART output, finisher, checks and trap plumbing. */
#ifndef RT_H
#define RT_H
typedef unsigned int u32;
typedef int i32;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned long long u64;
typedef unsigned long uptr;

#define UART0 0x10000000u
#define FINISHER 0x100000u
#define CLINT 0x2000000u
#define PLIC 0xc000000u
#define RTC 0x101000u
#define VIRTIO0 0x10001000u

#define REG32(a) (*(volatile u32 *)(uptr)(a))
#define REG8(a) (*(volatile u8 *)(uptr)(a))

#define csr_read(c) ({ u32 __v; __asm__ volatile("csrr %0, " #c : "=r"(__v)::"memory"); __v; })
#define csr_write(c, v) __asm__ volatile("csrw " #c ", %0" ::"r"((u32)(v)) : "memory")
#define csr_set(c, v) __asm__ volatile("csrs " #c ", %0" ::"r"((u32)(v)) : "memory")
#define csr_clear(c, v) __asm__ volatile("csrc " #c ", %0" ::"r"((u32)(v)) : "memory")
#define csr_swap(c, v) ({ u32 __v; __asm__ volatile("csrrw %0, " #c ", %1" : "=r"(__v) : "r"((u32)(v)) : "memory"); __v; })

/* The register frame a trap handler sees: f->x[i] is register xi (x[2] = interrupted sp). */
struct frame { u32 x[32]; };

void putc(char c);
void puts(const char *s);          /* no newline added */
void put_hex(u32 v);               /* 0x%08x */
void put_dec(u32 v);
void put_sdec(i32 v);
void println(const char *s);
void finish_pass(void) __attribute__((noreturn));
void finish_fail(u32 code) __attribute__((noreturn));

/* Test bookkeeping: every program defines `const char *test_name` and `int test_main(void)`. */
extern const char *test_name;
extern u32 hart_id;
extern u32 dtb_addr;
extern u32 failures;
int test_main(void);
void check(u32 id, u32 got, u32 want);
void check_true(u32 id, int cond);
void info(const char *label, u32 v); /* prints "INFO* label 0x...": machine-specific, excluded from diffs */

/* Trap recording. When trap_expect is set, the default M handler records the trap in trap_*
 * and resumes: exceptions skip the faulting instruction, instruction-fetch faults (1, 12)
 * return to the caller (mepc = ra), interrupts disable the source via irq_hook. */
extern volatile u32 trap_expect, trap_count, trap_cause, trap_tval, trap_epc, trap_mpp, vector_hit;
extern volatile u32 strap_count, strap_cause, strap_tval, strap_epc, strap_spp;
/* Optional hooks: return nonzero when the trap was handled. */
extern int (*m_hook)(struct frame *f, u32 cause);
extern int (*s_hook)(struct frame *f, u32 cause);
void trap_reset(void);
void enter_mode(int mode); /* from M: continue in mode (0 U, 1 S) */
void enter_m(void);        /* from U/S: continue in M */
extern char m_trap_vector[], m_trap_table[], s_trap_vector[], __free_mem[];

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3
#define MSTATUS_SIE (1u << 1)
#define MSTATUS_MIE (1u << 3)
#define MSTATUS_SPIE (1u << 5)
#define MSTATUS_MPIE (1u << 7)
#define MSTATUS_SPP (1u << 8)
#define MSTATUS_MPP (3u << 11)
#define MSTATUS_MPRV (1u << 17)
#define MSTATUS_SUM (1u << 18)
#define MSTATUS_MXR (1u << 19)
#define MSTATUS_TVM (1u << 20)
#define MSTATUS_TW (1u << 21)
#define MSTATUS_TSR (1u << 22)
#endif
