/** Small host utilities shared by the end-to-end test helpers. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

/** SHA-256 of a file, hex. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The index just after the first `what` in `text` at or after `from`, or undefined. */
export function indexAfter(text: string, what: RegExp | string, from: number): number | undefined {
  if (typeof what === 'string') {
    const i = text.indexOf(what, from);
    return i < 0 ? undefined : i + what.length;
  }
  const re = new RegExp(what.source, what.flags.replace('g', '') + 'g');
  re.lastIndex = from;
  const m = re.exec(text);
  return m === null ? undefined : m.index + m[0].length;
}

/** A TCP port that was free a moment ago (bound to 127.0.0.1:0 and released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A small deterministic PRNG (mulberry32) in [0, 1), so a failing random test can be rerun from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
