/* rv32c: compressed instructions, each in a tiny function: a0, a1 in, a0 out. */
    .text
    .option rvc
#define F(n) .globl n; .balign 4; n:
F(c_li)       c.li a0, -32
              c.jr ra
F(c_lui)      c.lui a0, 0xfffe1    /* nzimm = -31 << 12 */
              c.jr ra
F(c_addi)     c.addi a0, -1
              c.jr ra
F(c_addi16sp) mv t0, sp
              c.addi16sp sp, -64
              sub a0, t0, sp
              c.addi16sp sp, 64
              c.jr ra
F(c_addi4spn) c.addi4spn a0, sp, 1020
              sub a0, a0, sp
              c.jr ra
F(c_slli)     c.slli a0, 31
              c.jr ra
F(c_srli)     c.srli a0, 31
              c.jr ra
F(c_srai)     c.srai a0, 4
              c.jr ra
F(c_andi)     c.andi a0, -2
              c.jr ra
F(c_mv)       c.mv a0, a1
              c.jr ra
F(c_add)      c.add a0, a1
              c.jr ra
F(c_sub)      c.sub a0, a1
              c.jr ra
F(c_xor)      c.xor a0, a1
              c.jr ra
F(c_or)       c.or a0, a1
              c.jr ra
F(c_and)      c.and a0, a1
              c.jr ra
/* c.lw / c.sw: a0 = address, a1 = value: stores at 124(a0), loads it back with c.lw + 4 */
F(c_lwsw)     c.sw a1, 124(a0)
              c.lw a0, 124(a0)
              c.jr ra
/* c.lwsp / c.swsp through the stack */
F(c_lwspswsp) c.addi16sp sp, -256
              c.swsp a0, 252(sp)
              c.lwsp a1, 252(sp)
              c.addi16sp sp, 256
              c.mv a0, a1
              c.jr ra
/* c.j forward and backward: returns 3 */
F(c_jmp)      c.li a0, 0
              c.j 2f
1:            c.addi a0, 2
              c.j 3f
2:            c.addi a0, 1
              c.j 1b
3:            c.jr ra
/* c.jal (RV32 only): links pc+2 into ra; returns link - label */
F(c_jal_t)    c.mv t1, ra
              c.jal 1f
2:            c.nop
1:            la a0, 2b
              sub a0, ra, a0
              c.mv ra, t1
              c.jr ra
/* c.jalr: links pc+2; returns link - label */
F(c_jalr_t)   c.mv t1, ra
              la t0, 1f
              c.jalr t0
2:            c.nop
1:            la a0, 2b
              sub a0, ra, a0
              c.mv ra, t1
              c.jr ra
/* c.beqz / c.bnez: a0 = value; returns 1 if beqz taken, +2 if bnez taken */
F(c_br)       c.mv a1, a0
              c.li a0, 0
              c.beqz a1, 1f
              c.j 2f
1:            c.addi a0, 1
2:            c.bnez a1, 3f
              c.jr ra
3:            c.addi a0, 2
              c.jr ra
/* c.nop, then c.add with x0 source kept: returns a0 unchanged */
F(c_nop)      c.nop
              c.jr ra
/* mixed 16/32-bit stream with a 32-bit instruction at a 2-byte aligned address */
F(c_mixed)    c.nop
              .option push
              .option norvc
              addi a0, a0, 100
              .option pop
              c.addi a0, 1
              c.jr ra
/* c.ebreak: the M handler records cause 3 and skips 2 bytes */
F(c_ebreak)   c.ebreak
              c.li a0, 9
              c.jr ra
