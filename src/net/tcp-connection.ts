/**
 * One TCP connection between the guest and slirp, terminated here: slirp plays the remote end
 * toward the guest (as QEMU's slirp does with its BSD TCP stack) and relays the byte stream to
 * a host socket. Written for a well-behaved guest on a lossless virtual link: in-order receive
 * only (out-of-order segments are answered with a duplicate ACK), no window scaling, SACK or
 * timestamps (our SYN omits them, so the guest does not use them), go-back-N retransmission on a
 * timer (1 s doubling, 8 tries) and zero-window probes for robustness.
 */
import { seqAdd, seqDiff, seqLe, seqLt } from './bytes.js';
import type { HostSockets, HostSocketError, HostTcpConnection, HostTcpHandlers, HostTimer } from './host-sockets.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type TcpSegment } from './tcp-segment.js';

export type TcpState =
  | 'connecting' // the guest's SYN arrived; waiting for the host connection
  | 'syn-sent' // we sent SYN to the guest (hostfwd)
  | 'syn-rcvd'
  | 'established'
  | 'close-wait'
  | 'fin-wait-1'
  | 'fin-wait-2'
  | 'closing'
  | 'last-ack'
  | 'time-wait'
  | 'closed';

/** The MSS we announce and never exceed (Ethernet MTU 1500 minus 40 bytes of headers). */
export const TCP_MSS = 1460;
/** Our receive window (no window scaling). */
export const TCP_WINDOW = 65535;
const DEFAULT_MSS = 536;
const RTO_INITIAL_MS = 1000;
const RTO_MAX_MS = 60_000;
const MAX_RETRIES = 8;
const TIME_WAIT_MS = 2000;
/** Host data buffered for the guest above which we pause the host socket, and where we resume. */
const HOST_HIGH_WATER = 256 * 1024;
const HOST_LOW_WATER = 64 * 1024;

/** The connection's addresses, as the guest sees them. */
export interface TcpEndpoints {
  guestIp: number;
  guestPort: number;
  remoteIp: number;
  remotePort: number;
}

/** What a connection needs from the user network. */
export interface TcpConnectionEnv {
  host: HostSockets;
  /** Sends a segment to the guest (from remote to guest). */
  emit(conn: TcpConnection, seg: TcpSegment): void;
  /** The connection is over; forget it. */
  closed(conn: TcpConnection): void;
}

/** Bytes queued for the guest, from sndUna on. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  private skip = 0;
  length = 0;

  push(b: Uint8Array): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  drop(n: number): void {
    this.length -= n;
    n += this.skip;
    let i = 0;
    while (i < this.chunks.length && n >= this.chunks[i]!.length) n -= this.chunks[i++]!.length;
    this.chunks = this.chunks.slice(i);
    this.skip = n;
  }

  copy(offset: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let pos = offset + this.skip;
    let done = 0;
    for (const c of this.chunks) {
      if (done === len) break;
      if (pos >= c.length) {
        pos -= c.length;
        continue;
      }
      const n = Math.min(c.length - pos, len - done);
      out.set(c.subarray(pos, pos + n), done);
      done += n;
      pos = 0;
    }
    return out;
  }
}

export class TcpConnection {
  state: TcpState;
  /** The host side; null until tcpConnect was called. */
  host: HostTcpConnection | null = null;

  // Send side (us -> guest).
  private readonly iss: number;
  private sndUna: number;
  private sndNxt: number;
  private sndMax: number;
  private sndWnd = 0;
  private sndWl1 = 0;
  private sndWl2 = 0;
  private readonly out = new ByteQueue();
  private hostEof = false;
  private finSeq: number | null = null;
  private mss = DEFAULT_MSS;

  // Receive side (guest -> us).
  private irs = 0;
  private rcvNxt = 0;
  private guestFin = false;

  private hostBlocked = false;
  private hostPaused = false;
  private hostClosed = false;
  private timer: HostTimer | null = null;
  private rto = RTO_INITIAL_MS;
  private retries = 0;
  private ackPending = false;

  private constructor(
    private readonly env: TcpConnectionEnv,
    readonly ends: TcpEndpoints,
    iss: number,
    state: TcpState,
  ) {
    this.iss = iss >>> 0;
    this.sndUna = this.iss;
    this.sndNxt = this.iss;
    this.sndMax = this.iss;
    this.state = state;
  }

  /**
   * A connection for a SYN the guest sent. The caller connects the host socket with
   * `hostHandlers()` and stores it in `host`; the SYN-ACK goes out once that connects.
   */
  static fromGuestSyn(env: TcpConnectionEnv, ends: TcpEndpoints, syn: TcpSegment, iss: number): TcpConnection {
    const c = new TcpConnection(env, ends, iss, 'connecting');
    c.irs = syn.seq;
    c.rcvNxt = seqAdd(syn.seq, 1);
    c.mss = Math.min(syn.mss ?? DEFAULT_MSS, TCP_MSS);
    c.sndWnd = syn.window;
    c.sndWl1 = syn.seq;
    return c;
  }

  /** A connection we open to the guest for an accepted host connection (hostfwd); sends the SYN. */
  static toGuest(env: TcpConnectionEnv, ends: TcpEndpoints, host: HostTcpConnection, iss: number): TcpConnection {
    const c = new TcpConnection(env, ends, iss, 'syn-sent');
    c.host = host;
    c.sendSyn();
    return c;
  }

  /** The handlers to give the host socket. */
  hostHandlers(): HostTcpHandlers {
    return {
      onConnect: () => this.onHostConnect(),
      onData: (d) => this.onHostData(d),
      onEnd: () => this.onHostEnd(),
      onDrain: () => this.onHostDrain(),
      onClose: (e) => this.onHostClose(e),
    };
  }

  /** Whether the connection is over (a method, so TypeScript does not narrow it away). */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Bytes from the host not yet acknowledged by the guest. */
  get bufferedForGuest(): number {
    return this.out.length;
  }

  // ---- host events ----

  private onHostConnect(): void {
    if (this.state !== 'connecting') return;
    this.state = 'syn-rcvd';
    this.sendSynAck();
  }

  private onHostData(d: Uint8Array): void {
    if (this.state === 'closed') return;
    this.out.push(d);
    if (this.out.length > HOST_HIGH_WATER && !this.hostPaused && this.host) {
      this.hostPaused = true;
      this.host.pause();
    }
    this.trySend();
  }

  private onHostEnd(): void {
    if (this.state === 'closed') return;
    this.hostEof = true;
    this.trySend();
  }

  private onHostDrain(): void {
    if (!this.hostBlocked) return;
    this.hostBlocked = false;
    if (this.state === 'established' || this.state === 'fin-wait-1' || this.state === 'fin-wait-2') this.sendAck();
  }

  private onHostClose(error: HostSocketError | null): void {
    this.hostClosed = true;
    if (this.state === 'closed') return;
    if (this.state === 'connecting') {
      // Refused (or failed): reset the guest's SYN, as a closed port would.
      this.emit(TCP_RST | TCP_ACK, 0, new Uint8Array(0));
      this.finish(false);
      return;
    }
    if (error !== null) {
      this.abort();
      return;
    }
    if (!this.hostEof) {
      this.hostEof = true;
      this.trySend();
    }
  }

  // ---- guest segments ----

  /** A segment from the guest for this connection. */
  handleSegment(seg: TcpSegment): void {
    if (this.state === 'closed') return;
    const f = seg.flags;
    if (f & TCP_RST) {
      if (this.state === 'syn-sent') {
        if (f & TCP_ACK && seg.ack === seqAdd(this.iss, 1)) this.finish(true);
      } else if (this.state !== 'connecting' && seqLe(this.rcvNxt, seg.seq) && seqLt(seg.seq, seqAdd(this.rcvNxt, TCP_WINDOW))) {
        this.finish(true);
      } else if (this.state === 'connecting' && seg.seq === this.rcvNxt) {
        this.finish(true);
      }
      return;
    }
    if (this.state === 'connecting') return; // a retransmitted SYN while the host connects
    if (this.state === 'syn-sent') {
      this.handleSynSent(seg);
      return;
    }
    if (f & TCP_SYN) {
      if (this.state === 'syn-rcvd' && seg.seq === this.irs) this.sendSynAck(); // retransmitted SYN
      else this.sendAck(); // a SYN inside a synchronized connection: challenge ACK (RFC 5961)
      return;
    }
    if (!(f & TCP_ACK)) return;

    if (this.state === 'syn-rcvd') {
      if (seg.ack !== seqAdd(this.iss, 1)) {
        this.emitRaw(TCP_RST, seg.ack);
        return;
      }
      this.sndUna = this.sndNxt = seg.ack;
      this.state = 'established';
      this.setWindow(seg);
      this.retries = 0;
      this.rto = RTO_INITIAL_MS;
      this.cancelTimer();
    } else {
      if (seqLt(this.sndMax, seg.ack)) {
        this.sendAck(); // acknowledges something we never sent
        return;
      }
      if (seqLt(this.sndUna, seg.ack)) {
        const acked = seqDiff(seg.ack, this.sndUna);
        this.out.drop(Math.min(acked, this.out.length));
        this.sndUna = seg.ack;
        if (seqLt(this.sndNxt, this.sndUna)) this.sndNxt = this.sndUna;
        this.rto = RTO_INITIAL_MS;
        this.cancelTimer();
        if (this.hostPaused && this.out.length < HOST_LOW_WATER && this.host && !this.hostClosed) {
          this.hostPaused = false;
          this.host.resume();
        }
      }
      this.retries = 0;
      if (seqLe(this.sndUna, seg.ack)) this.setWindow(seg);
    }

    // Our FIN acknowledged?
    if (this.finSeq !== null && seqLt(this.finSeq, this.sndUna)) {
      if (this.state === 'fin-wait-1') this.state = 'fin-wait-2';
      else if (this.state === 'closing') this.enterTimeWait();
      else if (this.state === 'last-ack') {
        this.finish(false);
        return;
      }
    }

    this.receive(seg);
    if (this.isClosed) return;
    this.trySend(false);
    if (this.ackPending) this.sendAck();
  }

  private handleSynSent(seg: TcpSegment): void {
    const f = seg.flags;
    if (f & TCP_ACK && seg.ack !== seqAdd(this.iss, 1)) {
      this.emitRaw(TCP_RST, seg.ack);
      return;
    }
    if (!(f & TCP_SYN) || !(f & TCP_ACK)) return;
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.sndUna = this.sndNxt = seg.ack;
    this.mss = Math.min(seg.mss ?? DEFAULT_MSS, TCP_MSS);
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = seg.ack;
    this.state = 'established';
    this.retries = 0;
    this.rto = RTO_INITIAL_MS;
    this.cancelTimer();
    this.ackPending = true;
    this.trySend(false);
    if (this.ackPending) this.sendAck();
  }

  private setWindow(seg: TcpSegment): void {
    if (seqLt(this.sndWl1, seg.seq) || (this.sndWl1 === seg.seq && seqLe(this.sndWl2, seg.ack))) {
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.sndWl2 = seg.ack;
    }
  }

  /** Takes the segment's data and FIN when they are next in sequence. */
  private receive(seg: TcpSegment): void {
    let payload = seg.payload;
    let fin = (seg.flags & TCP_FIN) !== 0;
    if (payload.length === 0 && !fin) {
      // An old sequence number (a keepalive probe) is answered with an ACK.
      if (seqLt(seg.seq, this.rcvNxt)) this.ackPending = true;
      return;
    }
    this.ackPending = true;
    const already = seqDiff(this.rcvNxt, seg.seq);
    if (already < 0) return; // a gap (cannot happen on a lossless link): duplicate ACK
    if (already > 0) {
      if (already > payload.length) fin = false; // the FIN too was seen already
      payload = payload.subarray(Math.min(already, payload.length));
    }
    if (payload.length > 0) {
      if (this.guestFin || this.hostClosed || this.host === null) {
        this.abort(); // data nobody can take any more
        return;
      }
      if (!this.host.write(payload.slice())) this.hostBlocked = true;
      this.rcvNxt = seqAdd(this.rcvNxt, payload.length);
    }
    if (fin && !this.guestFin) {
      this.guestFin = true;
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      if (this.host && !this.hostClosed) this.host.end();
      if (this.state === 'established') this.state = 'close-wait';
      else if (this.state === 'fin-wait-1') this.state = 'closing';
      else if (this.state === 'fin-wait-2') this.enterTimeWait();
    }
  }

  // ---- sending ----

  private sendSyn(): void {
    this.emitRaw(TCP_SYN, this.iss, TCP_MSS);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.armTimer();
  }

  private sendSynAck(): void {
    this.emit(TCP_SYN | TCP_ACK, this.iss, new Uint8Array(0), TCP_MSS);
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.armTimer();
  }

  private sendAck(): void {
    this.emit(TCP_ACK, this.sndNxt, new Uint8Array(0));
  }

  /** Sends what the guest's window allows; `force` sends at least one byte (a window probe). */
  private trySend(force = false): void {
    const s = this.state;
    if (s === 'connecting' || s === 'syn-sent' || s === 'syn-rcvd' || s === 'closed' || s === 'time-wait') return;
    for (;;) {
      const inflight = seqDiff(this.sndNxt, this.sndUna);
      const unsent = this.out.length - inflight;
      if (unsent > 0) {
        let room = this.sndWnd - inflight;
        if (force && room <= 0) room = 1;
        if (room <= 0) break;
        force = false;
        const n = Math.min(unsent, this.mss, room);
        const flags = TCP_ACK | (n === unsent ? TCP_PSH : 0);
        this.emit(flags, this.sndNxt, this.out.copy(inflight, n));
        this.advanceNxt(n);
      } else if (this.hostEof && inflight === this.out.length && (this.finSeq === null || seqLe(this.sndNxt, this.finSeq))) {
        // FIN after the last byte: first time, or again after a go-back-N rewind.
        this.emit(TCP_FIN | TCP_ACK, this.sndNxt, new Uint8Array(0));
        if (this.finSeq === null) {
          this.finSeq = this.sndNxt;
          if (this.state === 'established') this.state = 'fin-wait-1';
          else if (this.state === 'close-wait') this.state = 'last-ack';
        }
        this.advanceNxt(1);
        break;
      } else {
        break;
      }
    }
    this.armTimer();
  }

  private advanceNxt(n: number): void {
    this.sndNxt = seqAdd(this.sndNxt, n);
    if (seqLt(this.sndMax, this.sndNxt)) this.sndMax = this.sndNxt;
  }

  private emit(flags: number, seq: number, payload: Uint8Array, mss?: number): void {
    this.ackPending = false;
    this.env.emit(this, {
      srcPort: this.ends.remotePort,
      dstPort: this.ends.guestPort,
      seq,
      ack: flags & TCP_ACK ? this.rcvNxt : 0,
      flags,
      window: this.hostBlocked ? 0 : TCP_WINDOW,
      mss,
      payload,
    });
  }

  /** A segment without ACK (a SYN, or a RST answering an unacceptable ACK). */
  private emitRaw(flags: number, seq: number, mss?: number): void {
    this.env.emit(this, {
      srcPort: this.ends.remotePort,
      dstPort: this.ends.guestPort,
      seq,
      ack: 0,
      flags,
      window: TCP_WINDOW,
      mss,
      payload: new Uint8Array(0),
    });
  }

  // ---- timers and teardown ----

  private armTimer(): void {
    const s = this.state;
    const handshake = s === 'syn-sent' || s === 'syn-rcvd';
    const inflight = seqDiff(this.sndNxt, this.sndUna) > 0;
    const probe = !inflight && this.out.length > 0 && this.sndWnd === 0;
    if (handshake || inflight || probe) {
      if (this.timer === null) this.timer = this.env.host.setTimer(this.rto, () => this.onTimer());
    } else {
      this.cancelTimer();
    }
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }

  private onTimer(): void {
    this.timer = null;
    if (this.state === 'closed' || this.state === 'time-wait') return;
    if (++this.retries > MAX_RETRIES) {
      this.abort();
      return;
    }
    this.rto = Math.min(this.rto * 2, RTO_MAX_MS);
    if (this.state === 'syn-sent') this.sendSyn();
    else if (this.state === 'syn-rcvd') this.sendSynAck();
    else {
      this.sndNxt = this.sndUna; // go back N
      this.trySend(true);
    }
  }

  private enterTimeWait(): void {
    this.state = 'time-wait';
    this.cancelTimer();
    this.timer = this.env.host.setTimer(TIME_WAIT_MS, () => {
      this.timer = null;
      this.finish(false);
    });
  }

  /** Resets both sides. */
  abort(): void {
    if (this.state === 'closed') return;
    if (this.state !== 'connecting') this.emit(TCP_RST | TCP_ACK, this.sndNxt, new Uint8Array(0));
    this.finish(true);
  }

  /** Tears down without telling the guest (user network shutting down). */
  close(): void {
    this.finish(true);
  }

  private finish(destroyHost: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.cancelTimer();
    if (destroyHost && this.host && !this.hostClosed) this.host.destroy();
    this.hostClosed = true;
    this.env.closed(this);
  }
}
