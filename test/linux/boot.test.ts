/**
 * The Linux guest end to end through the CLI: boot to the shell of guest/linux/userland/init.c,
 * its basic commands, -smp 4 and -m, virtio-rng, the C SBI firmware (guest/firmware), reboot,
 * Ctrl-A x and deterministic boots with -icount.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectOutput, parseRandom, powerOff, SBI_FIRMWARE, SHELL_BANNER, TEST_TIMEOUT_MS, withLinuxVm } from '../helpers/linux.js';

test('-smp 1: boots to the shell; help, echo, cat, ls, uptime, free, dmesg, date work; poweroff exits 0', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-smp', '1'], async (vm) => {
    const log = await vm.prompt();
    assert.match(log, /Linux version 6\.1\./);
    assert.match(log, /SBI implementation ID=0x5250564d /, 'the built-in SBI (-bios default)');
    assert.match(log, new RegExp(`${SHELL_BANNER} \\(Linux 6\\.1\\.\\d+`));

    const help = await expectOutput(vm, 'help', /^commands:$/m);
    for (const cmd of ['echo', 'cat', 'ls', 'date', 'uptime', 'free', 'dmesg', 'hexdump', 'write', 'sync', 'nproc', 'cpus',
      'disktest', 'diskread', 'diskwrite', 'random', 'net', 'ping', 'listen', 'poweroff', 'reboot']) {
      assert.match(help, new RegExp(`\\b${cmd}\\b`), `help lists ${cmd}`);
    }
    assert.equal(await vm.run('echo hello world'), 'hello world\n');
    assert.equal(await vm.run('echo   spaces  kept inside'), 'spaces  kept inside\n');
    await expectOutput(vm, 'cat /proc/version', /^Linux version 6\.1\.\d+/);
    const ls = await expectOutput(vm, 'ls /', /\bproc\//, /\bsys\//, /\bdev\//, /\binit\b/);
    assert.doesNotMatch(ls, /error/);
    const up = await expectOutput(vm, 'uptime', /^up \d+\.\d+ s\n$/);
    assert.ok(Number(/up ([\d.]+)/.exec(up)![1]) > 0, up);
    const free = await expectOutput(vm, 'free', /^MemTotal: +\d+ kB$/m, /^MemFree: +\d+ kB$/m, /^MemAvailable: +\d+ kB$/m);
    const total = Number(/MemTotal: +(\d+)/.exec(free)![1]);
    assert.ok(total > 64 * 1024 && total <= 128 * 1024, `MemTotal ${total} kB with the default 128M`);
    await expectOutput(vm, 'dmesg', /Linux version 6\.1\./, /Run \/init as init process/);

    const date = await expectOutput(vm, 'date', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
    const [, ymd, hms] = /^(\S+) (\S+) UTC/.exec(date)!;
    const guestMs = Date.parse(`${ymd}T${hms}Z`);
    assert.ok(Math.abs(guestMs - Date.now()) < 60_000, `guest date ${date.trim()} vs host ${new Date().toISOString()}`);

    await expectOutput(vm, 'nosuchcommand', /^unknown command: nosuchcommand$/m);
    await expectOutput(vm, 'cat /no/such/file', /^\/no\/such\/file: error ENOENT/m);
    await expectOutput(vm, 'random 8', /^\/dev\/hwrng: error (ENOENT|ENODEV)/m); // no virtio-rng device
    await expectOutput(vm, 'write /tmp-file hello file', /^wrote 11 bytes to \/tmp-file$/m);
    assert.equal(await vm.run('cat /tmp-file'), 'hello file\n');

    await powerOff(vm);
    assert.match(vm.text, /powering off\n/);
  });
});

test('-smp 4 -m 256M: the shell sees 4 harts and 256 MiB', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-smp', '4', '-m', '256M'], async (vm) => {
    const log = await vm.prompt();
    assert.match(log, /smp: Brought up 1 node, 4 CPUs/);
    await expectOutput(vm, 'nproc', /^harts: 4 \(online 0-3, affinity 4\)$/m);
    await expectOutput(vm, 'cpus', /^harts: 4 /m);
    const free = await expectOutput(vm, 'free', /^MemTotal: +\d+ kB$/m);
    const total = Number(/MemTotal: +(\d+)/.exec(free)![1]);
    assert.ok(total > 192 * 1024 && total <= 256 * 1024, `MemTotal ${total} kB with -m 256M`);
    await powerOff(vm);
  });
});

test('virtio-rng: `random N` prints N random bytes, different each time', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-device', 'virtio-rng-device'], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'cat /sys/class/misc/hw_random/rng_current', /virtio_rng/);
    const a = parseRandom(await vm.run('random 64'));
    const b = parseRandom(await vm.run('random 64'));
    assert.equal(a.length, 128);
    assert.notEqual(a, '0'.repeat(128), 'not all zero');
    assert.notEqual(a, b, 'two calls give different bytes');
    assert.ok(new Set(a.match(/../g)).size > 16, `looks random: ${a}`);
    assert.equal(parseRandom(await vm.run('random')).length, 32, 'default 16 bytes');
    await powerOff(vm);
  });
});

test('the C SBI firmware (-bios replayvm-sbi.bin) boots Linux to the shell and powers off', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-smp', '2'], async (vm) => {
    const log = await vm.prompt();
    assert.match(log, /^replayvm-sbi \d+\.\d+ \(SBI v2\.0\): boot hart \d/m, 'the C firmware\'s banner');
    assert.match(log, /SBI implementation ID=0x52505643 /, '"RPVC", the C firmware (the built-in SBI is 0x5250564d)');
    assert.match(log, /smp: Brought up 1 node, 2 CPUs/, 'the second hart started through HSM');
    await expectOutput(vm, 'nproc', /^harts: 2 \(online 0-1, affinity 2\)$/m);
    assert.equal(await vm.run('echo via C firmware'), 'via C firmware\n');
    await powerOff(vm);
  }, { bios: SBI_FIRMWARE });
});

test('`reboot` restarts the machine into a fresh boot; Ctrl-A x then quits with status 0', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm([], async (vm) => {
    await vm.prompt();
    await expectOutput(vm, 'write /marker from the first boot', /^wrote /m);
    vm.sendLine('reboot');
    const log = await vm.prompt();
    assert.match(log, /^rebooting$/m);
    assert.match(log, /reboot: Restarting system/);
    assert.match(log, /Linux version 6\.1\./, 'the kernel boots again');
    await expectOutput(vm, 'cat /marker', /^\/marker: error ENOENT/m); // a fresh initramfs
    const up = Number(/up ([\d.]+) s/.exec(await vm.run('uptime'))?.[1]);
    assert.ok(up >= 0 && up < 600, `uptime restarted: ${up}`);
    vm.sendEscape('x');
    const r = await vm.exit();
    assert.deepEqual(r, { status: 0, signal: null, timedOut: false }, vm.describe());
    assert.match(vm.text, /replayvm: terminated/);
  });
});

test('-no-reboot: `reboot` ends the process with status 0', { timeout: TEST_TIMEOUT_MS }, async () => {
  await withLinuxVm(['-no-reboot'], async (vm) => {
    await vm.prompt();
    vm.sendLine('reboot');
    const r = await vm.exit();
    assert.deepEqual(r, { status: 0, signal: null, timedOut: false }, vm.describe());
    assert.match(vm.text, /reboot: Restarting system/);
    assert.equal(vm.text.split(SHELL_BANNER).length, 2, 'booted once');
  });
});

test('-icount shift=0,sleep=off -rtc base=DATE -smp 2: two boots print byte-identical logs; the guest sees that date', { timeout: TEST_TIMEOUT_MS }, async () => {
  const args = ['-icount', 'shift=0,sleep=off', '-rtc', 'base=2020-01-01T00:00:00', '-smp', '2'];
  const logs: string[] = [];
  for (let i = 0; i < 2; i++) {
    await withLinuxVm(args, async (vm) => {
      logs.push(await vm.prompt());
      // Guest time advances only with instructions: a few seconds at most since the RTC's base.
      await expectOutput(vm, 'date', /^2020-01-01 00:00:0\d UTC$/m);
      await expectOutput(vm, 'nproc', /^harts: 2 /m);
      await powerOff(vm);
    });
  }
  assert.match(logs[0]!, /setting system clock to 2020-01-01T00:00:00 UTC/);
  if (logs[0] !== logs[1]) {
    const a = logs[0]!.split('\n');
    const b = logs[1]!.split('\n');
    const i = a.findIndex((line, k) => line !== b[k]);
    assert.fail(`the boot logs differ at line ${i + 1}:\n  ${a[i]}\n  ${b[i]}`);
  }
});
