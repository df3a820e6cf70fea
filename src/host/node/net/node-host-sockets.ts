/**
 * HostSockets over Node: node:net for TCP, node:dgram for UDP, the system's DNS servers
 * (`dns.getServers()`, i.e. /etc/resolv.conf on Unix) for forwarded queries, setTimeout for
 * timers. This is the only place the user network touches the host; record/replay wraps it.
 */
import * as dgram from 'node:dgram';
import * as dns from 'node:dns';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type {
  HostListenHandlers, HostSocketError, HostSockets, HostTcpConnection, HostTcpHandlers, HostTcpListener, HostTimer,
  HostUdpHandlers, HostUdpSocket,
} from '../../../net/host-sockets.js';

export interface DnsServer {
  addr: string;
  port: number;
}

export interface NodeHostSocketsOptions {
  /** Where to forward DNS queries; default the system's IPv4 servers, else 8.8.8.8. */
  dnsServers?: readonly DnsServer[];
  /** How long to wait for one server before trying the next (default 2000 ms). */
  dnsTimeoutMs?: number;
}

const MESSAGES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'broken pipe',
};

function hostError(e: unknown): HostSocketError {
  const code = typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'EIO';
  const message = MESSAGES[code] ?? (e instanceof Error ? e.message : String(e));
  return { code, message };
}

function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The IPv4 DNS servers the system uses (dns.getServers(): "addr" or "addr:port"). */
export function systemDnsServers(): DnsServer[] {
  const out: DnsServer[] = [];
  for (const s of dns.getServers()) {
    const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s);
    if (m) out.push({ addr: m[1]!, port: m[2] ? Number(m[2]) : 53 });
  }
  return out.length > 0 ? out : [{ addr: '8.8.8.8', port: 53 }];
}

/** Wraps a socket; `dead` silences every callback once we destroyed it ourselves. */
function wrapTcp(socket: net.Socket): { conn: HostTcpConnection; attach(h: HostTcpHandlers): void } {
  let dead = false;
  let error: HostSocketError | null = null;
  // Listen for errors from the start: an unhandled 'error' event would crash the process.
  socket.on('error', (e) => {
    error ??= hostError(e);
  });
  const conn: HostTcpConnection = {
    write(data) {
      if (dead || socket.destroyed || socket.writableEnded) return true;
      return socket.write(data);
    },
    end() {
      if (!dead && !socket.destroyed && !socket.writableEnded) socket.end();
    },
    destroy() {
      dead = true;
      socket.resetAndDestroy();
    },
    pause() {
      if (!dead) socket.pause();
    },
    resume() {
      if (!dead) socket.resume();
    },
  };
  const attach = (h: HostTcpHandlers): void => {
    socket.on('connect', () => {
      if (!dead) h.onConnect?.();
    });
    socket.on('data', (b: Buffer) => {
      if (!dead) h.onData(view(b));
    });
    socket.on('end', () => {
      if (!dead) h.onEnd();
    });
    socket.on('drain', () => {
      if (!dead) h.onDrain?.();
    });
    socket.on('close', () => {
      if (dead) return;
      dead = true;
      h.onClose(error);
    });
  };
  return { conn, attach };
}

export class NodeHostSockets implements HostSockets {
  private readonly dnsServers: readonly DnsServer[];
  private readonly dnsTimeoutMs: number;

  constructor(options: NodeHostSocketsOptions = {}) {
    this.dnsServers = options.dnsServers ?? systemDnsServers();
    this.dnsTimeoutMs = options.dnsTimeoutMs ?? 2000;
  }

  tcpConnect(addr: string, port: number, handlers: HostTcpHandlers): HostTcpConnection {
    const socket = new net.Socket({ allowHalfOpen: true });
    socket.setNoDelay(true);
    const w = wrapTcp(socket);
    w.attach(handlers);
    socket.connect({ host: addr, port });
    return w.conn;
  }

  tcpListen(addr: string, port: number, handlers: HostListenHandlers): HostTcpListener {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    let listening = false;
    let closed = false;
    server.on('connection', (socket) => {
      if (closed) {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      const w = wrapTcp(socket);
      const h = handlers.onConnection(w.conn, { addr: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 });
      w.attach(h);
      socket.resume();
    });
    server.on('error', (e) => {
      if (closed) return;
      if (!listening) closed = true;
      handlers.onError?.(hostError(e));
    });
    server.listen({ host: addr === '' ? '0.0.0.0' : addr, port }, () => {
      listening = true;
      if (closed) return;
      const a = server.address();
      handlers.onListening?.(typeof a === 'object' && a !== null ? a.port : port);
    });
    return {
      close: () => {
        closed = true;
        server.close();
      },
    };
  }

  udpSocket(handlers: HostUdpHandlers, bind?: { addr: string; port: number }): HostUdpSocket {
    const socket = dgram.createSocket('udp4');
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      socket.close();
    };
    socket.on('message', (msg, rinfo) => {
      if (!closed) handlers.onMessage(view(msg), rinfo.address, rinfo.port);
    });
    socket.on('listening', () => {
      if (!closed) handlers.onListening?.(socket.address().port);
    });
    socket.on('error', (e) => {
      if (closed) return;
      close();
      handlers.onError?.(hostError(e));
    });
    if (bind) socket.bind(bind.port, bind.addr === '' ? '0.0.0.0' : bind.addr);
    return {
      send: (addr, port, data) => {
        // UDP is lossy: a failed send (no route, ...) is a lost datagram, not an error.
        if (!closed) socket.send(data, port, addr, () => {});
      },
      close,
    };
  }

  resolveDns(query: Uint8Array, reply: (response: Uint8Array) => void): void {
    if (query.length < 12) return;
    const id = (query[0]! << 8) | query[1]!;
    const socket = dgram.createSocket('udp4');
    let index = 0;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.close();
    };
    const tryNext = (): void => {
      if (done) return;
      const server = this.dnsServers[index++];
      if (server === undefined) return finish(); // nobody answered: the guest retries
      socket.send(query, server.port, server.addr, () => {});
      timer = setTimeout(tryNext, this.dnsTimeoutMs);
      timer.unref();
    };
    socket.on('message', (msg) => {
      if (done || msg.length < 12 || ((msg[0]! << 8) | msg[1]!) !== id) return;
      const answer = new Uint8Array(msg); // a copy the caller owns
      finish();
      reply(answer);
    });
    socket.on('error', finish);
    tryNext();
  }

  setTimer(ms: number, fn: () => void): HostTimer {
    const t = setTimeout(fn, ms);
    t.unref(); // network timers alone do not keep the process alive
    return { cancel: () => clearTimeout(t) };
  }

  now(): number {
    return performance.now();
  }
}
