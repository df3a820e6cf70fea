/**
 * The Sv32 page-table walk (privileged spec 4.3.2), as QEMU 7.2 does it: it sets A, and D on
 * stores, in the PTE in memory. A pure function of RAM, PMP, satp and mstatus, so the hart's
 * TLB (in hart.ts) is only a cache of its results.
 */
import type { Ram } from '../memory/ram.js';
import {
  ACC_FETCH, ACC_LOAD, ACC_STORE, CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE, MSTATUS_MXR, MSTATUS_SUM,
} from './arch.js';
import { PRIV_S } from './hart-api.js';
import { type Pmp, PMP_R } from './pmp.js';

const PTE_V = 1;
const PTE_R = 2;
const PTE_W = 4;
const PTE_X = 8;
const PTE_U = 16;
const PTE_A = 64;
const PTE_D = 128;

/**
 * Translates `va` for an access of kind `acc` (ACC_FETCH/LOAD/STORE) at privilege `mode`
 * (S or U). Returns the physical address (possibly >= 2^32), or, on a fault, `-1 - cause`
 * (the fault's tval is `va`). Allocates nothing.
 */
export function sv32Walk(ram: Ram, pmp: Pmp, satp: number, mstatus: number, va: number, acc: number, mode: number): number {
  let base = (satp & 0x3fffff) * 4096;
  const pageFault = -1 - (acc === ACC_FETCH ? CAUSE_FETCH_PAGE : acc === ACC_LOAD ? CAUSE_LOAD_PAGE : CAUSE_STORE_PAGE);
  for (let level = 1; level >= 0; level--) {
    const idx = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const pteAddr = base + idx * 4;
    if (!ram.contains(pteAddr, 4) || !pmp.check(pteAddr, 4, PMP_R, PRIV_S)) {
      return -1 - (acc === ACC_FETCH ? CAUSE_FETCH_ACCESS : acc === ACC_LOAD ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS);
    }
    const pteOff = pteAddr - ram.base;
    const pte = ram.i32[pteOff >>> 2]!;
    if ((pte & PTE_V) === 0) return pageFault;
    if ((pte & (PTE_R | PTE_W | PTE_X)) === 0) {
      base = (pte >>> 10) * 4096;
      continue;
    }
    if ((pte & (PTE_R | PTE_W)) === PTE_W) return pageFault;
    if (pte & PTE_U) {
      if (mode === PRIV_S && (acc === ACC_FETCH || (mstatus & MSTATUS_SUM) === 0)) return pageFault;
    } else if (mode !== PRIV_S) return pageFault;
    if (level === 1 && ((pte >>> 10) & 0x3ff) !== 0) return pageFault;
    if (acc === ACC_FETCH) {
      if ((pte & PTE_X) === 0) return pageFault;
    } else if (acc === ACC_LOAD) {
      if ((pte & PTE_R) === 0 && !((pte & PTE_X) && (mstatus & MSTATUS_MXR))) return pageFault;
    } else if ((pte & PTE_W) === 0) return pageFault;
    const npte = pte | PTE_A | (acc === ACC_STORE ? PTE_D : 0);
    if (npte !== pte) {
      ram.i32[pteOff >>> 2] = npte;
      ram.markWritten(pteOff);
    }
    return level === 1 ? (pte >>> 20) * 4194304 + (va & 0x3fffff) : (pte >>> 10) * 4096 + (va & 0xfff);
  }
  return pageFault;
}
