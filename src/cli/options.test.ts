import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandLine, RunOptions } from './options.js';
import { CliError, DEFAULT_RAM_SIZE, helpText, parseCommandLine, parseSize } from './options.js';
import { parseKeyValues } from './option-syntax.js';

const MiB = 1024 * 1024;

function run(argv: string[]): RunOptions {
  const c: CommandLine = parseCommandLine(argv);
  assert.equal(c.kind, 'run');
  return c.options;
}

function fails(argv: string[], pattern: RegExp): void {
  assert.throws(() => parseCommandLine(argv), (e: unknown) => e instanceof CliError && pattern.test(e.message));
}

test('defaults: 128M, one hart, built-in SBI, no serial given', () => {
  const o = run([]);
  assert.equal(o.ramSize, DEFAULT_RAM_SIZE);
  assert.equal(o.smp, 1);
  assert.deepEqual(o.bios, { kind: 'default' });
  assert.equal(o.serial, undefined);
  assert.equal(o.nographic, false);
  assert.deepEqual(o.trace, { int: false, guestErrors: false, unimp: false, inAsm: false });
});

test('a typical command line, with one or two dashes', () => {
  const o = run(['-M', 'virt', '--nographic', '-bios', 'none', '--kernel', 'k.elf', '-m', '64', '-smp', 'cpus=4',
    '-append', 'console=ttyS0', '-initrd', 'i.img', '-dtb', 'x.dtb', '-no-reboot', '-name', 'guest=vm1',
    '-d', 'int,guest_errors', '-D', 'log.txt', '-icount', 'shift=3', '-cpu', 'rv32', '-display', 'none']);
  assert.equal(o.ramSize, 64 * MiB);
  assert.equal(o.smp, 4);
  assert.deepEqual(o.bios, { kind: 'none' });
  assert.equal(o.kernel, 'k.elf');
  assert.equal(o.initrd, 'i.img');
  assert.equal(o.append, 'console=ttyS0');
  assert.equal(o.dtb, 'x.dtb');
  assert.equal(o.noReboot, true);
  assert.equal(o.name, 'vm1');
  assert.deepEqual(o.trace, { int: true, guestErrors: true, unimp: false, inAsm: false });
  assert.equal(o.logFile, 'log.txt');
  assert.deepEqual(o.icount, { shift: 3, align: false, sleep: true });
  assert.equal(o.nographic, true);
  assert.equal(o.displayNone, true);
});

test('-m follows QEMU: MiB by default, suffixes, size=, rounding to 8 KiB', () => {
  assert.equal(run(['-m', '256']).ramSize, 256 * MiB);
  assert.equal(run(['-m', '256M']).ramSize, 256 * MiB);
  assert.equal(run(['-m', '1G']).ramSize, 1024 * MiB);
  assert.equal(run(['-m', '1.5g']).ramSize, 1536 * MiB);
  assert.equal(run(['-m', 'size=32m']).ramSize, 32 * MiB);
  assert.equal(run(['-m', '65536k']).ramSize, 64 * MiB);
  assert.equal(run(['-m', '4097K']).ramSize, 4104 * 1024);
  fails(['-m', '0'], /^-m 0: .*zero/);
  fails(['-m', 'lots'], /^-m lots: /);
  fails(['-m', '-5'], /^-m -5: /);
  fails(['-m', '3G'], /too large/);
  fails(['-m', '1T'], /too large/);
  fails(['-m', '64,slots=2'], /slots/);
  fails(['-m', '64,foo=1'], /foo/);
});

test('-smp accepts 1..8 as N or cpus=N', () => {
  assert.equal(run(['-smp', '8']).smp, 8);
  assert.equal(run(['-smp', 'cpus=2']).smp, 2);
  fails(['-smp', '0'], /-smp 0/);
  fails(['-smp', '9'], /-smp 9/);
  fails(['-smp', 'x'], /-smp x/);
  fails(['-smp', '2,sockets=2'], /sockets/);
});

test('-machine: only virt, only dumpdtb', () => {
  assert.equal(run(['-machine', 'type=virt,dumpdtb=out.dtb']).dumpDtb, 'out.dtb');
  assert.equal(run(['-M', 'virt,dumpdtb=a,,b.dtb']).dumpDtb, 'a,b.dtb');
  fails(['-M', 'spike'], /spike/);
  fails(['-M', 'virt,aclint=on'], /aclint/);
  const help = parseCommandLine(['-M', 'help']);
  assert.equal(help.kind, 'print');
});

test('-bios, -serial, -cpu, -d, -icount values', () => {
  assert.deepEqual(run(['-bios', 'default']).bios, { kind: 'default' });
  assert.deepEqual(run(['-bios', 'fw.bin']).bios, { kind: 'file', path: 'fw.bin' });
  assert.deepEqual(run(['-serial', 'mon:stdio']).serial, { kind: 'mon-stdio' });
  assert.deepEqual(run(['-serial', 'stdio']).serial, { kind: 'stdio' });
  assert.deepEqual(run(['-serial', 'null']).serial, { kind: 'null' });
  assert.deepEqual(run(['-serial', 'file:/tmp/x']).serial, { kind: 'file', path: '/tmp/x' });
  fails(['-serial', 'pty'], /-serial pty/);
  fails(['-serial', 'null', '-serial', 'null'], /only one/);
  fails(['-nographic', '-serial', 'stdio'], /multiple character devices/);
  fails(['-cpu', 'sifive-e31'], /sifive-e31/);
  assert.deepEqual(run(['-d', 'in_asm,unimp']).trace, { int: false, guestErrors: false, unimp: true, inAsm: true });
  fails(['-d', 'int,exec'], /unknown log item 'exec'/);
  assert.equal(parseCommandLine(['-d', 'help']).kind, 'print');
  assert.deepEqual(run(['-icount', '0']).icount, { shift: 0, align: false, sleep: true });
  assert.deepEqual(run(['-icount', 'shift=auto']).icount, { shift: 'auto', align: false, sleep: true });
  fails(['-icount', 'shift=auto,sleep=off'], /incompatible/);
  assert.deepEqual(run(['-icount', 'shift=2,align=on']).icount, { shift: 2, align: true, sleep: true });
  assert.equal(run(['-icount', 'sleep=off']).icount, undefined);
  fails(['-icount', 'shift=11'], /shift/);
  fails(['-icount', 'shift=auto,align=on'], /align/);
  assert.deepEqual(run(['-icount', 'shift=1,rr=record,rrfile=x']).rr, { mode: 'record', file: 'x' });
  fails(['-icount', 'rr=record,rrfile=x'], /Please enable icount/);
});

test('unknown options, missing arguments and stray words are errors', () => {
  fails(['-foo'], /^-foo: option not implemented$/);
  fails(['--enable-kvm'], /^-enable-kvm: option not implemented$/);
  fails(['-kernel'], /^-kernel: requires an argument$/);
  fails(['image.img'], /image\.img/);
  fails(['-initrd', 'i'], /-initrd.*-kernel/);
});

test('-h and -version take effect where they appear', () => {
  const h = parseCommandLine(['-h', '-foo']);
  assert.deepEqual(h, { kind: 'print', text: helpText() });
  fails(['-foo', '-h'], /-foo/);
  const v = parseCommandLine(['-version']);
  assert.ok(v.kind === 'print' && /^replayvm version /.test(v.text));
});

test('helpers: parseSize and parseKeyValues', () => {
  assert.equal(parseSize('2', 1024), 2048);
  assert.equal(parseSize('2b', 1024), 2);
  assert.equal(parseSize('1x', 1), undefined);
  assert.deepEqual(parseKeyValues('virt,a=1,,2', 'type', '-M'), [{ key: 'type', value: 'virt' }, { key: 'a', value: '1,2' }]);
  assert.throws(() => parseKeyValues('a=1,b', 'type', '-M'), CliError);
});

test('monitor defaults follow QEMU: mux with -nographic, plain stdio once -qmp/-monitor/-mon is given', () => {
  const d = run(['-nographic']);
  assert.deepEqual([d.console, d.stdioMonitor, d.monitors, d.startPaused], [{ kind: 'mon-stdio' }, 'mux', [], false]);
  const q = run(['-nographic', '-qmp', 'unix:/tmp/q.sock,server=on,wait=off']);
  assert.deepEqual(q.console, { kind: 'stdio' });
  assert.equal(q.stdioMonitor, 'none');
  assert.deepEqual(q.monitors, [{ mode: 'control', address: { kind: 'unix', path: '/tmp/q.sock' }, wait: false }]);
  assert.deepEqual(run(['-nographic', '-monitor', 'none']).console, { kind: 'stdio' });
  // mon:stdio always carries a monitor, as in QEMU.
  assert.equal(run(['-nographic', '-monitor', 'none', '-serial', 'mon:stdio']).stdioMonitor, 'mux');
  // With -nographic and the serial port elsewhere, the default monitor takes stdio.
  assert.equal(run(['-nographic', '-serial', 'null']).stdioMonitor, 'stdio');
  assert.equal(run(['-nographic', '-serial', 'stdio', '-monitor', 'none']).stdioMonitor, 'none');
  assert.equal(run(['-S']).startPaused, true);
});

test('-monitor, -qmp, -chardev and -mon', () => {
  const o = run(['-display', 'none', '-monitor', 'stdio', '-qmp', 'tcp:127.0.0.1:4444,server,nowait',
    '-chardev', 'socket,id=m,path=/tmp/m.sock,server=on,wait=off', '-mon', 'chardev=m,mode=control',
    '-monitor', 'tcp:localhost:0,server=on,wait=off']);
  assert.deepEqual(o.console, { kind: 'null' });
  assert.equal(o.stdioMonitor, 'stdio');
  assert.deepEqual(o.monitors, [
    { mode: 'control', address: { kind: 'tcp', host: '127.0.0.1', port: 4444 }, wait: false },
    { mode: 'readline', address: { kind: 'tcp', host: 'localhost', port: 0 }, wait: false },
    { mode: 'control', address: { kind: 'unix', path: '/tmp/m.sock' }, wait: false },
  ]);
  // wait=on is QEMU's default: the plan says so, and the program waits for a client.
  assert.deepEqual(run(['-qmp', 'unix:/tmp/q,server=on', '-chardev', 'socket,id=h,port=5555,server=on', '-mon', 'chardev=h']).monitors, [
    { mode: 'control', address: { kind: 'unix', path: '/tmp/q' }, wait: true },
    { mode: 'readline', address: { kind: 'tcp', host: '127.0.0.1', port: 5555 }, wait: true },
  ]);
  fails(['-nographic', '-monitor', 'stdio'], /^-monitor stdio: cannot use stdio by multiple character devices/);
  fails(['-serial', 'mon:stdio', '-monitor', 'stdio'], /^-monitor stdio: cannot use stdio/);
  fails(['-monitor', 'vc'], /^-monitor vc: 'vc' is not a supported monitor backend/);
  fails(['-qmp', 'stdio'], /^-qmp stdio: /);
  fails(['-qmp', 'unix:/tmp/x'], /^-qmp unix:\/tmp\/x: .*server=on/);
  fails(['-qmp', 'tcp:0.0.0.0:4444,server=on,wait=off'], /^-qmp tcp:0\.0\.0\.0:4444,server=on,wait=off: .*non-loopback/);
  fails(['-mon', 'chardev=nope'], /^-mon: .*no -chardev with id 'nope'/);
  fails(['-chardev', 'socket,id=a,path=/tmp/a,server=on,wait=off'], /^-chardev socket,id=a: not used by any -mon/);
  fails(['-chardev', 'socket,id=a,path=/tmp/a,server=on,wait=off', '-chardev', 'socket,id=a,path=/tmp/b,server=on,wait=off'], /duplicate/);
  fails(['-qmp', 'unix:/tmp/s,server=on,wait=off', '-monitor', 'unix:/tmp/s,server=on,wait=off'], /used by another monitor/);
  assert.ok(helpText().split('\n').some((l) => l.startsWith('-qmp ')));
  assert.ok(helpText().split('\n').some((l) => l.startsWith('-S ')));
});

test('-serial on a socket: tcp:, unix:, chardev:ID; QEMU\'s flags and defaults; bad options name themselves', () => {
  const tcp = (host: string, port: number) => ({ kind: 'tcp', host, port });
  assert.deepEqual(run(['-serial', 'tcp:127.0.0.1:4444,server=on,wait=off']).console,
    { kind: 'socket', address: tcp('127.0.0.1', 4444), wait: false, option: '-serial tcp:127.0.0.1:4444,server=on,wait=off' });
  // QEMU's older flags; an empty host listens on 127.0.0.1 only; wait=on is the default for a server.
  assert.deepEqual(run(['-serial', 'tcp::5555,server,nowait']).serial, { kind: 'socket', address: tcp('127.0.0.1', 5555), wait: false, option: '-serial tcp::5555,server,nowait' });
  assert.deepEqual(run(['-serial', 'tcp:[::1]:5555,server']).serial, { kind: 'socket', address: tcp('::1', 5555), wait: true, option: '-serial tcp:[::1]:5555,server' });
  assert.deepEqual(run(['-serial', 'tcp:0.0.0.0:0,server=on,wait=on,nodelay=on,ipv4=on']).serial,
    { kind: 'socket', address: tcp('0.0.0.0', 0), wait: true, option: '-serial tcp:0.0.0.0:0,server=on,wait=on,nodelay=on,ipv4=on' });
  assert.deepEqual(run(['-serial', 'unix:/tmp/a,,b.sock,server=on,wait=off']).serial,
    { kind: 'socket', address: { kind: 'unix', path: '/tmp/a,b.sock' }, wait: false, option: '-serial unix:/tmp/a,,b.sock,server=on,wait=off' });
  // -chardev socket before or after -serial chardev:ID.
  const chardev = 'socket,id=c0,host=127.0.0.1,port=4445,server=on,wait=off';
  for (const argv of [['-chardev', chardev, '-serial', 'chardev:c0'], ['-serial', 'chardev:c0', '-chardev', chardev]]) {
    const o = run(argv);
    assert.deepEqual(o.console, { kind: 'socket', address: tcp('127.0.0.1', 4445), wait: false, option: `-chardev ${chardev}` });
    assert.deepEqual(o.monitors, []);
    assert.equal(o.stdioMonitor, 'none');
  }
  assert.deepEqual(run(['-chardev', 'socket,id=s,path=/tmp/s.sock,server=on', '-serial', 'chardev:s']).serial,
    { kind: 'socket', address: { kind: 'unix', path: '/tmp/s.sock' }, wait: true, option: '-chardev socket,id=s,path=/tmp/s.sock,server=on' });
  // A monitor and the serial port, each on its own chardev; with -nographic the default monitor takes stdio.
  const both = run(['-nographic', '-chardev', 'socket,id=m,path=/tmp/m.sock,server=on,wait=off', '-mon', 'chardev=m,mode=control',
    '-chardev', 'socket,id=s,path=/tmp/s.sock,server=on,wait=off', '-serial', 'chardev:s']);
  assert.deepEqual(both.monitors, [{ mode: 'control', address: { kind: 'unix', path: '/tmp/m.sock' }, wait: false }]);
  assert.equal(both.console.kind, 'socket');
  assert.equal(run(['-nographic', '-serial', 'tcp::4444,server,nowait']).stdioMonitor, 'stdio');
  // Recorded with the machine's options, so `replayvm replay LOG` listens again.
  assert.deepEqual(run(['-serial', 'chardev:c0', '-chardev', chardev]).argv, ['-serial', 'chardev:c0', '-chardev', chardev]);

  fails(['-serial', 'chardev:nope'], /^-serial chardev:nope: no -chardev with id 'nope'$/);
  fails(['-serial', 'chardev:'], /^-serial chardev:: missing chardev id$/);
  fails(['-chardev', 'socket,id=c,path=/tmp/c,server=on,wait=off', '-mon', 'chardev=c', '-serial', 'chardev:c'],
    /^-serial chardev:c: chardev 'c' is already used by -mon/);
  fails(['-serial', 'tcp:127.0.0.1,server=on,wait=off'], /^-serial tcp:127\.0\.0\.1,server=on,wait=off: missing port \(tcp:HOST:PORT\)$/);
  fails(['-serial', 'tcp:127.0.0.1:,server=on'], /^-serial tcp:127\.0\.0\.1:,server=on: missing port$/);
  fails(['-serial', 'tcp:127.0.0.1:65536,server=on'], /port '65536' is not a number from 0 to 65535/);
  fails(['-serial', 'tcp:127.0.0.1:x,server=on'], /port 'x' is not a number/);
  fails(['-chardev', 'socket,id=c,host=127.0.0.1,server=on,wait=off', '-serial', 'chardev:c'], /^-chardev socket,id=c,host=127\.0\.0\.1,server=on,wait=off: missing port=/);
  fails(['-serial', 'unix:,server=on'], /^-serial unix:,server=on: missing socket path/);
  // Client mode (QEMU's default for -serial tcp: and -chardev socket) is not implemented.
  fails(['-serial', 'tcp:127.0.0.1:4444'], /^-serial tcp:127\.0\.0\.1:4444: connecting to a server \(server=off.*\) is not supported yet: add server=on,wait=off$/);
  fails(['-serial', 'unix:/tmp/x,server=off'], /^-serial unix:\/tmp\/x,server=off: connecting to a server .* not supported yet/);
  fails(['-chardev', 'socket,id=c,port=4444', '-serial', 'chardev:c'], /^-chardev socket,id=c,port=4444: connecting to a server .* not supported yet/);
  fails(['-serial', 'tcp::4444,server,reconnect=1'], /'reconnect' is for connecting to a server/);
  fails(['-serial', 'tcp::4444,server,telnet=on'], /^-serial tcp::4444,server,telnet=on: telnet=on is not supported$/);
  fails(['-serial', 'tcp::4444,server,wait=maybe'], /'wait' expects on or off, got 'maybe'/);
  fails(['-serial', 'tcp::4444,server,bogus=1'], /^-serial tcp::4444,server,bogus=1: invalid parameter 'bogus=1'$/);
  fails(['-serial', 'telnet::4444,server'], /^-serial telnet::4444,server: 'telnet::4444,server' is not a supported char driver \(.*tcp:HOST:PORT,server=on.*chardev:ID\)$/);
  fails(['-chardev', 'pty,id=p', '-serial', 'chardev:p'], /^-chardev pty,id=p: chardev backend 'pty' is not supported/);
  fails(['-chardev', 'socket,id=c,path=/tmp/c,server=on,wait=off,mux=on', '-serial', 'chardev:c'], /mux=on is not supported/);
  fails(['-serial', 'tcp::4444,server,nowait', '-serial', 'null'], /^-serial null: only one serial port/);
  fails(['-serial', 'chardev:c', '-serial', 'null'], /^-serial null: only one serial port/);
  fails(['-chardev', 'socket,id=a,path=/tmp/a,server=on,wait=off'], /^-chardev socket,id=a: not used by any -mon or -serial chardev:a$/);
  fails(['-serial', 'tcp::4444,server,nowait', '-qmp', 'tcp:127.0.0.1:4444,server,nowait'], /^-serial tcp::4444,server,nowait: the address is used by a monitor$/);
  fails(['-serial', 'unix:/tmp/q,server,nowait', '-chardev', 'socket,id=q,path=/tmp/q,server=on,wait=off', '-mon', 'chardev=q'], /the address is used by a monitor/);
  // A monitor's chardev still needs server=on (client mode is not supported).
  fails(['-chardev', 'socket,id=m,path=/tmp/m', '-mon', 'chardev=m'], /^-chardev socket,id=m,path=\/tmp\/m: .*only server mode is supported: add server=on/);
  const help = helpText().split('\n');
  const serialForms = help.filter((l) => l.startsWith('-serial ')).join('\n');
  assert.match(serialForms, /tcp:\[HOST\]:PORT/);
  assert.match(serialForms, /chardev:ID/);
});
