/**
 * The qcow2 reader's fuzz test: small valid images (made by qemu-img: plain, small clusters,
 * compressed, with snapshots, version 2, 1-bit refcounts; and one our engine wrote) are mutated
 * (bit flips, boundary values in header fields and table entries, random bytes, truncation,
 * junk appended, COPIED flags): 3000 cases in a few seconds, and each mutant is opened and read
 * whole, and checked by the checker. Each must be refused with a one-line ImageError or read,
 * never throw anything else or hang; a mutation of bytes a read ignores must open and read the
 * original, a changed data byte only that byte. Then samples go to qemu-img: mutants we read,
 * converted by `qemu-img convert -O raw`, must give the same bytes where qemu-img reads them
 * too; mutants we checked, the same counts from `qemu-img check` where it can check them.
 *
 * The seed is fixed (REPLAYVM_FUZZ_SEED overrides it) and printed with every failure, so a
 * failing case is rebuilt by its seed and number (fuzz-mutations.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createQcow2, openImage, MemoryImageFile, Qcow2Image } from '../../src/block/index.js';
import { qemuImg, qemuIo, tool, withTempDir } from '../support/block/qemu-tools.js';
import { qcow2Regions } from '../support/block/qcow2-bytes.js';
import { mutation, type FuzzBase } from './fuzz-mutations.js';
import type { FuzzJob, FuzzResult } from './fuzz-reader-worker.js';

const SEED = Number(process.env['REPLAYVM_FUZZ_SEED'] ?? 20261207);
/** The same cases every run (seeded), a few seconds on an idle machine; the time cap fails a reader gone slow. */
const CASES = 3_000;
const BUDGET_MS = 60_000;
const CASE_TIMEOUT_MS = 2_000;
const QEMU_SAMPLE = 50;
/** Small disks, so that each mutant is read whole in about a millisecond. */
const SIZE = '256k';

type Base = FuzzBase & { readonly content: Uint8Array };

/** An image our own engine made: created, written, snapshotted, written again (4 KiB clusters). */
async function engineImage(path: string): Promise<void> {
  const file = new MemoryImageFile(path);
  await createQcow2(file, { virtualSize: 256 << 10, clusterBits: 12 });
  const image = await openImage(file, { format: 'qcow2', readOnly: false });
  if (!(image instanceof Qcow2Image)) throw new Error('createQcow2 made no qcow2 image');
  await image.write(0, new Uint8Array(20 << 10).fill(0x5a));
  await image.write(150 << 10, new Uint8Array(70 << 10).fill(0x3c));
  await image.createSnapshot({ name: 'one' });
  await image.write(60 << 10, new Uint8Array(20 << 10).fill(0x77));
  await image.close();
  writeFileSync(path, file.bytes);
}

/** The base images, each with the disk content qemu-img reads from it. */
async function makeBases(dir: string): Promise<Base[]> {
  const p = (name: string): string => join(dir, name);
  const fill = (path: string): void => qemuIo(path, 'write -P 0x5a 0 20k', 'write -P 0xa5 50k 5k', 'write -z 64k 64k', 'write -P 0x3c 150k 70k');
  qemuImg('create', '-f', 'qcow2', p('plain.qcow2'), SIZE);
  fill(p('plain.qcow2'));
  qemuImg('create', '-f', 'qcow2', '-o', 'cluster_size=512', p('small.qcow2'), SIZE);
  fill(p('small.qcow2'));
  qemuImg('convert', '-c', '-O', 'qcow2', '-o', 'cluster_size=4096', p('plain.qcow2'), p('compressed.qcow2'));
  qemuImg('create', '-f', 'qcow2', '-o', 'cluster_size=4096', p('snapshots.qcow2'), SIZE);
  fill(p('snapshots.qcow2'));
  qemuImg('snapshot', '-c', 'one', p('snapshots.qcow2'));
  qemuIo(p('snapshots.qcow2'), 'write -P 0x77 60k 20k');
  qemuImg('snapshot', '-c', 'two', p('snapshots.qcow2'));
  qemuIo(p('snapshots.qcow2'), 'write -P 0x78 0 8k');
  qemuImg('create', '-f', 'qcow2', '-o', 'compat=0.10,cluster_size=4096', p('v2.qcow2'), SIZE);
  fill(p('v2.qcow2'));
  qemuImg('create', '-f', 'qcow2', '-o', 'refcount_bits=1,cluster_size=16384', p('refcount1.qcow2'), SIZE);
  fill(p('refcount1.qcow2'));
  await engineImage(p('ours.qcow2'));
  return ['plain', 'small', 'compressed', 'snapshots', 'v2', 'refcount1', 'ours'].map((name) => {
    const path = p(`${name}.qcow2`);
    qemuImg('convert', '-f', 'qcow2', '-O', 'raw', path, p(`${name}.raw`));
    const bytes = new Uint8Array(readFileSync(path));
    return { name, bytes, regions: qcow2Regions(bytes), content: new Uint8Array(readFileSync(p(`${name}.raw`))) };
  });
}

/** Runs the fuzz loop in a worker; stops it and names the case if a case ever stops making progress. */
function runWorker(job: FuzzJob): Promise<FuzzResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./fuzz-reader-worker.js', import.meta.url), { workerData: job });
    const progress = new Int32Array(job.progress);
    let lastDone = -1;
    let lastChange = Date.now();
    const watchdog = setInterval(() => {
      const done = Atomics.load(progress, 1);
      if (done !== lastDone) {
        lastDone = done;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 3 * job.caseTimeoutMs) {
        clearInterval(watchdog);
        const index = Atomics.load(progress, 0);
        const base = job.bases[index % job.bases.length]!;
        void worker.terminate();
        reject(new Error(`seed ${job.seed} case ${index} (${base.name}: ${mutation(base, job.seed, index).description}): the reader hung (no progress in ${3 * job.caseTimeoutMs} ms)`));
      }
    }, 100);
    worker.once('message', (m: FuzzResult | { crashed: string }) => {
      clearInterval(watchdog);
      void worker.terminate();
      if ('crashed' in m) reject(new Error(`the fuzz worker crashed: ${m.crashed}`));
      else resolve(m);
    });
    worker.once('error', (e) => {
      clearInterval(watchdog);
      reject(e);
    });
  });
}

test('fuzz: mutated qcow2 images are refused with an ImageError or read right, never crash or hang; qemu-img reads the same', { timeout: 120_000 }, (t) => withTempDir('replayvm-fuzz-', async (dir) => {
  const bases = await makeBases(dir);
  for (const b of bases) {
    const image = await openImage(new MemoryImageFile(b.name, b.bytes, false), { format: 'qcow2', readOnly: true });
    const content = await image.read(0, image.virtualSize);
    await image.close();
    assert.deepEqual(Buffer.from(content), Buffer.from(b.content), `${b.name}: the unmutated image reads as qemu-img reads it`);
  }
  const r = await runWorker({ bases, seed: SEED, budgetMs: BUDGET_MS, maxCases: CASES, caseTimeoutMs: CASE_TIMEOUT_MS, progress: new SharedArrayBuffer(8) });
  const summary = `seed ${SEED}: ${r.cases} cases, ${r.read} read, ${r.refused} refused`;
  t.diagnostic(summary);
  for (const message of r.errorSamples.slice(0, 6)) t.diagnostic(`  e.g. ${message}`);
  assert.deepEqual(r.failures.map((f) => `seed ${SEED} case ${f.index} (${f.base}: ${f.description}): ${f.problem}`), [], summary);
  assert.equal(r.cases, CASES, `${summary}: not all ${CASES} cases ran within ${BUDGET_MS} ms`);
  assert.ok(r.read > r.cases / 10 && r.refused > r.cases / 10, `${summary}: both outcomes are exercised`);

  // Mutants we read, converted by qemu-img: where it reads them too, the bytes are the same.
  let compared = 0;
  const step = Math.max(1, Math.floor(r.accepted.length / (QEMU_SAMPLE * 4)));
  const mismatches: string[] = [];
  for (let i = 0; i < r.accepted.length && compared < QEMU_SAMPLE; i += step) {
    const a = r.accepted[i]!;
    const base = bases[a.base]!;
    const m = mutation(base, SEED, a.index);
    if (a.virtualSize > base.content.length + (1 << 20)) continue;
    writeFileSync(join(dir, 'mutant.qcow2'), m.bytes);
    const q = tool('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', 'mutant.qcow2', 'mutant.raw'], dir);
    if (q.status !== 0) continue;
    compared++;
    const theirs = createHash('sha256').update(readFileSync(join(dir, 'mutant.raw'))).digest('hex');
    if (theirs !== a.sha256) mismatches.push(`seed ${SEED} case ${a.index} (${base.name}: ${m.description}): qemu-img reads other bytes`);
  }
  t.diagnostic(`compared with qemu-img convert: ${compared} mutants read by both`);

  // Mutants our checker reported on, checked by qemu-img: where it can check them too, the counts agree.
  let checkedBoth = 0;
  const checkStep = Math.max(1, Math.floor(r.checked.length / (QEMU_SAMPLE * 4)));
  for (let i = 0; i < r.checked.length && checkedBoth < QEMU_SAMPLE; i += checkStep) {
    const c = r.checked[i]!;
    const base = bases[c.base]!;
    const m = mutation(base, SEED, c.index);
    writeFileSync(join(dir, 'mutant.qcow2'), m.bytes);
    const q = tool('qemu-img', ['check', '--output=json', 'mutant.qcow2'], dir);
    if (q.status !== 0 && q.status !== 2 && q.status !== 3) continue;
    checkedBoth++;
    const j = JSON.parse(q.stdout) as Record<string, number>;
    const theirs = { corruptions: j['corruptions'] ?? 0, leaks: j['leaks'] ?? 0, checkErrors: j['check-errors'] ?? 0, imageEndOffset: j['image-end-offset'] ?? 0 };
    if (JSON.stringify(theirs) !== JSON.stringify(c.report)) {
      mismatches.push(`seed ${SEED} case ${c.index} (${base.name}: ${m.description}): qemu-img check says ${JSON.stringify(theirs)}, we say ${JSON.stringify(c.report)}`);
    }
  }
  t.diagnostic(`compared with qemu-img check: ${checkedBoth} mutants checked by both`);
  assert.deepEqual(mismatches, []);
  assert.ok(compared >= Math.min(QEMU_SAMPLE, 20), `only ${compared} mutants read by both`);
  assert.ok(checkedBoth >= Math.min(QEMU_SAMPLE, 20), `only ${checkedBoth} mutants checked by both`);
})());
