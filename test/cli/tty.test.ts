/**
 * The console on a real terminal: the CLI runs inside a pseudo-terminal made by util-linux
 * `script` (util-linux; Debian's essential bsdutils package, so it is always there). Checks raw mode, the Ctrl-A keys and that the terminal
 * settings are restored at exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestFixtures } from '../helpers/guest-programs.js';
import { CLI_PATH, runProcess, type InputStep, type RunResult } from '../helpers/run-vm.js';

const { echoElf } = guestFixtures('tty');

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `replayvm ARGS`, prints its exit status and then `stty -a`, all on one pseudo-terminal. */
function inPty(args: string[], input: readonly InputStep[]): Promise<RunResult> {
  const cli = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
  return runProcess('script', ['-qefc', `${cli}; echo "status=$?"; stty -a`, '/dev/null'], { timeoutMs: 15_000, input, encoding: 'latin1' });
}

test('mon:stdio on a TTY: raw mode, Ctrl-A h help, Ctrl-A x quits, terminal restored', async () => {
  const r = await inPty(['-M', 'virt', '-nographic', '-bios', 'none', '-kernel', echoElf], [
    { afterOutput: '>', bytes: 'ab' },
    { afterOutput: 'ab', bytes: '\x03' }, // raw mode: Ctrl-C is input for the guest, not SIGINT
    { afterOutput: '\x03', bytes: '\x01h' },
    { afterOutput: 'sends C-a', bytes: '\x01x' },
  ]);
  assert.equal(r.timedOut, false, r.stdout);
  assert.ok(r.stdout.includes('ab\x03'), 'the guest echoed Ctrl-C');
  assert.match(r.stdout, /C-a h {4}print this help\r\n\r/);
  assert.match(r.stdout, /replayvm: terminated/);
  assert.match(r.stdout, /status=0/);
  assert.doesNotMatch(r.stdout, /terminating on signal/);
  // stty after exit: canonical mode and echo are back.
  assert.match(r.stdout, /(^|\s)icanon(\s|$)/m);
  assert.match(r.stdout, /(^|\s)echo(\s|$)/m);
});

test('plain -serial stdio on a TTY: Ctrl-C terminates like QEMU\'s signal=on', async () => {
  const r = await inPty(['-M', 'virt', '-display', 'none', '-serial', 'stdio', '-bios', 'none', '-kernel', echoElf], [
    { afterOutput: '>', bytes: 'z' },
    { afterOutput: 'z', bytes: '\x03' },
  ]);
  assert.equal(r.timedOut, false, r.stdout);
  assert.match(r.stdout, /terminating on signal 2/);
  assert.match(r.stdout, /status=0/);
  assert.match(r.stdout, /(^|\s)icanon(\s|$)/m);
});
