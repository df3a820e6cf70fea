import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChardevSocket, parseMonitorSocket, parseMonOption, resolveMonitors, MonitorServerError } from '../../src/monitor/server.js';

test('monitor addresses and chardev/mon resolution', () => {
  const address = (spec: string): unknown => parseMonitorSocket(spec).address;
  assert.deepEqual(address('unix:/tmp/q.sock,server=on,wait=off'), { kind: 'unix', path: '/tmp/q.sock' });
  assert.deepEqual(address('tcp::4444,server,nowait'), { kind: 'tcp', host: '127.0.0.1', port: 4444 });
  assert.deepEqual(parseMonitorSocket('tcp:127.0.0.1:4444,server=on'), { address: { kind: 'tcp', host: '127.0.0.1', port: 4444 }, wait: true });
  assert.deepEqual(parseMonitorSocket('unix:/tmp/q,server,nowait'), { address: { kind: 'unix', path: '/tmp/q' }, wait: false });
  assert.throws(() => parseMonitorSocket('tcp:127.0.0.1:4444'), /only server mode is supported/);
  assert.throws(() => parseMonitorSocket('tcp:0.0.0.0:4444,server=on,wait=off'), MonitorServerError);
  assert.deepEqual(parseMonitorSocket('tcp:0.0.0.0:1,server=on,wait=off', { allowNonLoopback: true }).address, { kind: 'tcp', host: '0.0.0.0', port: 1 });
  const c = parseChardevSocket('socket,id=qmp0,path=/tmp/a.sock,server=on,wait=off');
  const d = parseChardevSocket('socket,id=mon0,host=127.0.0.1,port=5555,server=on,wait=off');
  const plans = resolveMonitors([c, d], [parseMonOption('chardev=qmp0,mode=control'), parseMonOption('chardev=mon0')]);
  assert.deepEqual(plans, [
    { mode: 'control', address: { kind: 'unix', path: '/tmp/a.sock' }, wait: false },
    { mode: 'readline', address: { kind: 'tcp', host: '127.0.0.1', port: 5555 }, wait: false },
  ]);
  assert.equal(parseChardevSocket('socket,id=w,path=/tmp/w,server=on').wait, true);
  assert.throws(() => resolveMonitors([c], [parseMonOption('chardev=nope,mode=control')]), /no -chardev with id 'nope'/);
});
