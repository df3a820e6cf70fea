/**
 * The device tree of our `virt` board, mirroring what QEMU 7.2 generates for
 * `qemu-system-riscv32 -M virt` (hw/riscv/virt.c create_fdt and friends): same node names,
 * unit addresses, compatibles, `reg`s, interrupt numbers and phandle wiring (phandles are even
 * allocated in QEMU's order: harts from the highest down, each cpu then its intc, then the
 * PLIC, then the test device).
 *
 * Intended differences from QEMU 7.2:
 * - Omitted nodes, because the board has no such device: /pmu (no counters beyond the base
 *   ISA), /fw-cfg@10100000, /flash@20000000, /platform-bus@4000000, /soc/pci@30000000.
 * - /chosen has no `rng-seed` (QEMU puts 32 random bytes there: not deterministic).
 * - `riscv,isa` describes our hart ("rv32imac_zicsr_zifencei"), not QEMU's default rv32 cpu
 *   ("rv32imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc").
 * - Nodes are emitted in a readable order (QEMU's libfdt prepends, so its blob lists them in
 *   reverse creation order); the order of siblings carries no meaning.
 */
import { FdtWriter } from './fdt-writer.js';
import { VIRT_IRQ, VIRT_MEMMAP, VIRTIO_COUNT, virtioBase } from '../virt-memory-map.js';

/** UART input clock on `virt` (3.6864 MHz). */
export const VIRT_UART_CLOCK_HZ = 0x384000;
/** riscv,ndev of the `virt` PLIC as QEMU 7.2 writes it. */
export const VIRT_PLIC_NDEV = 96;
/** The ISA string our hart reports. */
export const REPLAYVM_RISCV_ISA = 'rv32imac_zicsr_zifencei';

/** Parameters of the generated tree. */
export interface VirtFdtParams {
  ramBase: number;
  ramSize: number;
  smp: number;
  bootargs?: string;
  initrd?: { start: number; end: number };
  /** CLINT mtime frequency, 10 MHz on `virt`. */
  timebaseFrequency: number;
  /** Override of `riscv,isa` (default `REPLAYVM_RISCV_ISA`). */
  isa?: string;
}

const IRQ_M_SOFT = 3;
const IRQ_M_TIMER = 7;
const IRQ_S_EXT = 9;
const IRQ_M_EXT = 11;

/** Builds the DTB for a `virt` machine with the given RAM, hart count and boot parameters. */
export function buildVirtFdt(p: VirtFdtParams): Uint8Array {
  if (!Number.isInteger(p.smp) || p.smp < 1) throw new RangeError(`buildVirtFdt: bad smp ${p.smp}`);
  const w = new FdtWriter();
  // Phandles in QEMU's order.
  const cpuPh: number[] = new Array<number>(p.smp).fill(0);
  const intcPh: number[] = new Array<number>(p.smp).fill(0);
  for (let h = p.smp - 1; h >= 0; h--) {
    cpuPh[h] = w.allocPhandle();
    intcPh[h] = w.allocPhandle();
  }
  const plicPh = w.allocPhandle();
  const testPh = w.allocPhandle();
  const hex = (n: number): string => n.toString(16);

  w.beginNode('');
  w.propU32('#address-cells', 2);
  w.propU32('#size-cells', 2);
  w.propString('compatible', 'riscv-virtio');
  w.propString('model', 'riscv-virtio,qemu');

  w.beginNode('chosen');
  w.propString('stdout-path', `/soc/serial@${hex(VIRT_MEMMAP.uart0.base)}`);
  if (p.bootargs !== undefined && p.bootargs !== '') w.propString('bootargs', p.bootargs);
  if (p.initrd !== undefined) {
    w.propU32('linux,initrd-start', p.initrd.start >>> 0);
    w.propU32('linux,initrd-end', p.initrd.end >>> 0);
  }
  w.endNode();

  w.beginNode(`memory@${hex(p.ramBase)}`);
  w.propString('device_type', 'memory');
  w.propU64('reg', p.ramBase, p.ramSize);
  w.endNode();

  w.beginNode('cpus');
  w.propU32('#address-cells', 1);
  w.propU32('#size-cells', 0);
  w.propU32('timebase-frequency', p.timebaseFrequency);
  for (let h = 0; h < p.smp; h++) {
    w.beginNode(`cpu@${hex(h)}`);
    w.propU32('phandle', cpuPh[h]!);
    w.propString('device_type', 'cpu');
    w.propU32('reg', h);
    w.propString('status', 'okay');
    w.propString('compatible', 'riscv');
    w.propString('riscv,isa', p.isa ?? REPLAYVM_RISCV_ISA);
    w.propString('mmu-type', 'riscv,sv32');
    w.beginNode('interrupt-controller');
    w.propU32('#interrupt-cells', 1);
    w.propEmpty('interrupt-controller');
    w.propString('compatible', 'riscv,cpu-intc');
    w.propU32('phandle', intcPh[h]!);
    w.endNode();
    w.endNode();
  }
  w.beginNode('cpu-map');
  w.beginNode('cluster0');
  for (let h = 0; h < p.smp; h++) {
    w.beginNode(`core${h}`);
    w.propU32('cpu', cpuPh[h]!);
    w.endNode();
  }
  w.endNode();
  w.endNode();
  w.endNode(); // cpus

  w.beginNode('soc');
  w.propU32('#address-cells', 2);
  w.propU32('#size-cells', 2);
  w.propString('compatible', 'simple-bus');
  w.propEmpty('ranges');

  w.beginNode(`clint@${hex(VIRT_MEMMAP.clint.base)}`);
  w.propU32('interrupts-extended', ...intcPh.flatMap((ph) => [ph, IRQ_M_SOFT, ph, IRQ_M_TIMER]));
  w.propU64('reg', VIRT_MEMMAP.clint.base, VIRT_MEMMAP.clint.size);
  w.propStrings('compatible', 'sifive,clint0', 'riscv,clint0');
  w.endNode();

  w.beginNode(`plic@${hex(VIRT_MEMMAP.plic.base)}`);
  w.propU32('phandle', plicPh);
  w.propU32('riscv,ndev', VIRT_PLIC_NDEV);
  w.propU64('reg', VIRT_MEMMAP.plic.base, VIRT_MEMMAP.plic.size);
  w.propU32('interrupts-extended', ...intcPh.flatMap((ph) => [ph, IRQ_M_EXT, ph, IRQ_S_EXT]));
  w.propEmpty('interrupt-controller');
  w.propStrings('compatible', 'sifive,plic-1.0.0', 'riscv,plic0');
  w.propU32('#address-cells', 0);
  w.propU32('#interrupt-cells', 1);
  w.endNode();

  for (let i = 0; i < VIRTIO_COUNT; i++) {
    const base = virtioBase(i);
    w.beginNode(`virtio_mmio@${hex(base)}`);
    w.propU32('interrupts', VIRT_IRQ.virtio + i);
    w.propU32('interrupt-parent', plicPh);
    w.propU64('reg', base, VIRT_MEMMAP.virtio.size);
    w.propString('compatible', 'virtio,mmio');
    w.endNode();
  }

  w.beginNode(`test@${hex(VIRT_MEMMAP.test.base)}`);
  w.propU32('phandle', testPh);
  w.propU64('reg', VIRT_MEMMAP.test.base, VIRT_MEMMAP.test.size);
  w.propStrings('compatible', 'sifive,test1', 'sifive,test0', 'syscon');
  w.endNode();

  w.beginNode(`serial@${hex(VIRT_MEMMAP.uart0.base)}`);
  w.propU32('interrupts', VIRT_IRQ.uart0);
  w.propU32('interrupt-parent', plicPh);
  w.propU32('clock-frequency', VIRT_UART_CLOCK_HZ);
  w.propU64('reg', VIRT_MEMMAP.uart0.base, VIRT_MEMMAP.uart0.size);
  w.propString('compatible', 'ns16550a');
  w.endNode();

  w.beginNode(`rtc@${hex(VIRT_MEMMAP.rtc.base)}`);
  w.propU32('interrupts', VIRT_IRQ.rtc);
  w.propU32('interrupt-parent', plicPh);
  w.propU64('reg', VIRT_MEMMAP.rtc.base, VIRT_MEMMAP.rtc.size);
  w.propString('compatible', 'google,goldfish-rtc');
  w.endNode();

  w.endNode(); // soc

  w.beginNode('poweroff');
  w.propU32('value', 0x5555);
  w.propU32('offset', 0);
  w.propU32('regmap', testPh);
  w.propString('compatible', 'syscon-poweroff');
  w.endNode();

  w.beginNode('reboot');
  w.propU32('value', 0x7777);
  w.propU32('offset', 0);
  w.propU32('regmap', testPh);
  w.propString('compatible', 'syscon-reboot');
  w.endNode();

  w.endNode(); // root
  return w.finish();
}
