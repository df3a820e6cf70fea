/* replayvm bare-metal runtime: entry, per-hart stacks, M and S trap vectors that save all
 * registers into a frame and call C (m_trap_c / s_trap_c), and mode-switch helpers. */
    .section .text.init
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    /* a0 = hartid, a1 = DTB address. Stack: __stack_top - hartid * 16K. */
    la sp, __stack_top
    slli t0, a0, 14
    sub sp, sp, t0
    la t0, m_trap_vector
    csrw mtvec, t0
    bnez a0, park
    la t0, __mtrap_stack_top
    csrw mscratch, t0
    la t0, __strap_stack_top
    csrw sscratch, t0
    /* clear .bss */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:  mv s0, a0
    mv s1, a1
    call runtime_main
    /* runtime_main never returns */
park:
    wfi
    j park

/* Save x1..x31 into a 32-word frame on the trap stack, call handler(frame), restore. */
.macro SAVE_REGS scratch
    csrrw sp, \scratch, sp
    addi sp, sp, -128
    sw x1, 4(sp)
    sw x3, 12(sp)
    sw x4, 16(sp)
    sw x5, 20(sp)
    sw x6, 24(sp)
    sw x7, 28(sp)
    sw x8, 32(sp)
    sw x9, 36(sp)
    sw x10, 40(sp)
    sw x11, 44(sp)
    sw x12, 48(sp)
    sw x13, 52(sp)
    sw x14, 56(sp)
    sw x15, 60(sp)
    sw x16, 64(sp)
    sw x17, 68(sp)
    sw x18, 72(sp)
    sw x19, 76(sp)
    sw x20, 80(sp)
    sw x21, 84(sp)
    sw x22, 88(sp)
    sw x23, 92(sp)
    sw x24, 96(sp)
    sw x25, 100(sp)
    sw x26, 104(sp)
    sw x27, 108(sp)
    sw x28, 112(sp)
    sw x29, 116(sp)
    sw x30, 120(sp)
    sw x31, 124(sp)
    csrr t0, \scratch     /* the interrupted sp */
    sw t0, 8(sp)
    addi t0, sp, 128
    csrw \scratch, t0     /* keep the trap stack top for nested use */
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    mv a0, sp
.endm

.macro RESTORE_REGS scratch
    lw x1, 4(sp)
    lw x3, 12(sp)
    lw x4, 16(sp)
    lw x5, 20(sp)
    lw x6, 24(sp)
    lw x7, 28(sp)
    lw x8, 32(sp)
    lw x9, 36(sp)
    lw x10, 40(sp)
    lw x11, 44(sp)
    lw x12, 48(sp)
    lw x13, 52(sp)
    lw x14, 56(sp)
    lw x15, 60(sp)
    lw x16, 64(sp)
    lw x17, 68(sp)
    lw x18, 72(sp)
    lw x19, 76(sp)
    lw x20, 80(sp)
    lw x21, 84(sp)
    lw x22, 88(sp)
    lw x23, 92(sp)
    lw x24, 96(sp)
    lw x25, 100(sp)
    lw x26, 104(sp)
    lw x27, 108(sp)
    lw x28, 112(sp)
    lw x29, 116(sp)
    lw x30, 120(sp)
    lw x31, 124(sp)
    lw sp, 8(sp)
.endm

    .text
    .balign 64
    .globl m_trap_vector
m_trap_vector:
    SAVE_REGS mscratch
    call m_trap_c
    RESTORE_REGS mscratch
    mret

/* Vectored-mode table: entry i records i in `vector_hit`, then goes to the common vector. */
    .balign 256
    .globl m_trap_table
m_trap_table:
    .option push
    .option norvc
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
    j m_vec_stub_\i
    .endr
    .option pop
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
m_vec_stub_\i:
    csrrw sp, mscratch, sp
    sw t0, -4(sp)
    sw t1, -8(sp)
    li t1, \i
    la t0, vector_hit
    sw t1, 0(t0)
    lw t0, -4(sp)
    lw t1, -8(sp)
    csrrw sp, mscratch, sp
    j m_trap_vector
    .endr

    .balign 64
    .globl s_trap_vector
s_trap_vector:
    SAVE_REGS sscratch
    call s_trap_c
    RESTORE_REGS sscratch
    sret

/* void enter_mode(int mode): return to the caller in privilege `mode` (0 U, 1 S, 3 M from M). */
    .globl enter_mode
enter_mode:
    li t0, 0x1800
    csrc mstatus, t0
    slli t1, a0, 11
    csrs mstatus, t1
    csrw mepc, ra
    mret

/* void enter_m(void): from U or S, ask the M handler to return here in M-mode. */
    .globl enter_m
/* An S handler that catches the request from U (ecall delegated) sets a0 = 1: ask again from S. */
enter_m:
    li a7, 0x4d4d4d4d
    li a0, 0
    ecall
    bnez a0, enter_m
    ret
