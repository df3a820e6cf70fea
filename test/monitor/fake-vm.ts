/** A fake VmControl for monitor tests: records calls, serves memory from a byte array. */
import type { CpuInfo, CpuRegisters, RunState, VmControl, VmEvent } from '../../src/monitor/vm-control.js';

/** Fake machine: 64 bytes of "RAM" at 0x80000000, one hart. */
export class FakeVm implements VmControl {
  readonly calls: string[] = [];
  state: RunState = 'paused';
  readonly ram = new Uint8Array(64);
  readonly ramBase = 0x80000000;
  private readonly listeners = new Set<(e: VmEvent) => void>();
  readonly version = { major: 7, minor: 2, micro: 0, package: 'replayvm-test' };

  constructor() {
    const words = [0x00000297, 0x02828613, 0xf1402573, 0x0202a583];
    words.forEach((w, i) => new DataView(this.ram.buffer).setUint32(i * 4, w, true));
    this.ram.set([0x41, 0x27, 0x0a, 0x00], 16);
  }

  emit(e: VmEvent): void { for (const l of this.listeners) l(e); }
  runState(): RunState { this.calls.push('runState'); return this.state; }
  async stop(): Promise<void> { this.calls.push('stop'); if (this.state === 'running') { this.state = 'paused'; this.emit({ event: 'STOP' }); } }
  async cont(): Promise<void> { this.calls.push('cont'); if (this.state !== 'running') { this.state = 'running'; this.emit({ event: 'RESUME' }); } }
  async systemReset(): Promise<void> { this.calls.push('systemReset'); this.emit({ event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' } }); }
  async systemPowerdown(): Promise<void> { this.calls.push('systemPowerdown'); this.emit({ event: 'POWERDOWN' }); }
  quit(): void { this.calls.push('quit'); }
  cpus(): readonly CpuInfo[] { return [{ cpuIndex: 0, pc: 0x80000000, privilege: 'M', halted: false, threadId: 4242 }]; }
  registers(cpuIndex: number): CpuRegisters {
    this.calls.push(`registers ${cpuIndex}`);
    const x = Array.from({ length: 32 }, (_, i) => i * 0x11);
    return { pc: 0x80000004, privilege: 'M', x, csrs: [['mstatus', 0x1800], ['mepc', 0x80000000]] };
  }
  readMemory(address: number, length: number, physical: boolean): Uint8Array {
    this.calls.push(`read ${address.toString(16)} ${length} ${physical}`);
    const off = address - this.ramBase;
    if (off < 0 || off + length > this.ram.length) throw new Error(`unmapped 0x${address.toString(16)}`);
    return this.ram.slice(off, off + length);
  }
  onEvent(listener: (event: VmEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
