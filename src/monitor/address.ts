/**
 * The command-line spellings of the monitors, parsed (no sockets here: the program's option
 * parser loads this module, the servers in server.ts are loaded only by runs that have a socket
 * monitor): `-qmp unix:PATH,server=on[,wait=off]`, `-monitor tcp:HOST:PORT,server,nowait`,
 * `-chardev socket,id=ID,path=...` with `-mon chardev=ID,mode=control|readline`.
 */

/** A bad monitor address or a server that could not start. */
export class MonitorServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorServerError';
  }
}

/** Where a monitor listens. */
export type MonitorAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** Parser options. */
export interface AddressOptions {
  /** Allow binding a TCP monitor to a non-loopback host (off by default: the monitor controls the VM). */
  readonly allowNonLoopback?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** A QEMU on/off option value (a bare key means on); throws MonitorServerError naming `where`. */
export function onOff(value: string | undefined, key: string, where: string): boolean {
  if (value === undefined || value === 'on' || value === 'yes' || value === 'true') return true;
  if (value === 'off' || value === 'no' || value === 'false') return false;
  throw new MonitorServerError(`${where}: '${key}' expects on or off, got '${value}'`);
}

/** One `key[=value]` item of a socket option. */
export interface SocketItem {
  readonly key: string;
  readonly value: string | undefined;
  readonly item: string;
}

/**
 * The server flags of a socket option (monitors and the serial port): `server` (default off),
 * `wait` (default on; `nowait` is QEMU's old spelling of wait=off), and the other items in order.
 */
export function serverFlags(items: readonly string[], where: string): { server: boolean; wait: boolean; rest: SocketItem[] } {
  let server = false;
  let wait = true;
  const rest: SocketItem[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    const value = eq < 0 ? undefined : item.slice(eq + 1);
    if (key === 'server') server = onOff(value, key, where);
    else if (key === 'wait') wait = onOff(value, key, where);
    else if (key === 'nowait' && value === undefined) wait = false;
    else rest.push({ key, value, item });
  }
  return { server, wait, rest };
}

/** Checks `server`/`wait` style options; returns `wait` and the leftover options. */
function checkServerOptions(opts: readonly string[], where: string): { wait: boolean; rest: Map<string, string | undefined> } {
  const { server, wait, rest: items } = serverFlags(opts, where);
  const rest = new Map<string, string | undefined>();
  for (const { key, value } of items) rest.set(key, value);
  if (!server) throw new MonitorServerError(`${where}: only server mode is supported: add server=on`);
  return { wait, rest };
}

function checkTcp(hostIn: string, portText: string, where: string, options: AddressOptions): MonitorAddress {
  const host = hostIn === '' ? '127.0.0.1' : hostIn.replace(/^\[(.*)\]$/, '$1');
  if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
    throw new MonitorServerError(`${where}: port '${portText}' is not a number from 0 to 65535`);
  }
  if (!LOOPBACK.has(host) && !options.allowNonLoopback) {
    throw new MonitorServerError(`${where}: refusing to expose the monitor on non-loopback host '${host}' (anyone who connects controls the VM); use 127.0.0.1 or allow it explicitly`);
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** A monitor socket option: where it listens, and whether the machine waits for a client. */
export interface MonitorSocket {
  readonly address: MonitorAddress;
  /** wait=on (QEMU's default): the machine starts only once a client has connected. */
  readonly wait: boolean;
}

/** Parses `unix:PATH,server=on[,wait=off]` or `tcp:HOST:PORT,server=on[,wait=off]` (also `server,nowait`). */
export function parseMonitorSocket(spec: string, options: AddressOptions = {}): MonitorSocket {
  const where = `monitor address '${spec}'`;
  const parts = spec.split(',');
  const head = parts[0]!;
  const { wait, rest } = checkServerOptions(parts.slice(1), where);
  for (const key of rest.keys()) {
    if (key !== 'ipv4' && key !== 'ipv6') throw new MonitorServerError(`${where}: unknown option '${key}'`);
  }
  if (head.startsWith('unix:')) {
    const path = head.slice(5);
    if (path === '') throw new MonitorServerError(`${where}: the unix socket path is empty`);
    return { address: { kind: 'unix', path }, wait };
  }
  if (head.startsWith('tcp:')) {
    const hp = head.slice(4);
    const colon = hp.lastIndexOf(':');
    if (colon < 0) throw new MonitorServerError(`${where}: expected tcp:HOST:PORT`);
    return { address: checkTcp(hp.slice(0, colon), hp.slice(colon + 1), where, options), wait };
  }
  throw new MonitorServerError(`${where}: expected unix:PATH or tcp:HOST:PORT`);
}

/** A `-chardev socket,...` definition. */
export interface ChardevSocket extends MonitorSocket {
  readonly id: string;
}

/** Parses `socket,id=ID,path=PATH|host=HOST,port=PORT,server=on[,wait=off]`. */
export function parseChardevSocket(spec: string, options: AddressOptions = {}): ChardevSocket {
  const where = `-chardev '${spec}'`;
  const parts = spec.split(',');
  if (parts[0] !== 'socket') throw new MonitorServerError(`${where}: only the 'socket' backend is supported here`);
  const { wait, rest: opts } = checkServerOptions(parts.slice(1), where);
  const id = opts.get('id');
  if (id === undefined || id === '') throw new MonitorServerError(`${where}: missing id=`);
  const path = opts.get('path');
  const host = opts.get('host');
  const port = opts.get('port');
  for (const key of opts.keys()) {
    if (!['id', 'path', 'host', 'port', 'ipv4', 'ipv6', 'telnet'].includes(key)) {
      throw new MonitorServerError(`${where}: unknown option '${key}'`);
    }
  }
  if (opts.has('telnet') && onOff(opts.get('telnet'), 'telnet', where)) {
    throw new MonitorServerError(`${where}: telnet=on is not supported`);
  }
  if (path !== undefined) {
    if (host !== undefined || port !== undefined) throw new MonitorServerError(`${where}: give either path= or host=/port=, not both`);
    if (path === '') throw new MonitorServerError(`${where}: the unix socket path is empty`);
    return { id, address: { kind: 'unix', path }, wait };
  }
  if (port === undefined) throw new MonitorServerError(`${where}: needs path= or port=`);
  return { id, address: checkTcp(host ?? '', port, where, options), wait };
}

/** A `-mon` option. */
export interface MonOption {
  readonly chardev: string;
  readonly mode: 'control' | 'readline';
}

/** Parses `chardev=ID[,mode=control|readline][,pretty=off]` (mode defaults to readline, like QEMU). */
export function parseMonOption(spec: string): MonOption {
  let chardev: string | undefined;
  let mode: MonOption['mode'] = 'readline';
  for (const o of spec.split(',')) {
    const [k, v] = [o.slice(0, o.indexOf('=') < 0 ? o.length : o.indexOf('=')), o.includes('=') ? o.slice(o.indexOf('=') + 1) : undefined];
    if (k === 'chardev' && v) chardev = v;
    else if (k === 'mode' && (v === 'control' || v === 'readline')) mode = v;
    else if (k === 'pretty' && (v === 'off' || v === undefined)) continue;
    else throw new MonitorServerError(`-mon '${spec}': unexpected '${o}' (expected chardev=ID,mode=control|readline)`);
  }
  if (chardev === undefined) throw new MonitorServerError(`-mon '${spec}': missing chardev=ID`);
  return { chardev, mode };
}

/** A monitor to start: QMP (`control`) or the human monitor (`readline`) at an address. */
export interface MonitorPlan extends MonitorSocket {
  readonly mode: 'control' | 'readline';
}

/** Matches `-mon` options to `-chardev` definitions; each chardev may serve one monitor. */
export function resolveMonitors(chardevs: readonly ChardevSocket[], mons: readonly MonOption[]): MonitorPlan[] {
  const used = new Set<string>();
  return mons.map((m) => {
    const c = chardevs.find((d) => d.id === m.chardev);
    if (!c) throw new MonitorServerError(`-mon chardev=${m.chardev}: no -chardev with id '${m.chardev}'`);
    if (used.has(c.id)) throw new MonitorServerError(`-mon chardev=${m.chardev}: chardev '${c.id}' is already used by another monitor`);
    used.add(c.id);
    return { mode: m.mode, address: c.address, wait: c.wait };
  });
}
