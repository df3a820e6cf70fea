/**
 * Record/replay of the Linux guest through the CLI: a recording with console lines typed at
 * random host delays, virtio-rng, a virtio disk (written, read back; the image file must stay
 * unchanged), the user network (DHCP, ping) and a host TCP connection through hostfwd, then
 * replays that must print the same console output byte for byte and end in the same state.
 * Also -smp 2 and -smp 4.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  checkAspects, copyKernel, freePort, linuxMachine, makeTempDir, recordReplayCompare, sha256File, shellSteps, tcpExchange, zeroImage,
} from '../helpers/rr-driver.js';

const tmp = makeTempDir('linux');
after(() => tmp.remove());
const kernel = copyKernel(tmp.dir);

const TIMING = { delayMs: [50, 1200] as const, charDelayMs: [0, 60] as const };

test('Linux -smp 1: typing at random delays, entropy, disk, DHCP + ping, hostfwd TCP: 5 replays match the recording', { timeout: 900_000 }, async (t) => {
  const disk = zeroImage(join(tmp.dir, 'disk-smp1.img'), 4 << 20);
  const diskHash = sha256File(disk);
  const port = await freePort();
  const line = `hello through hostfwd ${Math.random().toString(36).slice(2)}\n`;
  let reply: string | undefined;
  const r = await recordReplayCompare({
    name: 'linux-smp1',
    machine: linuxMachine(kernel, [
      '-device', 'virtio-rng-device',
      '-drive', `file=${disk},format=raw,if=virtio`,
      '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:7777`, '-device', 'virtio-net-device,netdev=n0',
    ]),
    steps: shellSteps([
      'echo typed at random delays',
      'random 16',
      'diskwrite 5 hello',
      'diskread 5',
      'net',
      {
        line: 'listen 7777', until: 'listening on tcp port 7777\n',
        action: async () => {
          reply = await tcpExchange(port, line);
        },
      },
      'poweroff',
    ], TIMING),
    replays: 5,
    // While a replay's guest waits in `listen 7777`, the test connects again: whatever the host
    // side does, the replay is driven by the recorded frames only.
    duringReplay: async (ctx) => {
      await ctx.waitFor('listening on tcp port 7777\n');
      const got = await tcpExchange(port, 'not recorded\n', 3000);
      return `connection during replay got ${JSON.stringify(got)}`;
    },
    assert: false,
  });
  const out = r.record.stdout.toString('latin1').replace(/\r/g, '');
  assert.equal(reply, line, `the guest echoes the line sent through hostfwd\n${out.slice(-1500)}`);
  assert.match(out, /^typed at random delays$/m);
  assert.match(out, /^random 16 bytes:\n[0-9a-f]{32}\n/m);
  assert.match(out, /^diskwrite: wrote 5 bytes of text at sector 5$/m);
  assert.match(out, /^sector 5: hello$/m);
  assert.match(out, /^net: leased 10\.0\.2\.15\/24 gw 10\.0\.2\.2 /m);
  assert.match(out, /^ping: 1 sent, 1 received$/m);
  assert.match(out, /^connection from 10\.0\.2\.2:\d+\nechoed \d+ bytes$/m);
  assert.equal(sha256File(disk), diskHash, 'the disk image file is unchanged after the recording and the replays (writes go to an overlay)');
  await checkAspects(t, r);
});

for (const smp of [2, 4]) {
  test(`Linux -smp ${smp}: typing, entropy, disk and network: 3 replays match the recording`, { timeout: 900_000 }, async (t) => {
    const disk = zeroImage(join(tmp.dir, `disk-smp${smp}.img`), 4 << 20);
    const diskHash = sha256File(disk);
    const r = await recordReplayCompare({
      name: `linux-smp${smp}`,
      machine: linuxMachine(kernel, [
        '-smp', String(smp),
        '-device', 'virtio-rng-device',
        '-drive', `file=${disk},format=raw,if=virtio`,
        '-netdev', 'user,id=n0', '-device', 'virtio-net-device,netdev=n0',
      ]),
      steps: shellSteps(['nproc', 'random 16', 'diskwrite 7 smp', 'diskread 7', 'net', 'poweroff'], TIMING),
      replays: 3,
      assert: false,
    });
    const out = r.record.stdout.toString('latin1').replace(/\r/g, '');
    assert.match(out, new RegExp(`^harts: ${smp} \\(online 0-${smp - 1}, affinity ${smp}\\)$`, 'm'));
    assert.match(out, /^sector 7: smp$/m);
    assert.match(out, /^ping: 1 sent, 1 received$/m);
    assert.equal(sha256File(disk), diskHash, 'the disk image file is unchanged');
    await checkAspects(t, r);
  });
}

for (const sleep of ['off', 'on'] as const) {
  test(`Linux idling in \`sleep\` (WFI) with -icount shift=4,sleep=${sleep}: 3 replays match the recording`, { timeout: 900_000 }, async (t) => {
    const r = await recordReplayCompare({
      name: `linux-idle-sleep-${sleep}`,
      machine: linuxMachine(kernel, ['-icount', `shift=4,sleep=${sleep}`]),
      steps: shellSteps(['sleep 1', 'date', 'sleep 2', 'uptime', 'echo idle done', 'poweroff'], { delayMs: [0, 300], charDelayMs: [0, 20] }),
      replays: 3,
      assert: false,
    });
    assert.match(r.record.stdout.toString('latin1').replace(/\r/g, ''), /^idle done$/m);
    await checkAspects(t, r);
  });
}
