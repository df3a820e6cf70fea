/**
 * A scripted HostSockets for tests: records every call; the test plays the host side (accepts,
 * refuses, sends data) and advances a fake clock. Deterministic, no I/O.
 */
import type {
  HostListenHandlers, HostSocketError, HostSockets, HostTcpConnection, HostTcpHandlers, HostTcpListener, HostTimer,
  HostUdpHandlers, HostUdpSocket,
} from '../../../src/net/host-sockets.js';
import { concatBytes } from '../../../src/net/bytes.js';

export class FakeTcpConnection implements HostTcpConnection {
  readonly written: Uint8Array[] = [];
  ended = false;
  destroyed = false;
  paused = false;
  /** What write() returns (false simulates a full host buffer). */
  writeResult = true;
  handlers: HostTcpHandlers | null;

  constructor(readonly addr: string, readonly port: number, handlers: HostTcpHandlers | null) {
    this.handlers = handlers;
  }

  write(data: Uint8Array): boolean {
    this.written.push(data.slice());
    return this.writeResult;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }

  /** Everything written so far, as one string. */
  get writtenText(): string {
    return new TextDecoder().decode(concatBytes(this.written));
  }

  // The host peer's actions:
  peerConnect(): void {
    this.handlers!.onConnect?.();
  }
  peerSend(data: Uint8Array | string): void {
    this.handlers!.onData(typeof data === 'string' ? new TextEncoder().encode(data) : data);
  }
  peerEnd(): void {
    this.handlers!.onEnd();
  }
  peerDrain(): void {
    this.handlers!.onDrain?.();
  }
  peerClose(error: HostSocketError | null = null): void {
    this.handlers!.onClose(error);
  }
}

export class FakeListener implements HostTcpListener {
  closed = false;
  readonly accepted: FakeTcpConnection[] = [];
  constructor(readonly addr: string, readonly port: number, readonly handlers: HostListenHandlers) {}
  close(): void {
    this.closed = true;
  }
  /** A host client connects from `addr:port`. */
  connectFrom(addr: string, port: number): FakeTcpConnection {
    const c = new FakeTcpConnection(addr, port, null);
    c.handlers = this.handlers.onConnection(c, { addr, port });
    this.accepted.push(c);
    return c;
  }
}

export class FakeUdpSocket implements HostUdpSocket {
  readonly sent: Array<{ addr: string; port: number; data: Uint8Array }> = [];
  closed = false;
  constructor(readonly handlers: HostUdpHandlers, readonly bind: { addr: string; port: number } | undefined) {}
  send(addr: string, port: number, data: Uint8Array): void {
    this.sent.push({ addr, port, data: data.slice() });
  }
  close(): void {
    this.closed = true;
  }
  /** A datagram arrives from `addr:port`. */
  receive(data: Uint8Array, addr: string, port: number): void {
    this.handlers.onMessage(data, addr, port);
  }
}

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeHostSockets implements HostSockets {
  time = 0;
  readonly connects: FakeTcpConnection[] = [];
  readonly listeners: FakeListener[] = [];
  readonly udpSockets: FakeUdpSocket[] = [];
  readonly dnsQueries: Array<{ query: Uint8Array; reply: (response: Uint8Array) => void }> = [];
  private timers: FakeTimer[] = [];
  private timerSeq = 0;

  tcpConnect(addr: string, port: number, handlers: HostTcpHandlers): HostTcpConnection {
    const c = new FakeTcpConnection(addr, port, handlers);
    this.connects.push(c);
    return c;
  }

  tcpListen(addr: string, port: number, handlers: HostListenHandlers): HostTcpListener {
    const l = new FakeListener(addr, port, handlers);
    this.listeners.push(l);
    return l;
  }

  udpSocket(handlers: HostUdpHandlers, bind?: { addr: string; port: number }): HostUdpSocket {
    const s = new FakeUdpSocket(handlers, bind);
    this.udpSockets.push(s);
    return s;
  }

  resolveDns(query: Uint8Array, reply: (response: Uint8Array) => void): void {
    this.dnsQueries.push({ query: query.slice(), reply });
  }

  setTimer(ms: number, fn: () => void): HostTimer {
    const t: FakeTimer = { at: this.time + ms, seq: this.timerSeq++, fn, cancelled: false };
    this.timers.push(t);
    return { cancel: () => { t.cancelled = true; } };
  }

  now(): number {
    return this.time;
  }

  /** Timers still armed. */
  get activeTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      let next: FakeTimer | null = null;
      for (const t of this.timers) if (t.at <= end && (next === null || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === null) break;
      this.time = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.time = end;
  }
}

