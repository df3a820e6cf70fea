/**
 * `-netdev user,id=ID[,hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT]...` and
 * `-netdev socket,id=ID,listen=[HOST]:PORT|connect=HOST:PORT`, parsed as QEMU does
 * (net/slirp.c slirp_hostfwd, net/socket.c, parse_host_port), with QEMU's messages after the
 * usual `-netdev TEXT: ` prefix. Pure: nothing is bound or resolved here.
 */
import type { HostForward, NetdevSpec } from '../host/node/virtio-plan.js';
import { CliError, checkQemuId, parseCInteger, parseQemuOpts } from './option-syntax.js';

export type { HostForward, NetdevSpec };

/** Netdev types QEMU has that we do not (the message lists ours). */
const SUPPORTED_TYPES = 'user, socket';

/** `-netdev user` options QEMU has that we do not implement yet. */
const UNSUPPORTED_USER_KEYS = new Set(['net', 'host', 'restrict', 'hostname', 'dhcpstart', 'dns', 'dnssearch',
  'domainname', 'ipv4', 'ipv6', 'ipv6-net', 'ipv6-prefix', 'ipv6-prefixlen', 'ipv6-host', 'ipv6-dns', 'tftp',
  'tftp-server-name', 'bootfile', 'smb', 'smbserver', 'guestfwd', 'ip', 'vlan', 'name']);

/** `-netdev socket` options QEMU has that we do not implement. */
const UNSUPPORTED_SOCKET_KEYS = new Set(['fd', 'mcast', 'udp', 'localaddr']);

/** A dotted-quad IPv4 address. */
function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/**
 * Parses one `hostfwd=` rule: `[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT`.
 * Returns the rule or QEMU's reason for refusing it.
 */
export function parseHostForward(rule: string): HostForward | string {
  const bad = (reason: string): string => `Invalid host forwarding rule '${rule}' (${reason})`;
  let rest = rule;
  const take = (sep: string): string | undefined => {
    const i = rest.indexOf(sep);
    if (i < 0) return undefined;
    const part = rest.slice(0, i);
    rest = rest.slice(i + 1);
    return part;
  };
  const proto = take(':');
  if (proto === undefined) return bad('No : separators');
  if (proto !== '' && proto !== 'tcp' && proto !== 'udp') return bad('Bad protocol name');
  const hostAddr = take(':');
  if (hostAddr === undefined) return bad('Missing : separator');
  if (hostAddr !== '' && !isIPv4(hostAddr)) return bad('Bad host address');
  const hostPortText = take('-');
  if (hostPortText === undefined) return bad('Bad host port separator');
  const hostPort = parseCInteger(hostPortText);
  if (hostPort === undefined || hostPort < 0 || hostPort > 65535) return bad('Bad host port');
  const guestAddr = take(':');
  if (guestAddr === undefined) return bad('Missing guest address');
  if (guestAddr !== '' && !isIPv4(guestAddr)) return bad('Bad guest address');
  const guestPort = parseCInteger(rest);
  if (guestPort === undefined || guestPort < 1 || guestPort > 65535) return bad('Bad guest port');
  return {
    protocol: proto === 'udp' ? 'udp' : 'tcp',
    hostAddr: hostAddr === '' ? '0.0.0.0' : hostAddr,
    hostPort,
    ...(guestAddr === '' ? {} : { guestAddr }),
    guestPort,
    rule,
  };
}

/** Parses `[HOST]:PORT` as QEMU's parse_host_port; returns the address or QEMU's message. */
export function parseHostPort(text: string): { host: string; port: number } | string {
  const colon = text.indexOf(':');
  if (colon < 0) return `host address '${text}' doesn't contain ':' separating host from port`;
  const host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (/^[0-9]/.test(host) && !isIPv4(host)) return `host address '${host}' is not a valid IPv4 address`;
  if (host !== '' && !/^[A-Za-z0-9.-]+$/.test(host)) return `can't resolve host address '${host}'`;
  const port = parseCInteger(portText);
  if (port === undefined || port < 0 || port > 65535) return `port number '${portText}' is invalid`;
  return { host, port };
}

/**
 * Parses the argument of `-netdev`. Throws CliError with QEMU's message for invalid input.
 * @param option the option name used in messages.
 */
export function parseNetdevOption(text: string, option = '-netdev'): NetdevSpec {
  const where = `${option} ${text}`;
  const fail = (message: string): never => {
    throw new CliError(`${where}: ${message}`);
  };
  const opts = parseQemuOpts(text, 'type', option);
  const type = opts.find((o) => o.key === 'type')?.value;
  if (type === undefined) return fail("Parameter 'type' is missing");
  if (type !== 'user' && type !== 'socket') return fail(`netdev type '${type}' is not supported (${SUPPORTED_TYPES})`);
  let id: string | undefined;
  const hostfwd: HostForward[] = [];
  let listen: string | undefined;
  let connect: string | undefined;
  for (const { key, value } of opts) {
    if (key === 'type') continue;
    if (key === 'id') {
      id = checkQemuId(value, where);
    } else if (type === 'user' && key === 'hostfwd') {
      const rule = parseHostForward(value);
      if (typeof rule === 'string') fail(rule);
      else hostfwd.push(rule);
    } else if (type === 'socket' && key === 'listen') {
      listen = value;
    } else if (type === 'socket' && key === 'connect') {
      connect = value;
    } else if ((type === 'user' ? UNSUPPORTED_USER_KEYS : UNSUPPORTED_SOCKET_KEYS).has(key)) {
      fail(`'${key}' is not supported yet`);
    } else {
      fail(`Invalid parameter '${key}'`);
    }
  }
  if (id === undefined) return fail("Parameter 'id' is missing");
  if (type === 'user') return { type, where, id, hostfwd };
  if ((listen === undefined) === (connect === undefined)) {
    return fail('exactly one of listen= or connect= is required (mcast=, udp= and fd= are not supported)');
  }
  const mode = listen !== undefined ? 'listen' : 'connect';
  const address = parseHostPort(listen ?? connect ?? '');
  if (typeof address === 'string') return fail(address);
  return { type, where, id, mode, host: address.host, port: address.port };
}
