/*
 * replayvm-sbi entry, trap vector and the few routines that must be assembly.
 *
 * QEMU's reset vector (and replayvm's) enters every hart at FW_BASE with
 *   a0 = mhartid, a1 = device tree address, a2 = struct fw_dynamic_info address.
 */
#include "firmware.h"

	.option norelax

	.section .text.entry, "ax"
	.globl _start
_start:
	csrw	mie, zero
	la	t0, trap_entry
	csrw	mtvec, t0
	li	t0, MAX_HARTS
	bgeu	a0, t0, 1f
	/* M-mode stack of this hart: the top of its slot, also kept in mscratch for traps. */
	la	sp, _stacks_end
	slli	t0, a0, STACK_SHIFT
	sub	sp, sp, t0
	csrw	mscratch, sp
	call	fw_main
	/* A hart we have no room for waits forever with interrupts off. */
1:	wfi
	j	1b

	.text
/*
 * Every M-mode trap from S/U. sp is swapped with mscratch (the hart's M stack top), all
 * registers go into a struct regs frame, and sbi_trap_handler may change any of them,
 * mepc and mstatus (to redirect a trap to S-mode, for instance) before they are restored.
 */
	.align	4
	.globl	trap_entry
trap_entry:
	csrrw	sp, mscratch, sp
	addi	sp, sp, -FRAME_SIZE
	sw	x1, 4(sp)
	.irp	n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	sw	x\n, (\n * 4)(sp)
	.endr
	csrr	t0, mscratch
	sw	t0, 8(sp)
	sw	zero, 0(sp)
	csrr	t0, mepc
	sw	t0, FRAME_MEPC(sp)
	csrr	t0, mstatus
	sw	t0, FRAME_MSTATUS(sp)
	mv	a0, sp
	call	sbi_trap_handler
	lw	t0, FRAME_MEPC(sp)
	csrw	mepc, t0
	lw	t0, FRAME_MSTATUS(sp)
	csrw	mstatus, t0
	addi	t0, sp, FRAME_SIZE
	csrw	mscratch, t0
	lw	x1, 4(sp)
	.irp	n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	lw	x\n, (\n * 4)(sp)
	.endr
	lw	sp, 8(sp)
	mret

/*
 * struct mprv_result mprv_access(addr, mstatus, op, value)
 * One byte/halfword/word load or a byte store with mstatus temporarily replaced by `mstatus`
 * (MPRV set: the access uses the privilege and translation of MPP). A fault during the access
 * lands in guard_trap, which records mcause and skips the (4-byte) access instruction.
 * Returns the loaded value in a0 and 0 or the fault's mcause in a1.
 */
	.balign	4	/* before norvc: a 2-byte pad needs a compressed nop */
	.option push
	.option norvc
	.globl	mprv_access
mprv_access:
	csrr	t1, mtvec
	la	t0, guard_trap
	csrw	mtvec, t0
	mv	t3, a0
	li	a0, 0
	li	t4, 0
	li	t0, MPRV_LHU
	csrrw	t2, mstatus, a1
	beq	a2, t0, 2f
	li	t0, MPRV_LW
	beq	a2, t0, 3f
	li	t0, MPRV_SB
	beq	a2, t0, 4f
	lbu	a0, 0(t3)
	j	9f
2:	lhu	a0, 0(t3)
	j	9f
3:	lw	a0, 0(t3)
	j	9f
4:	sb	a3, 0(t3)
9:	csrw	mstatus, t2
	csrw	mtvec, t1
	mv	a1, t4
	ret

/*
 * Temporary M-mode trap vector while probing CSRs or accessing memory for the trapped mode:
 * t4 = mcause, skip the faulting 4-byte instruction, drop MPRV, return to M-mode (MPP is M
 * because the trap came from M). Clobbers t0 and t4 only.
 */
	.balign	4	/* mtvec needs 4-byte alignment */
	.globl	guard_trap
guard_trap:
	csrr	t4, mcause
	csrr	t0, mepc
	addi	t0, t0, 4
	csrw	mepc, t0
	li	t0, MSTATUS_MPRV
	csrc	mstatus, t0
	mret
	.option pop

/*
 * enter_next(hart, arg, addr, mode): reset this hart's M stack and enter `addr` in `mode`
 * (0 = U, 1 = S) with a0 = hart, a1 = arg, satp = 0 and S interrupts disabled.
 */
	.globl	enter_next
enter_next:
	la	t0, _stacks_end
	slli	t1, a0, STACK_SHIFT
	sub	t0, t0, t1
	csrw	mscratch, t0
	csrw	mepc, a2
	li	t0, MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_MPRV
	csrc	mstatus, t0
	andi	a3, a3, 3
	slli	a3, a3, MSTATUS_MPP_SHIFT
	csrs	mstatus, a3
	csrw	satp, zero
	sfence.vma
	li	ra, 0
	li	sp, 0
	li	gp, 0
	li	tp, 0
	li	t0, 0
	li	t1, 0
	li	t2, 0
	li	a2, 0
	li	a3, 0
	mret

/* hart_park(hart): reset this hart's M stack and wait in hsm_wait for an HSM start. */
	.globl	hart_park
hart_park:
	la	sp, _stacks_end
	slli	t0, a0, STACK_SHIFT
	sub	sp, sp, t0
	csrw	mscratch, sp
	call	hsm_wait
1:	j	1b
