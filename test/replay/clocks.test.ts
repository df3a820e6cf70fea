/**
 * Record/replay of host clocks through the CLI: `-icount shift=auto` (its adjustments read host
 * time and are logged as timer events), `-rtc clock=host` and `clock=rt` (every RTC value the
 * guest reads is logged as a clock-read event and handed back to the guest in replay), and
 * `align=on` (the recording sleeps to stay in step with the host; the guest must not notice).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { echoProgram, guestElf } from '../helpers/guest-programs.js';
import {
  checkAspects, copyKernel, linuxMachine, makeTempDir, recordReplayCompare, shellSteps, type ConsoleStep,
} from '../helpers/rr-driver.js';
import { CLI_PATH } from '../helpers/run-vm.js';

const tmp = makeTempDir('clocks');
after(() => tmp.remove());
const kernel = copyKernel(tmp.dir);

/** Events per kind in a log, from `replayvm dump --json`. */
function eventCounts(log: string): Map<string, number> {
  const text = execFileSync(process.execPath, [CLI_PATH, 'dump', log, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /"kind":"([a-z-]+)"/.exec(line);
    if (m !== null) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

for (const clock of ['host', 'rt'] as const) {
  test(`Linux with -icount shift=auto -rtc clock=${clock}: RTC reads and shift changes are logged; 3 replays match`, { timeout: 900_000 }, async (t) => {
    let counts = new Map<string, number>();
    const r = await recordReplayCompare({
      name: `linux-auto-rtc-${clock}`,
      machine: linuxMachine(kernel, ['-icount', 'shift=auto', '-rtc', `clock=${clock}`]),
      steps: shellSteps([
        'cat /sys/class/rtc/rtc0/since_epoch',
        'sleep 1',
        'cat /sys/class/rtc/rtc0/since_epoch',
        'uptime',
        'poweroff',
      ], { delayMs: [50, 600], charDelayMs: [0, 30] }),
      replays: 3,
      assert: false,
      inspectLog: (log) => {
        counts = eventCounts(log);
      },
    });
    const out = r.record.stdout.toString('latin1').replace(/\r/g, '');
    const reads = [...out.matchAll(/since_epoch\n(\d+)\n/g)].map((m) => Number(m[1]));
    assert.equal(reads.length, 2, `two RTC readings in the output:\n${out.slice(-800)}`);
    assert.ok(reads[1]! - reads[0]! >= 1, `the RTC advanced across \`sleep 1\`: ${reads.join(' -> ')}`);
    t.diagnostic(`events: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assert.ok((counts.get('clock-read') ?? 0) >= 2, 'the RTC reads are in the log');
    assert.ok((counts.get('timer') ?? 0) >= 1, 'shift=auto changed the shift at least once, and the log has it');
    await checkAspects(t, r);
  });
}

test('the echo guest with -icount shift=7,align=on (the recording sleeps to keep in step with the host): 3 replays match', { timeout: 300_000 }, async (t) => {
  const elf = join(tmp.dir, 'echo.elf');
  writeFileSync(elf, guestElf(echoProgram()));
  const steps: ConsoleStep[] = [{ waitFor: '>', send: 'a', delayMs: [0, 200] }];
  for (const ch of 'lign') steps.push({ waitFor: '', send: ch, delayMs: [0, 200] });
  steps.push({ waitFor: '', send: 'q', delayMs: [0, 200] });
  const r = await recordReplayCompare({
    name: 'echo-align',
    machine: ['-M', 'virt', '-nographic', '-bios', 'none', '-icount', 'shift=7,align=on', '-kernel', elf],
    steps,
    replays: 3,
    assert: false,
  });
  assert.match(r.record.stdout.toString('latin1'), /^>alignq$/);
  await checkAspects(t, r);
});
