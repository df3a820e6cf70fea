/**
 * QEMU's `-netdev socket,listen=[HOST]:PORT` / `-netdev socket,connect=HOST:PORT` (net/socket.c,
 * stream mode): Ethernet frames over one TCP connection, each preceded by a 4-byte big-endian
 * length. Pure: the socket comes from the injected HostSockets, so record/replay can wrap it.
 *
 * Listen side: waits for one peer; while one is connected, further connections are refused
 * (closed); when it goes, the next one is accepted, as QEMU re-arms its listening socket.
 * Connect side: one connection, no reconnection. Frames the guest sends while no peer is
 * connected are dropped, as QEMU does.
 */
import { NetdevError } from './errors.js';
import { GuestDelivery } from './guest-delivery.js';
import type { HostSocketError, HostSockets, HostTcpConnection, HostTcpHandlers, HostTcpListener } from './host-sockets.js';
import type { NetBackend, NetReceiver, Schedule } from './net-backend.js';
import { encodeStreamFrame, StreamDeframer, StreamFramingError } from './stream-framing.js';

export type StreamNetdevMode =
  | { kind: 'listen'; addr: string; port: number }
  | { kind: 'connect'; addr: string; port: number };

export interface StreamNetdevOptions {
  host: HostSockets;
  schedule: Schedule;
  mode: StreamNetdevMode;
  /** For messages, e.g. `-netdev socket,id=n0,listen=:1234`. Default `-netdev socket`. */
  label?: string;
  log?: ((message: string) => void) | undefined;
}

/** Frames queued for the guest above which we stop reading the peer. */
const PAUSE_FRAMES = 256;

export class StreamNetBackend implements NetBackend {
  /** Frames dropped because no peer was connected. */
  droppedNoPeer = 0;
  /** The bound port (listen mode), once listening. */
  boundPort = 0;

  private readonly host: HostSockets;
  private readonly label: string;
  private readonly log: (message: string) => void;
  private readonly delivery: GuestDelivery;
  private readonly deframer: StreamDeframer;
  private listener: HostTcpListener | null = null;
  private peer: HostTcpConnection | null = null;
  private peerPaused = false;
  private closed = false;
  private ready: NetdevError | null | undefined = undefined;
  private readyWaiters: Array<(error: NetdevError | null) => void> = [];

  constructor(options: StreamNetdevOptions) {
    this.host = options.host;
    this.label = options.label ?? '-netdev socket';
    this.log = options.log ?? (() => {});
    this.delivery = new GuestDelivery(options.schedule);
    this.delivery.onDrained = () => {
      if (this.peerPaused && this.peer) {
        this.peerPaused = false;
        this.peer.resume();
      }
    };
    this.deframer = new StreamDeframer((frame) => {
      if (frame.length === 0) return;
      this.delivery.push(frame);
      if (!this.peerPaused && this.peer && this.delivery.length >= PAUSE_FRAMES) {
        this.peerPaused = true;
        this.peer.pause();
      }
    });
    const m = options.mode;
    if (m.kind === 'listen') {
      this.listener = this.host.tcpListen(m.addr === '' ? '0.0.0.0' : m.addr, m.port, {
        onListening: (port) => {
          this.boundPort = port;
          this.settle(null);
        },
        onError: (e) => this.settle(new NetdevError(`${this.label}: ${describe(e, m.port)}`)),
        onConnection: (conn) => this.accept(conn),
      });
    } else {
      let connected = false;
      let conn: HostTcpConnection | null = null;
      conn = this.host.tcpConnect(m.addr, m.port, this.peerHandlers(() => conn, () => {
        connected = true;
        this.settle(null);
      }, (error) => {
        if (!connected) this.settle(new NetdevError(`${this.label}: cannot connect to ${m.addr}:${m.port}: ${error?.message ?? 'connection closed'}`));
      }));
      this.peer = conn;
    }
  }

  /** Whether a peer is connected. */
  get connected(): boolean {
    return this.peer !== null && this.ready === null;
  }

  /** Calls back once listening (listen) or connected (connect), or with the error that prevented it. */
  whenReady(callback: (error: NetdevError | null) => void): void {
    if (this.ready !== undefined) callback(this.ready);
    else this.readyWaiters.push(callback);
  }

  send(frame: Uint8Array): void {
    if (this.closed || this.peer === null || this.ready !== null) {
      this.droppedNoPeer++;
      return;
    }
    this.peer.write(encodeStreamFrame(frame));
  }

  setReceiver(receive: NetReceiver): void {
    this.delivery.setReceiver(receive);
  }

  rxSpaceAvailable(): void {
    this.delivery.rxSpaceAvailable();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.listener?.close();
    this.peer?.destroy();
    this.peer = null;
    this.delivery.clear();
  }

  private settle(error: NetdevError | null): void {
    if (this.ready !== undefined) return;
    this.ready = error;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w(error);
  }

  private accept(conn: HostTcpConnection): HostTcpHandlers {
    if (this.closed || this.peer !== null) {
      conn.destroy();
      return { onData: () => {}, onEnd: () => {}, onClose: () => {} };
    }
    this.peer = conn;
    this.peerPaused = false;
    this.deframer.reset();
    return this.peerHandlers(() => conn, () => {}, () => {});
  }

  /** Handlers for the connection `get()` returns; they ignore events once it is not the peer. */
  private peerHandlers(get: () => HostTcpConnection | null, onConnect: () => void, onFail: (error: HostSocketError | null) => void): HostTcpHandlers {
    const mine = (): boolean => this.peer !== null && this.peer === get();
    return {
      onConnect,
      onData: (data) => {
        if (!mine() || this.closed) return;
        try {
          this.deframer.push(data);
        } catch (e) {
          if (!(e instanceof StreamFramingError)) throw e;
          this.log(`${this.label}: ${e.message}; disconnecting the peer`);
          this.dropPeer('abort');
        }
      },
      onEnd: () => {
        if (mine()) this.dropPeer('end');
      },
      onClose: (error) => {
        if (mine()) this.dropPeer('forget');
        onFail(error);
      },
    };
  }

  private dropPeer(how: 'abort' | 'end' | 'forget'): void {
    const p = this.peer;
    this.peer = null;
    this.peerPaused = false;
    this.deframer.reset();
    if (p === null) return;
    if (how === 'abort') p.destroy();
    else if (how === 'end') p.end();
  }
}

function describe(e: HostSocketError, port: number): string {
  if (e.code === 'EADDRINUSE') return `port ${port} already in use`;
  if (e.code === 'EACCES') return `permission denied for port ${port}`;
  return e.message;
}
