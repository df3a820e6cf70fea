/** A small socket client for monitor tests: every wait has a timeout. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import type { MonitorAddress } from '../../src/monitor/server.js';
import { describeRun, type RunResult } from '../helpers/run-vm.js';

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

/**
 * Waits (with an 8 s deadline) until the VM has created the unix socket at `path`; fails at
 * once, with the VM's output, if the VM exits first.
 */
export async function socketReady(path: string, run: Promise<RunResult>): Promise<void> {
  let exited: RunResult | undefined;
  void run.then((r) => { exited = r; });
  const deadline = Date.now() + 8000;
  while (!existsSync(path)) {
    if (exited !== undefined) throw new Error(`the VM exited early: ${describeRun(exited)}`);
    if (Date.now() > deadline) throw new Error(`timeout waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A parsed QMP message. */
export type Msg = Record<string, unknown>;

/** A QMP client over TestClient: finds replies by id and events by name among all lines. */
export class Qmp {
  private nextId = 1;
  private constructor(readonly c: TestClient) {}

  static async connect(a: MonitorAddress, negotiate = true): Promise<Qmp> {
    const q = new Qmp(await TestClient.connect(a));
    const greeting = await q.find((m) => 'QMP' in m, 'greeting');
    assert.ok(typeof greeting.QMP === 'object');
    if (negotiate) assert.deepEqual(await q.exec('qmp_capabilities'), {});
    return q;
  }

  private parsed: Msg[] = [];
  private parsedChars = 0;

  /** Every complete message received so far (parsed once each). */
  messages(): Msg[] {
    const text = this.c.text;
    let end = text.indexOf('\r\n', this.parsedChars);
    while (end >= 0) {
      const line = text.slice(this.parsedChars, end);
      if (line !== '') this.parsed.push(JSON.parse(line) as Msg);
      this.parsedChars = end + 2;
      end = text.indexOf('\r\n', this.parsedChars);
    }
    return this.parsed;
  }

  /** Waits for the first message from index `from` on that satisfies `pred`. */
  async find(pred: (m: Msg) => boolean, what: string, from = 0): Promise<Msg> {
    const match = (): Msg | undefined => this.messages().slice(from).find(pred);
    await this.c.until(() => match() !== undefined, what);
    return match()!;
  }

  event(name: string): Promise<Msg> {
    return this.find((m) => m.event === name, `event ${name}`);
  }

  /** Runs a command; returns `return`, or throws with the error. */
  async exec(execute: string, args?: Msg): Promise<unknown> {
    const id = this.nextId++;
    this.c.send(JSON.stringify(args === undefined ? { execute, id } : { execute, arguments: args, id }));
    const from = this.parsed.length;
    const r = await this.find((m) => m.id === id, `reply to ${execute}`, from);
    if ('error' in r) throw new Error(JSON.stringify(r.error));
    return r.return;
  }
}

