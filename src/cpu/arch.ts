/**
 * Architectural constants the hart's files share: exception causes, mstatus bits, and the
 * layout of the hart's arena fields (`csr` and `misc` words). Values, not behaviour.
 */

/* Exception causes. */
export const CAUSE_MISALIGNED_FETCH = 0;
export const CAUSE_FETCH_ACCESS = 1;
export const CAUSE_ILLEGAL = 2;
export const CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4;
export const CAUSE_LOAD_ACCESS = 5;
export const CAUSE_MISALIGNED_STORE = 6;
export const CAUSE_STORE_ACCESS = 7;
export const CAUSE_ECALL_U = 8;
export const CAUSE_ECALL_S = 9;
export const CAUSE_ECALL_M = 11;
export const CAUSE_FETCH_PAGE = 12;
export const CAUSE_LOAD_PAGE = 13;
export const CAUSE_STORE_PAGE = 15;

/* mstatus bits. */
export const MSTATUS_SIE = 1 << 1;
export const MSTATUS_MIE = 1 << 3;
export const MSTATUS_SPIE = 1 << 5;
export const MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8;
export const MSTATUS_MPP = 3 << 11;
export const MSTATUS_MPRV = 1 << 17;
export const MSTATUS_SUM = 1 << 18;
export const MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20;
export const MSTATUS_TW = 1 << 21;
export const MSTATUS_TSR = 1 << 22;

/** misa: RV32 with A, C, I, M, S, U. */
export const MISA_VALUE = 0x40141105;

/* CSR word offsets inside the hart's `csr` arena field. */
export const C_MSTATUS = 0;
export const C_MEDELEG = 1;
export const C_MIDELEG = 2;
export const C_MIE = 3;
export const C_MTVEC = 4;
export const C_MCOUNTEREN = 5;
export const C_MSCRATCH = 6;
export const C_MEPC = 7;
export const C_MCAUSE = 8;
export const C_MTVAL = 9;
export const C_STVEC = 10;
export const C_SCOUNTEREN = 11;
export const C_SSCRATCH = 12;
export const C_SEPC = 13;
export const C_SCAUSE = 14;
export const C_STVAL = 15;
export const C_SATP = 16;
export const C_MENVCFG = 17;
export const C_SENVCFG = 18;
export const C_MCOUNTINHIBIT = 19;
/** Size of the `csr` arena field. */
export const CSR_WORDS = 20;

/* Words of the hart's `misc` arena field. */
export const M_PC = 0;
export const M_PRIV = 1;
export const M_MIP = 2;
// misc word 3 is unused (it held the signal word, now a host-derived field of its own).
export const M_WFI = 4;
export const M_RES_VALID = 5;
export const M_RES_ADDR = 6;
export const M_RES_VALUE = 7;
/** Size of the `misc` arena field. */
export const MISC_WORDS = 8;

/* Memory access kinds (translation, PMP and fault causes depend on them). */
export const ACC_FETCH = 0;
export const ACC_LOAD = 1;
export const ACC_STORE = 2;

/** 2^32, for 64-bit counters kept as numbers. */
export const TWO32 = 4294967296;
