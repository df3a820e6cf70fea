/**
 * Everything the network code needs from the host, as one injected, callback-based interface:
 * TCP connect/listen, UDP sockets, DNS resolution, timers and the time. `src/net` calls nothing
 * else, so record/replay can wrap this object (record every callback and return value, replay
 * them without touching the host). The Node implementation is
 * `src/host/node/net/node-host-sockets.ts`; tests use a fake.
 *
 * Rules for implementations:
 * - callbacks are never invoked synchronously from inside the call that set them up (e.g.
 *   `tcpConnect` never calls `onConnect`/`onClose` before it has returned);
 * - addresses are IPv4 dotted quads (`'127.0.0.1'`); `''`/`'0.0.0.0'` means any interface;
 * - data passed to callbacks is owned by the receiver (the implementation does not reuse it).
 */

/** An error from the host, e.g. `{ code: 'EADDRINUSE', message: 'address already in use' }`. */
export interface HostSocketError {
  /** errno-style name: EADDRINUSE, ECONNREFUSED, ECONNRESET, EACCES, ETIMEDOUT, ... */
  code: string;
  message: string;
}

/** Events of one TCP connection. */
export interface HostTcpHandlers {
  /** The outbound connection is established (tcpConnect only). */
  onConnect?(): void;
  /** Bytes from the peer. */
  onData(data: Uint8Array): void;
  /** The peer shut down its sending side (it sent FIN). Writing is still allowed. */
  onEnd(): void;
  /** Everything written before `write` returned false has been flushed. */
  onDrain?(): void;
  /** The connection is gone: `error` null after an orderly close, else why (refused, reset...). */
  onClose(error: HostSocketError | null): void;
}

/** One TCP connection. */
export interface HostTcpConnection {
  /** Queues bytes; false when the host's buffer is above its high-water mark (wait for onDrain). */
  write(data: Uint8Array): boolean;
  /** Half-closes: sends FIN after the queued bytes. */
  end(): void;
  /** Aborts the connection (RST); no further callbacks. */
  destroy(): void;
  /** Stops/starts delivering onData (flow control). */
  pause(): void;
  resume(): void;
}

/** Events of a listening TCP socket. */
export interface HostListenHandlers {
  /** The socket is bound and listening on `port` (useful when 0 was asked for). */
  onListening?(port: number): void;
  /** Binding or listening failed (EADDRINUSE when the port is taken); nothing else follows. */
  onError?(error: HostSocketError): void;
  /**
   * A connection was accepted from `remote`; return the handlers for it. Its data is delivered
   * only after this returns.
   */
  onConnection(conn: HostTcpConnection, remote: { addr: string; port: number }): HostTcpHandlers;
}

export interface HostTcpListener {
  close(): void;
}

/** Events of a UDP socket. */
export interface HostUdpHandlers {
  onMessage(data: Uint8Array, addr: string, port: number): void;
  /** Bound (to `port`); for an unbound socket after the first send. */
  onListening?(port: number): void;
  /** Binding failed (e.g. EADDRINUSE) or the socket broke; the socket is closed. */
  onError?(error: HostSocketError): void;
}

export interface HostUdpSocket {
  send(addr: string, port: number, data: Uint8Array): void;
  close(): void;
}

export interface HostTimer {
  cancel(): void;
}

/** The host side of the network code. */
export interface HostSockets {
  /** Opens a TCP connection to `addr:port`; the result comes through `handlers`. */
  tcpConnect(addr: string, port: number, handlers: HostTcpHandlers): HostTcpConnection;
  /** Listens for TCP connections on `addr:port` (`port` 0: any free port). */
  tcpListen(addr: string, port: number, handlers: HostListenHandlers): HostTcpListener;
  /** A UDP socket; bound to `bind` when given, else to an ephemeral port on first send. */
  udpSocket(handlers: HostUdpHandlers, bind?: { addr: string; port: number }): HostUdpSocket;
  /**
   * Sends a DNS query (a complete DNS message, as carried in UDP) to the host's resolver and
   * calls `reply` with the response message. No call when there is no answer (the guest retries).
   */
  resolveDns(query: Uint8Array, reply: (response: Uint8Array) => void): void;
  /** Calls `fn` once after `ms` milliseconds. */
  setTimer(ms: number, fn: () => void): HostTimer;
  /** Milliseconds on a monotonic clock. */
  now(): number;
}
