/** Helpers shared by the benchmark modules: host stub, machine config, formatting, statistics. */
import { readFileSync } from 'node:fs';
import type { MachineConfig, MachineHost } from '../src/board/machine-api.js';
import { NodeHostTime } from '../src/host/node/host-time.js';

/** A MachineHost whose console appends decoded text to `out` (or drops it without `out`). */
export function nodeHost(out?: string[]): MachineHost {
  const decoder = new TextDecoder();
  return {
    console: { write: (bytes: Uint8Array) => { out?.push(decoder.decode(bytes, { stream: true })); } },
    time: new NodeHostTime(),
    log: (line: string) => { process.stderr.write(`${line}\n`); },
    trace: { int: false, guestErrors: false, unimp: false, inAsm: false },
  };
}

/** The bare-metal machine of every in-process run: 128 MiB, one hart, no firmware, kernel at `path`. */
export function bareConfig(path: string, icountShift?: number, data?: Uint8Array): MachineConfig {
  return {
    ramSize: 128 * 1024 * 1024,
    smp: 1,
    bios: { kind: 'none' },
    kernel: { path, data: data ?? new Uint8Array(readFileSync(path)) },
    ...(icountShift !== undefined ? { icount: { shift: icountShift, align: false, sleep: false }, rtc: { clock: 'vm' as const } } : {}),
    noReboot: true,
  };
}

/** The checksum printed by bench.elf, or undefined. */
export function checksum(output: string): string | undefined {
  return /^bench checksum (0x[0-9a-f]{8})$/m.exec(output.replace(/\r/g, ''))?.[1];
}

/** `n` with `digits` decimals, or `n/a` when not finite. */
export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** The `q` quantile (0..1, nearest rank) of `xs`; NaN when empty. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** One line of the issue-4 table. */
export interface FigureRow {
  /** What is compared. */
  readonly figure: string;
  /** The measured values, human-readable. */
  readonly value: string;
  /** The headline ratio (or rate), already formatted. */
  readonly ratio: string;
}

/** Prints `rows` under a header, columns padded to fit. */
export function printFigures(rows: readonly FigureRow[]): void {
  const w0 = Math.max(6, ...rows.map((r) => r.figure.length)) + 2;
  const w1 = Math.max(5, ...rows.map((r) => r.value.length)) + 2;
  console.log(`${'Figure'.padEnd(w0)}${'Value'.padEnd(w1)}Ratio`);
  for (const r of rows) console.log(`${r.figure.padEnd(w0)}${r.value.padEnd(w1)}${r.ratio}`);
}

/** Milliseconds since an arbitrary origin, from the monotonic high-resolution clock. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
