/**
 * QEMU's restriction on a raw image whose format was probed (block/raw-format.c,
 * raw_co_pwritev): a write to sector 0 whose new contents would make the image probe as another
 * format is refused (EPERM there; an I/O error for the guest), so a guest cannot turn its disk
 * into, say, a qcow2 image naming a host file as its backing file. Every other write goes
 * through unchanged.
 */
import { NO_DATA, type ClosableBlockBackend, type CacheMode } from './block-backend.js';
import { PROBE_SIZE, guessFormat } from './probe.js';

/** A writable probed-raw image: sector 0 guarded, everything else passed through. */
export class ProbedRawBackend implements ClosableBlockBackend {
  readonly byteLength: number;
  readonly readOnly: boolean;
  readonly cache: CacheMode;
  readonly read: ClosableBlockBackend['read'];
  readonly flush: ClosableBlockBackend['flush'];

  constructor(private readonly base: ClosableBlockBackend) {
    this.byteLength = base.byteLength;
    this.readOnly = base.readOnly;
    this.cache = base.cache;
    this.read = base.read.bind(base);
    this.flush = base.flush.bind(base);
  }

  write(offset: number, data: Uint8Array, done: (err: string | undefined) => void): void {
    if (offset >= PROBE_SIZE || data.length === 0 || !Number.isSafeInteger(offset) || offset < 0) {
      this.base.write(offset, data, done);
      return;
    }
    const check = (sector0: Uint8Array): void => {
      const guessed = guessFormat(sector0);
      if (guessed !== 'raw') {
        setImmediate(() => done(`write to sector 0 refused: the image's format was probed as raw and the data would make it probe as ${guessed} (give format=raw to allow it)`));
      } else {
        this.base.write(offset, data, done);
      }
    };
    if (offset === 0 && data.length >= PROBE_SIZE) {
      check(data.subarray(0, PROBE_SIZE));
      return;
    }
    // A partial write of sector 0: what the sector would hold afterwards. (Another write
    // racing this one on sector 0 could slip past, as two guest requests may race in QEMU too.)
    const length = Math.min(PROBE_SIZE, this.byteLength);
    this.base.read(0, length, (err, old) => {
      if (err !== undefined) {
        done(err);
        return;
      }
      const sector0 = old === NO_DATA ? new Uint8Array(length) : old.slice();
      sector0.set(data.subarray(0, Math.max(0, length - offset)), offset);
      check(sector0);
    });
  }

  close(): Promise<void> {
    return this.base.close();
  }
}
