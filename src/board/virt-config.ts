/**
 * The checks a `virt` machine's configuration must pass before anything is built: RAM size and
 * place, hart count, quantum, icount settings, virtio slots, image combinations.
 */
import { icountConfigProblem } from '../main-loop/icount-config.js';
import { BoardError } from './errors.js';
import type { MachineConfig } from './machine-api.js';
import { VIRT_MAX_HARTS, VIRT_MAX_RAM, VIRT_MEMMAP, VIRT_MIN_RAM, VIRTIO_COUNT } from './virt-memory-map.js';

const MiB = 1024 * 1024;

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** Throws BoardError, naming the option, when `config` does not fit the virt board. */
export function validateVirtConfig(config: MachineConfig): void {
  const m = config.ramSize;
  if (!Number.isInteger(m) || m < VIRT_MIN_RAM) {
    throw new BoardError(`-m ${m / MiB}M: too small, the virt board needs at least ${VIRT_MIN_RAM / MiB}M`);
  }
  if (m > VIRT_MAX_RAM) {
    throw new BoardError(`-m ${m / MiB}M: too large, RAM at ${hex(VIRT_MEMMAP.dram.base)} must end by 4 GiB (at most ${VIRT_MAX_RAM / MiB}M)`);
  }
  if (m % 4096 !== 0) throw new BoardError(`-m ${m}: RAM size must be a multiple of 4 KiB`);
  if (!Number.isInteger(config.smp) || config.smp < 1 || config.smp > VIRT_MAX_HARTS) {
    throw new BoardError(`-smp ${config.smp}: the virt board supports 1 to ${VIRT_MAX_HARTS} harts`);
  }
  const q = config.quantum;
  if (q !== undefined && (!Number.isInteger(q) || q < 1)) throw new BoardError(`quantum ${q}: must be a positive integer`);
  const problem = config.icount === undefined ? undefined : icountConfigProblem(config.icount);
  if (problem !== undefined) throw new BoardError(`-icount: ${problem}`);
  const slots = new Set<number>();
  for (const d of config.virtio ?? []) {
    if (!Number.isInteger(d.slot) || d.slot < 0 || d.slot >= VIRTIO_COUNT) throw new BoardError(`virtio slot ${d.slot}: the virt board has slots 0 to ${VIRTIO_COUNT - 1}`);
    if (slots.has(d.slot)) throw new BoardError(`virtio slot ${d.slot}: used twice`);
    slots.add(d.slot);
  }
  if (config.initrd !== undefined && config.kernel === undefined) throw new BoardError('-initrd requires -kernel');
  if (config.bios.kind === 'default' && config.kernel === undefined) {
    throw new BoardError('-bios default: the built-in SBI needs a -kernel to run (or use -bios none)');
  }
}
