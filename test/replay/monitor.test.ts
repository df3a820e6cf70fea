/**
 * Record/replay of monitor commands that change the guest: a QMP `system_reset` during the
 * recording is logged (a `request` event with its cause, at the instruction count where the
 * vCPU thread did it) and the replay resets the machine at that count. The replay refuses a
 * `system_reset` of its own.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  FIRST_PROMPT, NEXT_PROMPT, checkAspects, copyKernel, freePort, linuxMachine, makeTempDir, recordReplayCompare,
} from '../helpers/rr-driver.js';
import { CLI_PATH } from '../helpers/run-vm.js';
import { Qmp } from '../monitor/client.js';

const tmp = makeTempDir('monitor');
after(() => tmp.remove());
const kernel = copyKernel(tmp.dir);

test('Linux: a QMP system_reset while recording is logged with its cause, and 3 replays reset at the same instruction', { timeout: 900_000 }, async (t) => {
  const port = await freePort();
  let resetReply: unknown;
  let requests: string[] = [];
  const r = await recordReplayCompare({
    name: 'linux-qmp-reset',
    machine: linuxMachine(kernel, ['-qmp', `tcp:127.0.0.1:${port},server=on,wait=off`]),
    steps: [
      { waitFor: FIRST_PROMPT, send: 'echo before reset\n', delayMs: [0, 300] },
      {
        waitFor: NEXT_PROMPT,
        delayMs: [0, 500],
        action: async () => {
          const q = await Qmp.connect({ kind: 'tcp', host: '127.0.0.1', port });
          resetReply = await q.exec('system_reset');
          await q.event('RESET');
          q.c.socket.destroy();
        },
      },
      { waitFor: FIRST_PROMPT, send: 'echo after reset\n', delayMs: [0, 300] },
      { waitFor: NEXT_PROMPT, send: 'poweroff\n' },
    ],
    replays: 3,
    assert: false,
    inspectLog: (log) => {
      const text = execFileSync(process.execPath, [CLI_PATH, 'dump', log, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
      requests = text.split('\n').filter((l) => l.includes('"kind":"request"'));
    },
  });
  assert.deepEqual(resetReply, {});
  const out = r.record.stdout.toString('latin1').replace(/\r/g, '');
  assert.equal(out.match(/replayvm Linux guest/g)?.length, 2, `the guest booted twice:\n${out.slice(-1500)}`);
  assert.match(out, /^after reset$/m);
  assert.equal(requests.length, 1, `one request event in the log: ${requests.join('\n')}`);
  assert.match(requests[0]!, /"what":"reset","cause":"host-qmp-system-reset"/);
  await checkAspects(t, r);
});
