/**
 * A recording killed with SIGKILL at a random moment (while Linux boots or while lines are
 * typed) leaves a log prefix that replays to its end: the replay exits normally, says the
 * recording crashed and where it stopped, and its console output agrees with the killed
 * recording's (the shorter of the two is a prefix of the longer: the recording may have printed
 * more than its log holds, or less than the log's events lead to).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readLogFile } from '../../src/host/node/replay/log-file.js';
import {
  copyKernel, describeDifference, linuxMachine, makeTempDir, readFinalState, seededRandom, pickSeed, shellSteps, sleep, startVm,
} from '../helpers/rr-driver.js';

const tmp = makeTempDir('crash');
after(() => tmp.remove());
const kernel = copyKernel(tmp.dir);

const RUNS = 4;
const seed = pickSeed();
const random = seededRandom(seed);

/** True when the shorter of `a` and `b` is a prefix of the longer. */
function prefixConsistent(a: Buffer, b: Buffer): boolean {
  const n = Math.min(a.length, b.length);
  return a.subarray(0, n).equals(b.subarray(0, n));
}

for (let run = 1; run <= RUNS; run++) {
  const killAfterMs = 1000 + Math.round(random() * 3000);
  test(`SIGKILL of a Linux recording after ${killAfterMs} ms (run ${run}/${RUNS}, seed ${seed}): the log prefix replays to its end`, { timeout: 300_000 }, async (t) => {
    const log = join(tmp.dir, `killed-${run}.rrlog`);
    const rec = startVm(['record', '-o', log, '--', ...linuxMachine(kernel, ['-device', 'virtio-rng-device'])], 120_000);
    try {
      // Types a few commands as soon as the prompt shows up (a short boot may get that far).
      const steps = shellSteps(['echo one', 'random 8', 'echo two', 'random 8', 'echo three'], { delayMs: [0, 300], charDelayMs: [0, 40] });
      void (async () => {
        for (const s of steps) {
          await rec.waitFor(s.waitFor, 60_000);
          await sleep(s.delayMs === undefined ? 0 : s.delayMs[0] + random() * (s.delayMs[1] - s.delayMs[0]));
          if (s.send !== undefined) await rec.type(s.send, () => Math.round(random() * 40));
        }
      })().catch(() => {});
      await sleep(killAfterMs);
      assert.equal(rec.exited, undefined, `the recording is still running when it is killed\n${rec.describe()}`);
      rec.kill('SIGKILL');
      const ex = await rec.exit();
      assert.equal(ex.signal, 'SIGKILL');
    } finally {
      rec.kill();
      await rec.exit();
    }
    assert.ok(existsSync(log), `the killed recording left its log\n${rec.describe()}`);
    const { events, report } = readLogFile(log);
    t.diagnostic(`killed after ${killAfterMs} ms: ${events.length} events in ${report.chunks} chunks, instructions ${String(report.firstIcount)}..${String(report.lastIcount)}, status ${report.status}; the recording printed ${rec.stdout.length} bytes`);
    assert.ok(report.status === 'no-end' || report.status === 'truncated', `a killed recording reads as no-end/truncated, got ${report.status}: ${report.reason ?? ''}`);
    assert.ok(events.length > 0, 'the log holds events (the first digest at least)');
    const lastIcount = events.at(-1)!.icount;

    const replays: Array<{ stdin: string; stdout: Buffer; stopped: number; finalSteps: number | undefined }> = [];
    for (const stdin of ['pipe', 'null'] as const) {
      const state = join(tmp.dir, `killed-${run}-${stdin}.state.json`);
      const rep = startVm(['replay', log], 120_000, state, stdin);
      const ex = await rep.exit();
      const what = `replay (stdin ${stdin}) of ${log}\n${rep.describe()}`;
      assert.deepEqual(ex, { status: 0, signal: null }, `the replay of a crashed recording exits normally: ${what}`);
      assert.match(rep.stderr, /crashed recording/, `the replay says the recording crashed: ${what}`);
      const m = /stopped at instruction (\d+) after (\d+) events/.exec(rep.stderr);
      assert.ok(m !== null, `the replay says where it stopped: ${what}`);
      assert.equal(Number(m[2]), events.length, `the replay applied every event of the log: ${what}`);
      assert.ok(Number(m[1]) >= lastIcount, `the replay reports stopping at or after the log's last event (instruction ${lastIcount}): ${what}`);
      assert.doesNotMatch(rep.stderr, /diverged|internal error/, what);
      const fs = readFinalState(state);
      assert.ok(fs !== undefined, `the replay wrote its final state: ${what}`);
      assert.ok(fs.totalSteps >= lastIcount, `the replay ran to the log's last event: ${what}`);
      t.diagnostic(`replay (stdin ${stdin}): ${rep.stdout.length} bytes of output, reports instruction ${m[1]}, final state at ${fs.totalSteps} (last event at ${lastIcount}) in ${(rep.wallMs / 1000).toFixed(1)} s`);
      assert.ok(prefixConsistent(rec.stdout, rep.stdout), `the killed recording's output and the replay's agree up to the shorter one: ${describeDifference(rec.stdout, rep.stdout, 'recording', 'replay')}`);
      replays.push({ stdin, stdout: rep.stdout, stopped: Number(m[1]), finalSteps: fs.totalSteps });
    }
    const [r1, r2] = replays as [typeof replays[0], typeof replays[0]];
    assert.ok(prefixConsistent(r1.stdout, r2.stdout), `two replays of the same prefix agree: ${describeDifference(r1.stdout, r2.stdout, 'replay 1', 'replay 2')}`);
    await t.test('the replay stops exactly at the log\'s last event (final state = last event; replays identical)', () => {
      for (const r of replays) {
        assert.equal(r.stopped, lastIcount, `replay (stdin ${r.stdin}): reports stopping at instruction ${r.stopped}, the log's last event is at ${lastIcount}`);
        assert.equal(r.finalSteps, lastIcount, `replay (stdin ${r.stdin}): REPLAYVM_FINAL_STATE totalSteps ${String(r.finalSteps)}, the log's last event and the report say ${lastIcount}`);
      }
      assert.ok(r1.stdout.equals(r2.stdout), `two replays of the same prefix print the same output: ${describeDifference(r1.stdout, r2.stdout, 'replay 1', 'replay 2')}`);
    });
  });
}
