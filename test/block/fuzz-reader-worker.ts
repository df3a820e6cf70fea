/**
 * The worker of the qcow2 reader's fuzz test (fuzz-reader.test.ts): it opens mutated images in
 * memory and reads every cluster of each, for a bounded time, reporting its progress through
 * shared memory so that the test thread can stop it and name the case should a read ever spin
 * (a promise that never settles is bounded here, per case).
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { checkQcow2, ImageError, openImage, MemoryImageFile, type BlockImage, type Qcow2CheckReport } from '../../src/block/index.js';
import { mutation, type FuzzBase } from './fuzz-mutations.js';

/** What the test thread gives the worker. */
export interface FuzzJob {
  readonly bases: ReadonlyArray<FuzzBase & { readonly content: Uint8Array }>;
  readonly seed: number;
  readonly budgetMs: number;
  readonly maxCases: number;
  readonly caseTimeoutMs: number;
  /** [0]: the case being run (for the watchdog), [1]: cases done. */
  readonly progress: SharedArrayBuffer;
}

/** A case that broke a rule. */
export interface FuzzFailure {
  readonly index: number;
  readonly base: string;
  readonly description: string;
  readonly problem: string;
}

/** A mutated image the reader accepted: its virtual size and the sha256 of what it read (the whole disk unless larger than the limit). */
export interface FuzzAccepted {
  readonly index: number;
  readonly base: number;
  readonly virtualSize: number;
  readonly sha256: string;
}

/** The counts of the checker's report on a mutant (qemu-img check --output=json's). */
export type CheckCounts = Pick<Qcow2CheckReport, 'corruptions' | 'leaks' | 'checkErrors' | 'imageEndOffset'>;

/** A mutated image the checker reported on. */
export interface FuzzChecked {
  readonly index: number;
  readonly base: number;
  readonly report: CheckCounts;
}

function countsOf(r: Qcow2CheckReport): CheckCounts {
  return { corruptions: r.corruptions, leaks: r.leaks, checkErrors: r.checkErrors, imageEndOffset: r.imageEndOffset };
}

/** What the worker reports at the end. */
export interface FuzzResult {
  readonly cases: number;
  readonly refused: number;
  readonly read: number;
  readonly failures: readonly FuzzFailure[];
  readonly accepted: readonly FuzzAccepted[];
  readonly checked: readonly FuzzChecked[];
  readonly errorSamples: readonly string[];
}

/** Reads every byte of the disk (at most `limit`: a mutated size can be huge), a chunk of 64 KiB at a time (every cluster is visited). */
async function readAll(image: BlockImage, limit: number): Promise<Uint8Array> {
  const size = Math.min(image.virtualSize, limit);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += 65536) out.set(await image.read(at, Math.min(65536, size - at)), at);
  return out;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer after ${ms} ms (a hang)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function firstDifference(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `read ${a.length} bytes, expected ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `byte ${i} of the disk is 0x${a[i]!.toString(16)}, expected 0x${b[i]!.toString(16)}`;
  return undefined;
}

/** Runs the job: the worker's body. */
async function runFuzz(job: FuzzJob): Promise<FuzzResult> {
  const progress = new Int32Array(job.progress);
  const failures: FuzzFailure[] = [];
  const accepted: FuzzAccepted[] = [];
  const checked: FuzzChecked[] = [];
  const errorSamples = new Set<string>();
  let refused = 0;
  let read = 0;
  const start = Date.now();
  let index = 0;
  for (; index < job.maxCases && Date.now() - start < job.budgetMs; index++) {
    Atomics.store(progress, 0, index);
    const b = index % job.bases.length;
    const base = job.bases[b]!;
    const m = mutation(base, job.seed, index);
    const fail = (problem: string): void => void failures.push({ index, base: base.name, description: m.description, problem });
    const limit = base.content.length + (1 << 20);
    let image: BlockImage | undefined;
    try {
      const content = await withTimeout((async () => {
        image = await openImage(new MemoryImageFile(`${base.name}#${index}`, m.bytes, false), { format: 'qcow2', readOnly: true });
        return readAll(image, limit);
      })(), job.caseTimeoutMs);
      read++;
      const virtualSize = (image as BlockImage | undefined)?.virtualSize ?? 0;
      accepted.push({ index, base: b, virtualSize, sha256: createHash('sha256').update(content).digest('hex') });
      if (m.expect.kind === 'same') {
        const d = firstDifference(content, base.content);
        if (d !== undefined) fail(`a mutation of ignored bytes changed the read: ${d}`);
      } else if (m.expect.kind === 'data') {
        const expected = base.content.slice();
        expected[m.expect.guestOffset] = m.expect.value;
        const d = firstDifference(content, expected);
        if (d !== undefined) fail(`a data byte changed the read elsewhere: ${d}`);
      }
    } catch (e) {
      if (e instanceof ImageError) {
        refused++;
        if (m.expect.kind !== 'any') fail(`refused a mutation of ${m.expect.kind === 'same' ? 'bytes a read ignores' : 'a data byte'}: ${e.message}`);
        if (errorSamples.size < 40) errorSamples.add(e.message);
        if (e.message.includes('\n')) fail(`the error is not one line: ${JSON.stringify(e.message)}`);
      } else {
        fail(e instanceof Error ? `${e.name}: ${e.message}${e.stack === undefined ? '' : ` ${e.stack.split('\n').slice(1, 4).join(' |')}`}` : String(e));
      }
    } finally {
      // After a hung read, close (which waits for requests in flight) may never settle either.
      const opened = image as BlockImage | undefined;
      if (opened !== undefined) await withTimeout(opened.close(), job.caseTimeoutMs).catch(() => undefined);
    }
    // The checker reads the same bytes its own way: a report or an ImageError, nothing else.
    try {
      const report = await withTimeout(checkQcow2(new MemoryImageFile(`${base.name}#${index}`, m.bytes, false)), job.caseTimeoutMs);
      checked.push({ index, base: b, report: countsOf(report) });
    } catch (e) {
      if (!(e instanceof ImageError)) fail(`the checker: ${e instanceof Error ? `${e.name}: ${e.message}${e.stack === undefined ? '' : ` ${e.stack.split('\n').slice(1, 4).join(' |')}`}` : String(e)}`);
    }
    Atomics.store(progress, 1, index + 1);
  }
  return { cases: index, refused, read, failures, accepted, checked, errorSamples: [...errorSamples] };
}

if (!isMainThread && parentPort !== null) {
  const port = parentPort;
  runFuzz(workerData as FuzzJob).then((r) => port.postMessage(r), (e: unknown) => port.postMessage({ crashed: String(e) }));
}
