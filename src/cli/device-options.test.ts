import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openBlockBackend, OverlayBlockBackend } from '../host/node/block/open.js';
import { openEntropyBackend } from '../host/node/rng/entropy-backend.js';
import { deviceHelpText, parseDeviceOption, parseMacAddress, resolveDevices } from './device-options.js';
import type { ResolvedDevices } from './device-options.js';
import { parseDriveOption } from './drive-options.js';
import { parseNetdevOption } from './netdev-options.js';
import { parseObjectOption } from './object-options.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseDeviceOption(text), (e: unknown) => e instanceof CliError && e.message === `-device ${text}: ${message}`);
}

/** `items[i]`, asserted to exist (so a test reads a missing device as a failure, not a TypeError). */
function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  assert.ok(item !== undefined, `item ${i} of ${items.length}`);
  return item;
}

/** Resolves a command line given as [option, argument] pairs. */
function resolve(args: ReadonlyArray<readonly [string, string]>, snapshot = false, slots?: number): ResolvedDevices {
  const pick = (name: string): string[] => args.filter(([o]) => o === name).map(([, a]) => a);
  return resolveDevices(
    pick('-drive').map((a) => parseDriveOption(a)),
    pick('-device').map((a) => parseDeviceOption(a)),
    pick('-netdev').map((a) => parseNetdevOption(a)),
    pick('-object').map((a) => parseObjectOption(a)),
    snapshot,
    slots,
  );
}

function resolveFails(args: ReadonlyArray<readonly [string, string]>, message: string): void {
  assert.throws(() => resolve(args), (e: unknown) => e instanceof CliError && e.message === message);
}

test('the three virtio devices', () => {
  assert.deepEqual(parseDeviceOption('virtio-blk-device,drive=hd0,serial=ABC,,1'),
    { model: 'virtio-blk-device', drive: 'hd0', serial: 'ABC,1', where: '-device virtio-blk-device,drive=hd0,serial=ABC,,1' });
  assert.deepEqual(parseDeviceOption('virtio-net-device,netdev=n0,mac=52-54-00-AB-CD-EF,id=nic0,bus=virtio-mmio-bus.2'),
    { model: 'virtio-net-device', netdev: 'n0', mac: '52:54:00:ab:cd:ef', where: '-device virtio-net-device,netdev=n0,mac=52-54-00-AB-CD-EF,id=nic0,bus=virtio-mmio-bus.2', id: 'nic0', bus: 2 });
  assert.deepEqual(parseDeviceOption('virtio-rng-device'), { model: 'virtio-rng-device', where: '-device virtio-rng-device' });
  assert.deepEqual(parseDeviceOption('driver=virtio-rng-device,rng=r0'), { model: 'virtio-rng-device', rng: 'r0', where: '-device driver=virtio-rng-device,rng=r0' });
  assert.match(deviceHelpText(), /name "virtio-blk-device", bus virtio-bus/);
});

test('MAC addresses as QEMU parses them', () => {
  assert.equal(parseMacAddress('52:54:00:12:34:56'), '52:54:00:12:34:56');
  assert.equal(parseMacAddress('52-54-00-12-34-5A'), '52:54:00:12:34:5a');
  for (const bad of ['52:54:00:12:34', '52:54:00:12:34:567', '5:54:00:12:34:56', 'zz:54:00:12:34:56', '525400123456']) {
    assert.equal(parseMacAddress(bad), undefined, bad);
  }
});

test('device errors carry QEMU messages', () => {
  fails('foo', "'foo' is not a valid device model name");
  fails('foo,bar=1', "'foo' is not a valid device model name");
  fails('virtio-blk-pci,drive=hd0', "'virtio-blk-pci' is not supported: there is no PCI bus here (use virtio-blk-device)");
  fails('virtio-net,netdev=n0', "'virtio-net' is not supported: there is no PCI bus here (use virtio-net-device)");
  fails('virtio-gpu-device', "'virtio-gpu-device' is not supported (virtio-blk-device, virtio-net-device, virtio-rng-device)");
  fails('e1000,netdev=n0', "'e1000' is not supported (virtio-blk-device, virtio-net-device, virtio-rng-device)");
  fails('virtio-blk-device,drive=hd0,foo=1', "Property 'virtio-blk-device.foo' not found");
  fails('virtio-blk-device,drive=hd0,num-queues=2', "Property 'virtio-blk-device.num-queues' is not supported");
  fails('virtio-rng-device,drive=hd0', "Property 'virtio-rng-device.drive' not found");
  fails('virtio-blk-device', 'drive property not set');
  fails('virtio-net-device', 'netdev property not set (a NIC needs a -netdev)');
  fails('virtio-net-device,netdev=n0,mac=52:54:00:12:34', "Property 'virtio-net-device.mac' doesn't take value '52:54:00:12:34'");
  fails('virtio-net-device,netdev=n0,mac=01:00:5e:00:00:01', 'NIC cannot have multicast MAC address (odd 1st byte)');
  fails('virtio-rng-device,bus=pci.0', "Bus 'pci.0' not found");
  fails('virtio-rng-device,id=-x', "Parameter 'id' expects an identifier (letters, digits, '-', '.', '_', starting with a letter)");
  fails('id=x', "Parameter 'driver' is missing");
});

test('resolution: command-line order, slots from the highest address down, default MACs', () => {
  const r = resolve([
    ['-drive', 'file=root.img,if=none,id=hd0,format=raw'],
    ['-drive', 'file=data.img,if=virtio'],
    ['-netdev', 'user,id=n0,hostfwd=tcp::5555-:22'],
    ['-netdev', 'socket,id=n1,connect=127.0.0.1:9999'],
    ['-object', 'rng-random,id=rng0,filename=/dev/urandom'],
    ['-object', 'rng-random,id=rng1,filename=/tmp/seed'],
    ['-device', 'virtio-net-device,netdev=n0'],
    ['-device', 'virtio-blk-device,drive=hd0,serial=root'],
    ['-device', 'virtio-rng-device,rng=rng0'],
    ['-device', 'virtio-net-device,netdev=n1,mac=52:54:00:00:00:01,bus=virtio-mmio-bus.0'],
    ['-device', 'virtio-rng-device,rng=rng1,id=r1'],
    ['-device', 'virtio-rng-device'],
  ]);
  assert.deepEqual(r.devices.map((d) => [d.kind, d.slot]), [
    ['net', 7], ['blk', 6], ['rng', 5], ['net', 0], ['rng', 4], ['rng', 3], ['blk', 2],
  ]);
  const net0 = at(r.devices, 0);
  const blk0 = at(r.devices, 1);
  const rng0 = at(r.devices, 2);
  const net1 = at(r.devices, 3);
  const rng1 = at(r.devices, 4);
  const rng2 = at(r.devices, 5);
  const blk1 = at(r.devices, 6);
  assert.ok(net0.kind === 'net' && net0.mac === '52:54:00:12:34:56' && net0.netdev.id === 'n0');
  assert.ok(net1.kind === 'net' && net1.mac === '52:54:00:00:00:01' && net1.netdev.type === 'socket');
  assert.ok(blk0.kind === 'blk' && blk0.drive.file === 'root.img' && blk0.serial === 'root' && blk0.driveId === 'hd0' && !blk0.blkreplay);
  assert.ok(blk1.kind === 'blk' && blk1.drive.file === 'data.img' && blk1.driveId === 'virtio0' && blk1.serial === undefined);
  assert.equal(blk1.where, '-drive file=data.img,if=virtio');
  assert.ok(rng0.kind === 'rng' && rng0.source === 'urandom' && rng0.sourceWhere === '-object rng-random,id=rng0,filename=/dev/urandom');
  assert.ok(rng1.kind === 'rng' && typeof rng1.source === 'object' && rng1.source.file === '/tmp/seed' && rng1.id === 'r1');
  assert.ok(rng2.kind === 'rng' && rng2.source === 'builtin' && rng2.sourceWhere === '-device virtio-rng-device');
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.unusedDrives, []);
});

test('-snapshot sets snapshot=on on every drive; auto ids as QEMU; unused drives', () => {
  const r = resolve([
    ['-drive', 'file=a.img'],
    ['-drive', 'file=b.img,snapshot=off'],
    ['-drive', 'file=c.img,if=virtio'],
    ['-device', 'virtio-blk-device,drive=none1'],
  ], true);
  assert.equal(r.devices.length, 2);
  assert.ok(r.devices.every((d) => d.kind === 'blk' && d.drive.snapshot));
  assert.deepEqual(r.devices.map((d) => (d.kind === 'blk' ? d.driveId : '')), ['none1', 'virtio0']);
  assert.deepEqual(r.unusedDrives.map((d) => [d.file, d.id, d.snapshot]), [['a.img', 'none0', true]]);
  const plain = resolve([['-drive', 'file=c.img,if=virtio']]);
  const plainDisk = at(plain.devices, 0);
  assert.ok(plainDisk.kind === 'blk' && !plainDisk.drive.snapshot);
});

test('blkreplay wraps its image drive', () => {
  const r = resolve([
    ['-drive', 'file=disk.img,if=none,snapshot,id=img-direct'],
    ['-drive', 'driver=blkreplay,if=none,image=img-direct,id=img-blkreplay'],
    ['-device', 'virtio-blk-device,drive=img-blkreplay'],
  ]);
  const d = at(r.devices, 0);
  assert.ok(d.kind === 'blk');
  assert.equal(d.blkreplay, true);
  assert.equal(d.driveId, 'img-blkreplay');
  assert.equal(d.drive.file, 'disk.img');
  assert.equal(d.drive.snapshot, true);
  assert.deepEqual(r.unusedDrives, []);
  resolveFails([['-drive', 'driver=blkreplay,image=nope,id=r']],
    "-drive driver=blkreplay,image=nope,id=r: Cannot find device='nope' nor node-name='nope'");
  resolveFails([
    ['-drive', 'file=disk.img,id=img'],
    ['-drive', 'driver=blkreplay,image=img,id=r'],
    ['-device', 'virtio-blk-device,drive=img'],
  ], "-device virtio-blk-device,drive=img: Drive 'img' is already in use by another device");
});

test('reference errors carry QEMU messages', () => {
  resolveFails([['-device', 'virtio-blk-device,drive=hd1']],
    "-device virtio-blk-device,drive=hd1: Property 'virtio-blk-device.drive' can't find value 'hd1'");
  resolveFails([
    ['-drive', 'file=a,id=hd0'],
    ['-device', 'virtio-blk-device,drive=hd0'],
    ['-device', 'virtio-blk-device,drive=hd0,id=second'],
  ], "-device virtio-blk-device,drive=hd0,id=second: Drive 'hd0' is already in use by another device");
  resolveFails([
    ['-drive', 'file=a,if=virtio'],
    ['-device', 'virtio-blk-device,drive=virtio0'],
  ], "-device virtio-blk-device,drive=virtio0: Drive 'virtio0' is already in use because it has been automatically connected to another device (did you need 'if=none' in the drive options?)");
  resolveFails([['-drive', 'file=a,id=x'], ['-drive', 'file=b,id=x']], "-drive file=b,id=x: Duplicate ID 'x' for drive");
  resolveFails([['-netdev', 'user,id=n'], ['-netdev', 'user,id=n']], "-netdev user,id=n: Duplicate ID 'n' for netdev");
  resolveFails([['-object', 'rng-builtin,id=o'], ['-object', 'rng-random,id=o']],
    "-object rng-random,id=o: attempt to add duplicate property 'o' to object (type 'container')");
  resolveFails([['-device', 'virtio-rng-device,id=d'], ['-device', 'virtio-rng-device,id=d']],
    "-device virtio-rng-device,id=d: Duplicate ID 'd' for device");
  resolveFails([['-device', 'virtio-net-device,netdev=n9']],
    "-device virtio-net-device,netdev=n9: Property 'virtio-net-device.netdev' can't find value 'n9'");
  resolveFails([
    ['-netdev', 'user,id=n0'],
    ['-device', 'virtio-net-device,netdev=n0'],
    ['-device', 'virtio-net-device,netdev=n0,mac=52:54:00:00:00:02'],
  ], "-device virtio-net-device,netdev=n0,mac=52:54:00:00:00:02: Property 'virtio-net-device.netdev' can't take value 'n0', it's in use");
  resolveFails([['-device', 'virtio-rng-device,rng=r9']], "-device virtio-rng-device,rng=r9: Device 'r9' not found");
  resolveFails([
    ['-netdev', 'user,id=n0'],
    ['-object', 'filter-replay,id=f,netdev=n0'],
    ['-device', 'virtio-rng-device,rng=f'],
  ], "-device virtio-rng-device,rng=f: Invalid parameter type for 'rng', expected: rng-backend");
  resolveFails([['-object', 'filter-replay,id=f,netdev=n0']],
    "-object filter-replay,id=f,netdev=n0: Parameter 'netdev' expects a network backend id");
});

test('slots: bus= conflicts, too many devices, a smaller board', () => {
  resolveFails([['-device', 'virtio-rng-device'], ['-device', 'virtio-rng-device,bus=virtio-mmio-bus.7']],
    "-device virtio-rng-device,bus=virtio-mmio-bus.7: Bus 'virtio-mmio-bus.7' is full");
  resolveFails([['-device', 'virtio-rng-device,bus=virtio-mmio-bus.8']],
    "-device virtio-rng-device,bus=virtio-mmio-bus.8: Bus 'virtio-mmio-bus.8' not found");
  const nine = Array.from({ length: 9 }, (_, i) => ['-device', `virtio-rng-device,id=r${i}`] as const);
  resolveFails(nine, "-device virtio-rng-device,id=r8: No 'virtio-bus' bus found for device 'virtio-rng-device'");
  const r = resolve([['-device', 'virtio-rng-device,bus=virtio-mmio-bus.1'], ['-device', 'virtio-rng-device']], false, 2);
  assert.deepEqual(r.devices.map((d) => d.slot), [1, 0]);
});

test('net: an unused netdev warns as QEMU; filter-replay attaches to its netdev', () => {
  const r = resolve([
    ['-netdev', 'user,id=n0'],
    ['-netdev', 'user,id=n1'],
    ['-object', 'filter-replay,id=replay,netdev=n0'],
    ['-device', 'virtio-net-device,netdev=n0'],
  ]);
  assert.deepEqual(r.warnings, ['netdev n1 has no peer']);
  const nic = at(r.devices, 0);
  assert.ok(nic.kind === 'net' && nic.replayFilter?.id === 'replay');
  resolveFails([
    ['-netdev', 'user,id=n0'],
    ['-object', 'filter-replay,id=a,netdev=n0'],
    ['-object', 'filter-replay,id=b,netdev=n0'],
  ], "-object filter-replay,id=b,netdev=n0: netdev 'n0' already has a filter-replay");
});

test('resolved plans open with the host backends; their errors name the option', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'replayvm-dev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.img');
  writeFileSync(image, new Uint8Array(4096));
  const missing = join(dir, 'missing.img');
  const r = resolve([
    ['-drive', `file=${image},if=virtio,format=raw`],
    ['-drive', `file=${missing},id=gone`],
    ['-object', 'rng-builtin,id=rb'],
    ['-device', 'virtio-rng-device,rng=rb'],
  ], true);
  const rng = at(r.devices, 0);
  const blk = at(r.devices, 1);
  assert.ok(blk.kind === 'blk' && rng.kind === 'rng');
  const disk = await openBlockBackend(blk.drive);
  assert.ok(disk instanceof OverlayBlockBackend); // -snapshot
  assert.equal(disk.byteLength, 4096);
  await disk.close();
  await assert.rejects(openBlockBackend(at(r.unusedDrives, 0)),
    { message: `-drive file=${missing},id=gone: Could not open '${missing}': No such file or directory` });
  const entropy = await openEntropyBackend(rng.source, rng.sourceWhere);
  const bytes = await new Promise<Uint8Array>((resolve) => entropy.read(8, resolve));
  assert.equal(bytes.length, 8);
  await entropy.close();
});
