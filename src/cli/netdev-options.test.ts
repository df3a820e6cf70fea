import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostForward, parseHostPort, parseNetdevOption } from './netdev-options.js';
import { CliError } from './options.js';

function fails(text: string, message: string): void {
  assert.throws(() => parseNetdevOption(text), (e: unknown) => e instanceof CliError && e.message === `-netdev ${text}: ${message}`);
}

test('user networking with host forwarding rules', () => {
  assert.deepEqual(parseNetdevOption('user,id=n0'), { type: 'user', where: '-netdev user,id=n0', id: 'n0', hostfwd: [] });
  const n = parseNetdevOption('user,id=net0,hostfwd=tcp::5555-:22,hostfwd=tcp:127.0.0.1:8080-10.0.2.15:80,hostfwd=udp::6000-:53');
  assert.equal(n.type, 'user');
  assert.deepEqual(n.type === 'user' ? n.hostfwd : [], [
    { protocol: 'tcp', hostAddr: '0.0.0.0', hostPort: 5555, guestPort: 22, rule: 'tcp::5555-:22' },
    { protocol: 'tcp', hostAddr: '127.0.0.1', hostPort: 8080, guestAddr: '10.0.2.15', guestPort: 80, rule: 'tcp:127.0.0.1:8080-10.0.2.15:80' },
    { protocol: 'udp', hostAddr: '0.0.0.0', hostPort: 6000, guestPort: 53, rule: 'udp::6000-:53' },
  ]);
  // An empty protocol is tcp; ports as C's strtol(base 0); host port 0 is "any".
  assert.deepEqual(parseHostForward('::0x10-:022'), { protocol: 'tcp', hostAddr: '0.0.0.0', hostPort: 16, guestPort: 18, rule: '::0x10-:022' });
  assert.deepEqual(parseHostForward('tcp::0-:1'), { protocol: 'tcp', hostAddr: '0.0.0.0', hostPort: 0, guestPort: 1, rule: 'tcp::0-:1' });
});

test('bad host forwarding rules carry QEMU reasons', () => {
  const bad = (rule: string, reason: string): void => fails(`user,id=n0,hostfwd=${rule}`, `Invalid host forwarding rule '${rule}' (${reason})`);
  bad('tcp', 'No : separators');
  bad('sctp::1-:2', 'Bad protocol name');
  bad('tcp:5555', 'Missing : separator');
  bad('tcp:5555-:22', 'Bad host address');
  bad('tcp:localhost:5555-:22', 'Bad host address');
  bad('tcp::5555:22', 'Bad host port separator');
  bad('tcp::65536-:22', 'Bad host port');
  bad('tcp::x-:22', 'Bad host port');
  bad('tcp::5555-22', 'Missing guest address');
  bad('tcp::5555-10.0.2:22', 'Bad guest address');
  bad('tcp::5555-:0', 'Bad guest port');
  bad('tcp::5555-:', 'Bad guest port');
});

test('socket networking', () => {
  assert.deepEqual(parseNetdevOption('socket,id=s0,listen=:1234'),
    { type: 'socket', where: '-netdev socket,id=s0,listen=:1234', id: 's0', mode: 'listen', host: '', port: 1234 });
  assert.deepEqual(parseNetdevOption('socket,id=s1,connect=127.0.0.1:1234'),
    { type: 'socket', where: '-netdev socket,id=s1,connect=127.0.0.1:1234', id: 's1', mode: 'connect', host: '127.0.0.1', port: 1234 });
  assert.deepEqual(parseHostPort('localhost:80'), { host: 'localhost', port: 80 });
  fails('socket,id=s0', 'exactly one of listen= or connect= is required (mcast=, udp= and fd= are not supported)');
  fails('socket,id=s0,listen=:1,connect=:2', 'exactly one of listen= or connect= is required (mcast=, udp= and fd= are not supported)');
  fails('socket,id=s0,listen=1234', "host address '1234' doesn't contain ':' separating host from port");
  fails('socket,id=s0,connect=1.2.3:80', "host address '1.2.3' is not a valid IPv4 address");
  fails('socket,id=s0,connect=h:x', "port number 'x' is invalid");
  fails('socket,id=s0,mcast=230.0.0.1:1234', "'mcast' is not supported yet");
});

test('netdev errors', () => {
  fails('tap,id=n0', "netdev type 'tap' is not supported (user, socket)");
  fails('bridge,id=n0,br=br0', "netdev type 'bridge' is not supported (user, socket)");
  fails('user', "Parameter 'id' is missing");
  fails('user,id=9', "Parameter 'id' expects an identifier (letters, digits, '-', '.', '_', starting with a letter)");
  fails('user,id=n0,restrict=on', "'restrict' is not supported yet");
  fails('user,id=n0,listen=:1', "Invalid parameter 'listen'");
  fails('user,id=n0,foo=1', "Invalid parameter 'foo'");
  fails('id=n0', "Parameter 'type' is missing");
});
