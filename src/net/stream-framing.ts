/**
 * The framing of QEMU's `-netdev socket,listen=/connect=` (and `-netdev stream`): each frame is
 * preceded by its length as a 4-byte big-endian number (net/socket.c, net_fill_rstate).
 */
import { rd32, wr32 } from './bytes.js';

/** QEMU's NET_BUFSIZE (4096 + 65536): longer frames are a protocol error. */
export const MAX_STREAM_FRAME = 4096 + 65536;

/** The stream carried a length no real peer sends. */
export class StreamFramingError extends Error {
  override name = 'StreamFramingError';
}

/** The bytes to write for one frame: length prefix and frame. */
export function encodeStreamFrame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + frame.length);
  wr32(out, 0, frame.length);
  out.set(frame, 4);
  return out;
}

/**
 * Reassembles frames from arbitrary chunks of the stream: a chunk may hold part of a length,
 * part of a frame, or several frames.
 */
export class StreamDeframer {
  private readonly lenBuf = new Uint8Array(4);
  private lenHave = 0;
  private frame: Uint8Array | null = null;
  private frameHave = 0;
  private failed: StreamFramingError | null = null;

  constructor(
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly maxFrame = MAX_STREAM_FRAME,
  ) {}

  /** Whether a frame or a length is partly received. */
  get midFrame(): boolean {
    return this.lenHave > 0 || this.frame !== null;
  }

  /**
   * Feeds bytes; calls onFrame for each completed frame (zero-length frames included). Throws
   * StreamFramingError for a length above the maximum, then on every later call.
   */
  push(chunk: Uint8Array): void {
    if (this.failed) throw this.failed;
    let i = 0;
    while (i < chunk.length) {
      if (this.frame === null) {
        const n = Math.min(4 - this.lenHave, chunk.length - i);
        this.lenBuf.set(chunk.subarray(i, i + n), this.lenHave);
        this.lenHave += n;
        i += n;
        if (this.lenHave < 4) break;
        this.lenHave = 0;
        const len = rd32(this.lenBuf, 0);
        if (len > this.maxFrame) {
          this.failed = new StreamFramingError(`frame length ${len} exceeds ${this.maxFrame}`);
          throw this.failed;
        }
        if (len === 0) {
          this.onFrame(new Uint8Array(0));
          continue;
        }
        this.frame = new Uint8Array(len);
        this.frameHave = 0;
      }
      const n = Math.min(this.frame.length - this.frameHave, chunk.length - i);
      this.frame.set(chunk.subarray(i, i + n), this.frameHave);
      this.frameHave += n;
      i += n;
      if (this.frameHave === this.frame.length) {
        const done = this.frame;
        this.frame = null;
        this.onFrame(done);
      }
    }
  }

  /** Forgets a partial frame and any error (a new peer connected). */
  reset(): void {
    this.lenHave = 0;
    this.frame = null;
    this.frameHave = 0;
    this.failed = null;
  }
}
