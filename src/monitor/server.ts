/**
 * Socket servers for the monitors (QMP and the human monitor). With wait=on (QEMU's default)
 * the program starts the machine only once a client is connected
 * ({@link MonitorServerHandle.waitForClient}). The parsers of the monitors' command-line
 * spellings are in address.ts (re-exported here).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { VmControl, VmEvent } from './vm-control.js';
import { QmpSession, type QmpTimestamp } from './qmp/session.js';
import { HmpConnection } from './hmp/connection.js';
import { MonitorServerError, type MonitorAddress } from './address.js';

export * from './address.js';

/** A running monitor server. */
export interface MonitorServerHandle {
  /** The bound address (the real port when 0 was asked for). */
  readonly address: MonitorAddress;
  /** QEMU's name for the socket while no client is connected: `disconnected:unix:PATH,server=on`. */
  readonly label: string;
  /**
   * Resolves once a client has connected (at once if one has): with undefined, with the signal
   * (SIGINT, SIGTERM, SIGHUP) that came first, or with 'closed' if the server was closed.
   */
  waitForClient(): Promise<WaitResult>;
  /** Stops listening, drops clients, removes the unix socket file. */
  close(): Promise<void>;
}

/** How {@link MonitorServerHandle.waitForClient} ended: a client came (undefined), a signal, or close. */
export type WaitResult = NodeJS.Signals | 'closed' | undefined;

/** The signals that end a wait for a client, as they end QEMU's. */
const WAIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Host wall clock for QMP timestamps. */
export function hostClock(): QmpTimestamp {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), microseconds: (ms % 1000) * 1000 };
}

/** QMP server options. */
export interface QmpServerOptions {
  readonly clock?: () => QmpTimestamp;
  readonly maxMessageBytes?: number | undefined;
}

interface Client {
  readonly socket: net.Socket;
  detach(): void;
}

async function listen(address: MonitorAddress, onClient: (s: net.Socket) => Client): Promise<MonitorServerHandle> {
  const clients = new Set<Client>();
  /** A client has connected since the server started (QEMU's wait=on waits for the first one). */
  let connected = false;
  let closed = false;
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  const server = net.createServer((socket) => {
    socket.setNoDelay?.(true);
    connected = true;
    wake();
    const c = onClient(socket);
    clients.add(c);
    socket.on('error', () => undefined);
    socket.on('close', () => { c.detach(); clients.delete(c); });
  });
  if (address.kind === 'unix') {
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(address.path); } catch { st = undefined; }
    if (st) {
      if (!st.isSocket()) throw new MonitorServerError(`cannot listen on '${address.path}': the file exists and is not a socket`);
      fs.unlinkSync(address.path);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new MonitorServerError(`cannot listen on ${describe(address)}: ${e.message}`)));
    if (address.kind === 'unix') server.listen(address.path, resolve);
    else server.listen(address.port, address.host, resolve);
  });
  const bound = server.address();
  const actual: MonitorAddress = address.kind === 'tcp' && bound !== null && typeof bound === 'object'
    ? { kind: 'tcp', host: address.host, port: bound.port } : address;
  let closing: Promise<void> | undefined;
  return {
    address: actual,
    label: `disconnected:${actual.kind === 'unix' ? `unix:${actual.path}` : `tcp:${actual.host.includes(':') ? `[${actual.host}]` : actual.host}:${actual.port}`},server=on`,
    waitForClient: () => {
      if (closed) return Promise.resolve('closed');
      if (connected) return Promise.resolve(undefined);
      return new Promise<WaitResult>((resolve) => {
        const listeners = WAIT_SIGNALS.map((name) => {
          const l = (): void => done(name);
          process.on(name, l);
          return [name, l] as const;
        });
        const waiter = (): void => done(closed ? 'closed' : undefined);
        const done = (result: WaitResult): void => {
          for (const [name, l] of listeners) process.off(name, l);
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(result);
        };
        waiters.push(waiter);
      });
    },
    close: () => {
      closed = true;
      wake();
      closing ??= new Promise<void>((resolve) => {
        for (const c of clients) { c.detach(); c.socket.destroy(); }
        clients.clear();
        server.close(() => {
          if (address.kind === 'unix') { try { fs.unlinkSync(address.path); } catch { /* already gone */ } }
          resolve();
        });
      });
      return closing;
    },
  };
}

function describe(a: MonitorAddress): string {
  return a.kind === 'unix' ? `unix socket '${a.path}'` : `tcp ${a.host}:${a.port}`;
}

/** Starts a QMP server; every client gets a greeting, and events once in command mode. */
export async function startQmpServer(address: MonitorAddress, vm: VmControl, options: QmpServerOptions = {}): Promise<MonitorServerHandle> {
  const sessions = new Set<QmpSession>();
  const clock = options.clock ?? hostClock;
  const handle = await listen(address, (socket) => {
    const session = new QmpSession({
      write: (text) => { if (!socket.destroyed) socket.write(text); },
      close: () => { socket.end(); },
    }, { vm, clock, ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}) });
    sessions.add(session);
    socket.on('data', (d: Buffer) => session.receive(d));
    session.start();
    return { socket, detach: () => { session.detach(); sessions.delete(session); } };
  });
  const unsubscribe = vm.onEvent((event: VmEvent) => { for (const s of sessions) s.deliverEvent(event); });
  return {
    address: handle.address,
    label: handle.label,
    waitForClient: () => handle.waitForClient(),
    close: async () => { unsubscribe(); await handle.close(); },
  };
}

/** Starts a human-monitor server: banner, "(qemu) " prompt, one command per line. */
export async function startHmpServer(address: MonitorAddress, vm: VmControl): Promise<MonitorServerHandle> {
  return listen(address, (socket) => {
    const conn = new HmpConnection(vm, (text) => { if (!socket.destroyed) socket.write(text); });
    socket.on('data', (d: Buffer) => conn.receive(d));
    conn.start();
    return { socket, detach: () => conn.detach() };
  });
}
