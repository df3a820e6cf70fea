/**
 * Resynchronisation after a bad chunk: finds the next intact chunk (its magic, a length within
 * the file and a matching CRC) after a damaged spot. It tells the two ways a log stops apart:
 * a recorder killed in the middle of a write leaves a short *last* chunk with nothing intact
 * after it, while damage inside the file (a flipped bit, zeroed bytes) is followed by the intact
 * chunks written after it.
 *
 * The scan is bounded. It looks for a chunk starting at most `MAX_RESYNC_DISTANCE` bytes after
 * the damaged one's offset: the largest chunk the format allows, so the chunk written right after
 * a damaged chunk of any size is within reach (damage spanning several chunks may hide the next
 * intact one; the log is then still reported damaged, only without naming where it resumes).
 * It verifies at most `MAX_CANDIDATES` candidate magics and `MAX_VERIFIED_BYTES` bytes of them,
 * so a file of repeated "CHNK" with huge lengths cannot make it quadratic.
 */
import { intactChunkLength } from './chunk.js';
import { CHUNK_HEADER_BYTES, CHUNK_MAGIC, CHUNK_TRAILER_BYTES, MAX_CHUNK_STORED } from './format.js';
import type { ByteSource } from './source.js';

const BLOCK_BYTES = 256 << 10;
/** How far after a damaged chunk's offset the next chunk may start: the largest chunk. */
export const MAX_RESYNC_DISTANCE = CHUNK_HEADER_BYTES + MAX_CHUNK_STORED + CHUNK_TRAILER_BYTES;
const MAX_CANDIDATES = 4096;
const MAX_VERIFIED_BYTES = 64 << 20;

/** An intact chunk found after damage. */
export interface ResyncPoint {
  /** File offset of the intact chunk's magic. */
  readonly offset: number;
  /** Its length in the file. */
  readonly length: number;
}

/**
 * The first intact chunk after the bad chunk at `badOffset` (starting in (badOffset,
 * badOffset + MAX_RESYNC_DISTANCE]), or undefined when there is none (or the scan's bounds were
 * reached first).
 */
export function findIntactChunk(source: ByteSource, badOffset: number): ResyncPoint | undefined {
  const first = CHUNK_MAGIC[0]!;
  const lastStart = Math.min(source.size - 1, badOffset + MAX_RESYNC_DISTANCE);
  let candidates = 0;
  let verified = 0;
  for (let block = badOffset + 1; block <= lastStart; block += BLOCK_BYTES) {
    // Overlap by the magic's length so that a magic across two blocks is seen.
    const bytes = source.read(block, BLOCK_BYTES + CHUNK_MAGIC.length - 1);
    const limit = Math.min(bytes.length, BLOCK_BYTES, lastStart - block + 1);
    for (let i = bytes.indexOf(first); i >= 0 && i < limit; i = bytes.indexOf(first, i + 1)) {
      if (!startsWithMagic(bytes, i)) continue;
      if (++candidates > MAX_CANDIDATES) return undefined;
      const offset = block + i;
      // What checking it reads: its declared length, when that fits in the file.
      const lengthField = source.read(offset + 4, 4);
      const declared = lengthField.length === 4
        ? new DataView(lengthField.buffer, lengthField.byteOffset, 4).getUint32(0, true) + CHUNK_HEADER_BYTES + CHUNK_TRAILER_BYTES
        : 0;
      if (declared <= source.size - offset) {
        verified += declared;
        if (verified > MAX_VERIFIED_BYTES) return undefined;
      }
      const length = intactChunkLength(source, offset);
      if (length !== undefined) return { offset, length };
    }
  }
  return undefined;
}

function startsWithMagic(bytes: Uint8Array, at: number): boolean {
  if (at + CHUNK_MAGIC.length > bytes.length) return false;
  for (let k = 1; k < CHUNK_MAGIC.length; k++) if (bytes[at + k] !== CHUNK_MAGIC[k]) return false;
  return true;
}
