/** A small socket client for monitor tests: every wait has a timeout. */
import * as net from 'node:net';
import type { MonitorAddress } from '../../src/monitor/server.js';

/** Connected test client collecting received text. */
export class TestClient {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d) => { this.text += d.toString('utf8'); this.wake(); });
    socket.on('close', () => { this.closed = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  static connect(a: MonitorAddress): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const s = a.kind === 'unix' ? net.connect(a.path) : net.connect(a.port, a.host);
      const t = setTimeout(() => reject(new Error('connect timeout')), 2000);
      s.once('connect', () => { clearTimeout(t); resolve(new TestClient(s)); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }

  /** Waits until `pred(text)` holds (2 s timeout). */
  async until(pred: (text: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 2000;
    while (!pred(this.text)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; got ${JSON.stringify(this.text)}`);
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  /** Waits for the n-th CRLF-terminated JSON line (1-based) and returns it parsed. */
  async line(n: number): Promise<unknown> {
    await this.until((t) => t.split('\r\n').length > n, `line ${n}`);
    return JSON.parse(this.text.split('\r\n')[n - 1]!);
  }

  /** Returns the next unread line. */
  private read = 0;
  async next(): Promise<unknown> { this.read++; return this.line(this.read); }

  send(s: string): void { this.socket.write(s); }
  end(): void { this.socket.destroy(); }
}
