import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDriveOption } from './drive-options.js';
import { checkQemuId, parseQemuOpts } from './option-syntax.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseDriveOption(text), (e: unknown) => e instanceof CliError && e.message === `-drive ${text}: ${message}`);
}

test('QemuOpts splitting: ,, escapes, bare items are flags, the implied first key', () => {
  assert.deepEqual(parseQemuOpts('file=a,,b.img,snapshot,readonly=off', undefined, '-drive'),
    [{ key: 'file', value: 'a,b.img' }, { key: 'snapshot', value: 'on' }, { key: 'readonly', value: 'off' }]);
  assert.deepEqual(parseQemuOpts('virtio-blk-device,drive=x', 'driver', '-device'),
    [{ key: 'driver', value: 'virtio-blk-device' }, { key: 'drive', value: 'x' }]);
  assert.deepEqual(parseQemuOpts('file=a,,,,b,,,id=c', undefined, '-drive'),
    [{ key: 'file', value: 'a,,b,' }, { key: 'id', value: 'c' }]);
  assert.deepEqual(parseQemuOpts('file=x=y', undefined, '-drive'), [{ key: 'file', value: 'x=y' }]);
});

test('QEMU identifiers', () => {
  assert.equal(checkQemuId('hd0', 'w'), 'hd0');
  assert.equal(checkQemuId('a-b.c_d', 'w'), 'a-b.c_d');
  for (const bad of ['', '0hd', '-x', 'a b', 'a/b']) {
    assert.throws(() => checkQemuId(bad, '-drive id=x'), /^CliError: -drive id=x: Parameter 'id' expects an identifier/);
  }
});

test('an image drive and its defaults (if=none, as QEMU riscv virt; the format probed)', () => {
  assert.deepEqual(parseDriveOption('file=disk.img'), {
    driver: 'image', file: 'disk.img', where: '-drive file=disk.img', interface: 'none',
    readOnly: false, snapshot: false, cache: 'writeback',
  });
  assert.deepEqual(parseDriveOption('file=a,,b.img,format=raw,if=virtio,id=hd0,readonly=on,snapshot=on,cache=unsafe'), {
    driver: 'image', file: 'a,b.img', format: 'raw', where: '-drive file=a,,b.img,format=raw,if=virtio,id=hd0,readonly=on,snapshot=on,cache=unsafe',
    id: 'hd0', interface: 'virtio', readOnly: true, snapshot: true, cache: 'unsafe',
  });
  const flags = parseDriveOption('file=x.img,if=none,snapshot,readonly,id=img-direct');
  assert.equal(flags.snapshot, true);
  assert.equal(flags.readOnly, true);
  const format = (text: string): string | undefined => {
    const d = parseDriveOption(text);
    assert.equal(d.driver, 'image');
    return d.driver === 'image' ? d.format : 'not an image';
  };
  assert.equal(format('file=x,driver=raw'), 'raw');
  assert.equal(format('file=x,driver=file'), 'raw');
  assert.equal(format('file=x,format=qcow2'), 'qcow2');
  assert.equal(format('file=x,driver=qcow2,if=virtio'), 'qcow2');
  assert.equal(format('file=x,media=disk'), undefined);
  for (const cache of ['writeback', 'writethrough', 'none', 'directsync', 'unsafe']) {
    assert.equal(parseDriveOption(`file=x,cache=${cache}`).cache, cache);
  }
  assert.equal(parseDriveOption('file=x,readonly=yes,snapshot=false').readOnly, true);
});

test('the blkreplay wrapper', () => {
  assert.deepEqual(parseDriveOption('driver=blkreplay,if=none,image=img-direct,id=img-blkreplay'), {
    driver: 'blkreplay', image: 'img-direct', where: '-drive driver=blkreplay,if=none,image=img-direct,id=img-blkreplay',
    id: 'img-blkreplay', interface: 'none', readOnly: false, snapshot: false, cache: 'writeback',
  });
  fails('driver=blkreplay,id=r', 'A block device must be specified for "image"');
  fails('driver=blkreplay,file=x.img', "Block format 'blkreplay' does not support the option 'file' (use image=ID)");
  fails('file=x,image=y', "Invalid parameter 'image' (only with driver=blkreplay)");
});

test('errors carry QEMU messages', () => {
  fails('file=disk.vmdk,format=vmdk', "format 'vmdk' is not supported (raw, qcow2)");
  fails('file=disk.vdi,driver=vdi', "driver 'vdi' is not supported (raw, qcow2)");
  fails('file=x,format=raw,driver=raw', "Cannot specify both 'driver' and 'format'");
  fails('file=x,foo=bar', "Invalid parameter 'foo'");
  fails('disk.img', "Invalid parameter 'disk.img'");
  fails('file=x,if=ide', "interface 'if=ide' is not supported (none, virtio)");
  fails('file=x,if=usb', "unsupported bus type 'usb'");
  fails('file=x,cache=fast', 'invalid cache option');
  fails('file=x,readonly=maybe', "Parameter 'readonly' expects 'on' or 'off'");
  fails('file=x,snapshot=2', "Parameter 'snapshot' expects 'on' or 'off'");
  fails('file=x,id=0bad', "Parameter 'id' expects an identifier (letters, digits, '-', '.', '_', starting with a letter)");
  fails('file=x,index=1', "'index' is not supported");
  fails('file=x,aio=native', "'aio' is not supported");
  fails('file=x,throttling.bps-total=1', "'throttling.bps-total' is not supported");
  fails('file=x,media=cdrom', "media 'cdrom' is not supported (only disk)");
  fails('if=none,id=hd0', 'Device needs media, but drive is empty (give file=PATH)');
  fails('file=,if=virtio', 'Device needs media, but drive is empty (give file=PATH)');
});

test('the option name in messages follows the caller', () => {
  assert.throws(() => parseDriveOption('file=x,cache=fast', '--drive'), (e: unknown) => e instanceof CliError && e.message === '--drive file=x,cache=fast: invalid cache option');
  assert.equal(parseDriveOption('file=x', '--drive').where, '--drive file=x');
});
