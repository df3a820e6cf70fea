/* sbi-test entry: a0 = hart id, a1 = device tree (boot hart) or opaque (HSM-started harts). */
	.option norelax
	.section .text.entry, "ax"
	.globl	_start
_start:
	la	sp, stacks_end
	slli	t0, a0, 12
	sub	sp, sp, t0
	call	test_main
1:	j	1b

	.text
	.globl	secondary_entry
	.balign	4
secondary_entry:
	la	sp, stacks_end
	slli	t0, a0, 12
	sub	sp, sp, t0
	call	secondary_main
1:	j	1b

	.bss
	.balign	16
stacks:
	.space	4096 * 8
stacks_end:
