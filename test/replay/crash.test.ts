/**
 * A recording killed with SIGKILL at a random moment of the first two seconds of a Linux boot
 * leaves a log that replays to within 200 ms of the kill: the recorder writes a progress
 * checkpoint every 50 ms, and the replay runs the guest to the last one. The replay prints at
 * least the console bytes the recording had printed 200 ms before its kill, and the same bytes
 * (the shorter output is a prefix of the longer: the killed recorder may not have flushed its
 * last output), then says the log is incomplete and where it stopped, and exits 5.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_LOG_INCOMPLETE } from '../../src/host/exit-status.js';
import { readLogFile } from '../../src/host/node/replay/log-file.js';
import {
  copyKernel, describeDifference, linuxMachine, makeTempDir, pickSeed, readFinalState, seededRandom, sleep, startVm,
} from '../helpers/rr-driver.js';

const tmp = makeTempDir('crash');
after(() => tmp.remove());
const kernel = copyKernel(tmp.dir);

const KILLS = 5;
/** Kills happen this long after the log appears (the machine starts right after its header). */
const KILL_WINDOW_MS = 2000;
/** The replay must reach what the recording had printed this long before its kill. */
const REACH_MS = 200;
const seed = pickSeed();
const random = seededRandom(seed);

/** True when the shorter of `a` and `b` is a prefix of the longer. */
function prefixConsistent(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  return a.subarray(0, n).equals(b.subarray(0, n));
}

async function waitForFile(path: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!existsSync(path)) {
    if (performance.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs} ms`);
    await sleep(5);
  }
}

test(`SIGKILL at ${KILLS} random moments of the first ${KILL_WINDOW_MS / 1000} s of a Linux boot (seed ${seed}): each log replays to within ${REACH_MS} ms of its kill, exit ${EXIT_LOG_INCOMPLETE}`, { timeout: 240_000 }, async (t) => {
  for (let k = 1; k <= KILLS; k++) {
    const killAfterMs = Math.round(random() * KILL_WINDOW_MS);
    const log = join(tmp.dir, `killed-${k}.rrlog`);
    const rec = startVm(['record', '-o', log, '--', ...linuxMachine(kernel)], 60_000);
    let seenBefore = 0;
    try {
      await waitForFile(log, 30_000);
      const start = performance.now();
      if (killAfterMs > REACH_MS) await sleep(killAfterMs - REACH_MS);
      seenBefore = rec.stdout.length;
      await sleep(Math.max(0, start + killAfterMs - performance.now()));
      assert.equal(rec.exited, undefined, `the recording is still running when it is killed\n${rec.describe()}`);
      rec.kill('SIGKILL');
      assert.equal((await rec.exit()).signal, 'SIGKILL');
    } finally {
      rec.kill();
      await rec.exit();
    }
    const { report } = readLogFile(log);
    const what = `kill ${k}/${KILLS} after ${killAfterMs} ms (seed ${seed})`;
    assert.ok(report.status === 'no-end' || report.status === 'truncated', `${what}: a killed recording reads as incomplete, got ${report.status}: ${report.reason ?? ''}`);
    // Killed before the machine started: the log holds only its header (and nothing was printed).
    const reached = report.lastIcount ?? 0;
    if (report.lastIcount === undefined) assert.equal(seenBefore, 0, `${what}: output before the log's first checkpoint`);

    const state = join(tmp.dir, `killed-${k}.state.json`);
    const rep = startVm(['replay', log], 60_000, state, 'null');
    const ex = await rep.exit();
    const info = `${what}: replay of ${log}\n${rep.describe()}`;
    t.diagnostic(`${what}: the recording printed ${seenBefore} bytes ${REACH_MS} ms before the kill and ${rec.stdout.length} in all; `
      + `the log holds ${report.events} events and ${report.progress} progress checkpoints up to instruction ${reached} `
      + `(last event at ${String(report.lastEventIcount)}); the replay printed ${rep.stdout.length} bytes in ${(rep.wallMs / 1000).toFixed(1)} s`);
    assert.deepEqual(ex, { status: EXIT_LOG_INCOMPLETE, signal: null }, `the replay of a killed recording exits ${EXIT_LOG_INCOMPLETE}: ${info}`);
    assert.match(rep.stderr, /incomplete log \(crashed recording\)/, `the replay says the log is incomplete: ${info}`);
    const m = /stopped at instruction (\d+) after (\d+) events/.exec(rep.stderr);
    assert.ok(m !== null, `the replay says where it stopped: ${info}`);
    assert.equal(Number(m[1]), reached, `the replay stops at the log's last checkpoint: ${info}`);
    assert.equal(Number(m[2]), report.events, `the replay applied every event of the log: ${info}`);
    assert.doesNotMatch(rep.stderr, /diverged|internal error/, info);
    assert.equal(readFinalState(state)?.totalSteps, reached, `the machine stopped at the last checkpoint: ${info}`);
    assert.ok(prefixConsistent(rec.stdout, rep.stdout), `the recording's and the replay's output agree: ${describeDifference(rec.stdout, rep.stdout, 'recording', 'replay')}`);
    assert.ok(rep.stdout.length >= seenBefore,
      `${what}: the replay printed ${rep.stdout.length} bytes, fewer than the ${seenBefore} the recording had printed ${REACH_MS} ms before its kill\n${rep.describe()}`);
  }
});
