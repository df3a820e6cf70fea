/** SBI numbers (RISC-V Supervisor Binary Interface specification v2.0). */

/** Version this firmware reports: SBI v2.0 (major << 24 | minor). */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
/**
 * Implementation ID this firmware reports. IDs 0..11 are assigned (BBL, OpenSBI, Xvisor, KVM,
 * RustSBI, Diosix, Coffer, Xen, PolarFire HSS, coreboot, oreboot, bhyve); replayvm uses the
 * unassigned value 0x5250564d ("RPVM").
 */
export const SBI_IMPL_ID = 0x5250564d;
/** Implementation version: 0.1.0 as (major << 16 | minor << 8 | patch). */
export const SBI_IMPL_VERSION = 0x000100;

export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_DENIED = -4;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
export const SBI_ERR_ALREADY_STARTED = -7;
export const SBI_ERR_ALREADY_STOPPED = -8;

/** Legacy (v0.1) extension IDs. */
export const SBI_LEGACY_SET_TIMER = 0x0;
export const SBI_LEGACY_CONSOLE_PUTCHAR = 0x1;
export const SBI_LEGACY_CONSOLE_GETCHAR = 0x2;
export const SBI_LEGACY_CLEAR_IPI = 0x3;
export const SBI_LEGACY_SEND_IPI = 0x4;
export const SBI_LEGACY_REMOTE_FENCE_I = 0x5;
export const SBI_LEGACY_REMOTE_SFENCE_VMA = 0x6;
export const SBI_LEGACY_REMOTE_SFENCE_VMA_ASID = 0x7;
export const SBI_LEGACY_SHUTDOWN = 0x8;

export const SBI_EXT_BASE = 0x10;
export const SBI_EXT_TIME = 0x54494d45;
export const SBI_EXT_IPI = 0x735049;
export const SBI_EXT_RFENCE = 0x52464e43;
export const SBI_EXT_HSM = 0x48534d;
export const SBI_EXT_SRST = 0x53525354;
export const SBI_EXT_DBCN = 0x4442434e;

/** HSM hart states. */
export const HSM_STARTED = 0;
export const HSM_STOPPED = 1;
export const HSM_START_PENDING = 2;
export const HSM_STOP_PENDING = 3;
export const HSM_SUSPENDED = 4;
export const HSM_SUSPEND_PENDING = 5;
export const HSM_RESUME_PENDING = 6;

export const HSM_SUSPEND_RETENTIVE = 0x00000000;
export const HSM_SUSPEND_NON_RETENTIVE = 0x80000000;

export const SRST_SHUTDOWN = 0;
export const SRST_COLD_REBOOT = 1;
export const SRST_WARM_REBOOT = 2;
export const SRST_REASON_SYSTEM_FAILURE = 1;

/** CSR numbers the firmware touches. */
export const CSR_MSTATUS = 0x300;
export const CSR_MEDELEG = 0x302;
export const CSR_MIDELEG = 0x303;
export const CSR_MIE = 0x304;
export const CSR_MCOUNTEREN = 0x306;
export const CSR_MIP = 0x344;
export const CSR_PMPCFG0 = 0x3a0;
export const CSR_PMPADDR0 = 0x3b0;
export const CSR_MVENDORID = 0xf11;
export const CSR_MARCHID = 0xf12;
export const CSR_MIMPID = 0xf13;
