/**
 * The serial console on a listening socket, as QEMU's socket chardev in server mode
 * (`-serial tcp:HOST:PORT,server=on,wait=off`, `-serial unix:PATH,...`, `-chardev socket,...`
 * with `-serial chardev:ID`):
 *
 * - one client at a time: others wait (unserved, as in QEMU's listen backlog) until it leaves;
 * - guest output while no client is connected is dropped, as QEMU drops it;
 * - bytes the client sends are console input (`ConsoleHandlers.input`, the path stdio input takes);
 * - a client that goes away is just gone: the next one can connect.
 *
 * Output never blocks the machine: it is queued on the client's socket up to a cap, and dropped
 * beyond it (with one warning per client) while the client does not read.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import { dirname } from 'node:path';
import type { ConsoleHandlers, HostConsole } from './console.js';

/** Where the console listens (the same shape as a monitor's address). */
export type SocketConsoleAddress =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

/** The socket could not be set up (the message says why, without the option). */
export class SocketConsoleError extends Error {
  override name = 'SocketConsoleError';
}

export interface SocketConsoleOptions {
  /** Most output bytes queued for a client that does not read; more is dropped (default 1 MiB). */
  readonly maxPending?: number;
  /** How long `flush` waits for a client to take the queued output (default 2 s). */
  readonly flushTimeoutMs?: number;
  /** Prints a one-line warning (output dropped for a slow client). */
  readonly warn?: (line: string) => void;
}

/** A console on a listening socket. */
export interface SocketConsole extends HostConsole {
  /** The bound address (the real port when port 0 was asked for). */
  readonly address: SocketConsoleAddress;
  /** QEMU's name for the chardev while no client is connected: `disconnected:tcp:127.0.0.1:4444,server=on`. */
  readonly label: string;
  /** True while a client is connected. */
  readonly connected: boolean;
  /**
   * Resolves once a client is connected (at once if one is): with undefined, or with the
   * signal (SIGINT, SIGTERM, SIGHUP) that came first, or 'closed' if the console was closed.
   */
  waitForClient(): Promise<NodeJS.Signals | 'closed' | undefined>;
}

const DEFAULT_MAX_PENDING = 1024 * 1024;
const DEFAULT_FLUSH_TIMEOUT_MS = 2000;
const WAIT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const EMPTY = Buffer.alloc(0);

/** A listen error as one line: "address already in use". */
function listenErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE': return 'address already in use';
    case 'EACCES': return 'permission denied';
    case 'EADDRNOTAVAIL': return 'cannot assign requested address';
    case 'ENOENT': return 'no such file or directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ENOTFOUND': return 'unknown host';
    default: return e instanceof Error ? e.message.split('\n')[0]! : String(e);
  }
}

function describe(a: SocketConsoleAddress): string {
  return a.kind === 'unix' ? `unix socket '${a.path}'` : `tcp ${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/**
 * Listens on `address` and returns the console; throws a SocketConsoleError when it cannot
 * ("could not listen on tcp 127.0.0.1:4444: address already in use"). A unix socket file left
 * by an earlier run is replaced; any other file at the path is an error.
 */
export async function openSocketConsole(address: SocketConsoleAddress, options: SocketConsoleOptions = {}): Promise<SocketConsole> {
  const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
  const flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
  let active: net.Socket | undefined;
  const queue: net.Socket[] = [];
  let handlers: ConsoleHandlers | undefined;
  let closed = false;
  let droppedWarned = false;
  const waiters: Array<() => void> = [];
  const wake = (): void => {
    for (const w of waiters.splice(0)) w();
  };

  const activate = (socket: net.Socket): void => {
    active = socket;
    droppedWarned = false;
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => {
      if (closed || active !== socket) return;
      handlers?.input(new Uint8Array(chunk));
    });
    // Input is read only once the program takes it (start); until then it waits in the socket.
    if (handlers !== undefined) socket.resume();
    wake();
  };

  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {}); // a reset by the peer: 'close' follows
    if (closed) {
      socket.destroy();
      return;
    }
    socket.once('close', () => {
      if (active === socket) {
        active = undefined;
        if (closed) return;
        const next = queue.shift();
        if (next !== undefined) activate(next);
      } else {
        const i = queue.indexOf(socket);
        if (i >= 0) queue.splice(i, 1);
      }
    });
    if (active === undefined) activate(socket);
    else queue.push(socket);
  });
  server.on('error', () => {}); // after listening: nothing to do (errors before are reported below)

  if (address.kind === 'unix') {
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(address.path);
    } catch {
      st = undefined;
    }
    if (st !== undefined) {
      if (!st.isSocket()) throw new SocketConsoleError(`could not listen on ${describe(address)}: the file exists and is not a socket`);
      try {
        fs.unlinkSync(address.path);
      } catch (e) {
        throw new SocketConsoleError(`could not listen on ${describe(address)}: could not remove the old socket: ${listenErrorText(e)}`);
      }
    }
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => {
      // libuv reports a unix socket in a missing folder as EACCES.
      const missingDir = address.kind === 'unix' && !fs.existsSync(dirname(address.path));
      reject(new SocketConsoleError(`could not listen on ${describe(address)}: ${missingDir ? 'no such directory' : listenErrorText(e)}`));
    };
    server.once('error', onError);
    const listening = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, listening);
    else server.listen(address.port, address.host, listening);
  });
  const bound = server.address();
  const actual: SocketConsoleAddress = address.kind === 'tcp' && bound !== null && typeof bound === 'object'
    ? { kind: 'tcp', host: address.host, port: bound.port } : address;
  const label = actual.kind === 'unix'
    ? `disconnected:unix:${actual.path},server=on`
    : `disconnected:tcp:${actual.host.includes(':') ? `[${actual.host}]` : actual.host}:${actual.port},server=on`;

  return {
    address: actual,
    label,
    get connected(): boolean {
      return active !== undefined && !closed;
    },
    backend: {
      write(bytes: Uint8Array): void {
        const s = active;
        if (s === undefined || s.destroyed || s.writableEnded) return; // nobody listens: dropped, as QEMU
        if (s.writableLength + bytes.length > maxPending) {
          if (!droppedWarned) options.warn?.(`${describe(actual)}: the client does not read; console output is dropped`);
          droppedWarned = true;
          return;
        }
        droppedWarned = false;
        s.write(Buffer.from(bytes));
      },
    },
    start(h: ConsoleHandlers): void {
      if (handlers !== undefined || closed) return;
      handlers = h;
      active?.resume();
    },
    waitForClient(): Promise<NodeJS.Signals | 'closed' | undefined> {
      if (closed) return Promise.resolve('closed');
      if (active !== undefined) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        const listeners = WAIT_SIGNALS.map((name) => {
          const l = (): void => done(name);
          process.on(name, l);
          return [name, l] as const;
        });
        const waiter = (): void => done(closed ? 'closed' : undefined);
        const done = (result: NodeJS.Signals | 'closed' | undefined): void => {
          for (const [name, l] of listeners) process.off(name, l);
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          resolve(result);
        };
        waiters.push(waiter);
      });
    },
    flush(): Promise<void> {
      const s = active;
      if (s === undefined || s.destroyed) return Promise.resolve();
      if (s.writableEnded ? s.writableFinished : s.writableLength === 0) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          s.off('close', done);
          s.off('finish', done);
          resolve();
        };
        const timer = setTimeout(done, flushTimeoutMs);
        s.once('close', done);
        // An empty write completes once everything written before it reached the OS.
        if (s.writableEnded) s.once('finish', done);
        else s.write(EMPTY, () => done());
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      server.close();
      for (const q of queue.splice(0)) q.destroy();
      const s = active;
      if (s !== undefined) {
        s.pause();
        s.end(); // the queued output goes out first; `flush` waits for it
        setTimeout(() => s.destroy(), flushTimeoutMs).unref();
      }
      if (address.kind === 'unix') {
        try {
          fs.unlinkSync(address.path);
        } catch {
          // already gone
        }
      }
      wake();
    },
  };
}
