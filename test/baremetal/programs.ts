/** The bare-metal programs in guest/baremetal/build and the exit status each must produce. */
export interface BaremetalProgram {
  readonly name: string;
  /** Finisher exit status: 0 = pass; fail-exit deliberately exits with 3. */
  readonly status: number;
  /** A line that must appear in the UART output. */
  readonly line: string;
}

const passing = ['demo', 'rv32i', 'rv32m', 'rv32a', 'rv32c', 'csr', 'traps', 'vm', 'pmp', 'interrupts', 'devices', 'nop'];

export const PROGRAMS: readonly BaremetalProgram[] = [
  ...passing.map((name) => ({ name, status: 0, line: `PASS ${name}` })),
  { name: 'bench-quick', status: 0, line: 'PASS bench' },
  { name: 'fail-exit', status: 3, line: 'fail-exit: exiting with finisher code 3' },
];
