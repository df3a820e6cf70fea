/**
 * Test support: sample events of every kind and an in-memory sink. Used by the log's tests, the
 * host file tests and the dump tool's tests.
 */
import type { ReplayEvent } from '../../../src/replay/log/events.js';
import type { LogHeaderInit } from '../../../src/replay/log/header.js';
import type { LogSink } from '../../../src/replay/log/log-writer.js';

/** One event of every kind (and both shapes of the optional fields), icounts non-decreasing. */
export function sampleEvents(): ReplayEvent[] {
  const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  return [
    { kind: 'console-input', icount: 0, bytes: new TextEncoder().encode('ls -l\n') },
    { kind: 'clock-read', icount: 0, clock: 'host', value: 1_700_000_000_123_456_800 },
    { kind: 'clock-read', icount: 17, clock: 'realtime', value: 12.5 },
    { kind: 'virtio-doorbell', icount: 1000, slot: 3 },
    { kind: 'block-complete', icount: 1200, slot: 3, request: 0, data: bytes(4096, 1) },
    { kind: 'block-complete', icount: 1300, slot: 3, request: 1 },
    { kind: 'block-complete', icount: 1400, slot: 3, request: 2, error: 'Input/output error' },
    { kind: 'block-complete', icount: 1400, slot: 3, request: 3, error: 'short read', data: bytes(3, 2) },
    { kind: 'entropy', icount: 2000, slot: 5, request: 7, bytes: bytes(64, 3) },
    { kind: 'net-receive', icount: 3000, slot: 1, frame: bytes(60, 4) },
    { kind: 'timer', icount: 4000, id: 2, shift: 3 },
    { kind: 'request', icount: 5000, what: 'reset', cause: 'guest-reset' },
    { kind: 'request', icount: 5001, what: 'shutdown', cause: 'guest-shutdown', exitCode: -3 },
    { kind: 'request', icount: 5002, what: 'powerdown', cause: 'host-qmp-system-powerdown', exitCode: 0 },
    { kind: 'monitor', icount: 6000, command: 'system_reset ✓' },
    { kind: 'interrupt', icount: 7000, hart: 1, cause: 0x8000_0007 },
    {
      kind: 'digest', icount: 8000,
      harts: [{ pc: 0x8000_0000, regsHash: '0123456789abcdef' }, { pc: 0xffff_fffc, regsHash: 'ffffffffffffffff' }],
      devicesHash: '00000000deadbeef', ramHash: 'a5a5a5a55a5a5a5a', ramPages: 32768,
    },
    { kind: 'console-input', icount: 2 ** 53 - 2, bytes: new Uint8Array([0, 255, 10]) },
    { kind: 'end', icount: 2 ** 53 - 1, reason: 'shutdown', exitCode: 0 },
  ];
}

export function sampleHeader(): LogHeaderInit {
  return {
    replayvm: '0.1.0',
    created: '2024-05-01T12:00:00.000Z',
    machine: { argv: ['-M', 'virt', '-m', '128M', '-icount', 'shift=3,rr=record,rrfile=x.rlog'], ramBytes: 134217728, smp: 1, icountShift: 3 },
    images: [{ role: 'kernel', path: 'guest/demo.elf', sha256: 'ab'.repeat(32), size: 12345 }],
  };
}

/** Collects everything written, remembering each write and sync. */
export class MemorySink implements LogSink {
  readonly writes: Uint8Array[] = [];
  syncs = 0;
  /** Bytes written when the last sync happened. */
  syncedLength = 0;
  closed = false;
  private total = 0;

  write(bytes: Uint8Array): void {
    if (this.closed) throw new Error('write after close');
    this.writes.push(new Uint8Array(bytes));
    this.total += bytes.length;
  }

  sync(): void {
    this.syncs++;
    this.syncedLength = this.total;
  }

  close(): void {
    this.closed = true;
  }

  get length(): number {
    return this.total;
  }

  /** All bytes written, concatenated. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const w of this.writes) {
      out.set(w, o);
      o += w.length;
    }
    return out;
  }
}
