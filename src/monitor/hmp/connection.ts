/**
 * A line-based human monitor conversation (a socket, or stdio behind the Ctrl-A c mux):
 * banner and "(qemu) " prompt, one command per line (LF or CRLF), commands run one at a
 * time, output lines end with "\r\n" like QEMU. No line editing or echo: the terminal
 * or the client does that.
 */
import type { VmControl } from '../vm-control.js';
import { HmpInterpreter } from './interpreter.js';

/** The banner line (QEMU: "QEMU 7.2.x monitor - type 'help' for more information"). */
export const HMP_BANNER = "replayvm monitor - type 'help' for more information";
/** QEMU's prompt, kept so that scripts waiting for it work. */
export const HMP_PROMPT = '(qemu) ';

/** Longest accepted command line; longer lines are rejected with a message. */
export const MAX_HMP_LINE = 64 * 1024;

/** One human-monitor client. */
export class HmpConnection {
  private buffer = '';
  private open = true;
  private queue: Promise<void> = Promise.resolve();
  private readonly interpreter: HmpInterpreter;
  private readonly decoder = new TextDecoder();

  /** `write` sends text to the client. */
  constructor(private readonly vm: VmControl, private readonly write: (text: string) => void) {
    this.interpreter = new HmpInterpreter(vm);
  }

  /** Sends the banner and the first prompt. */
  start(): void {
    this.write(`${HMP_BANNER}\r\n${HMP_PROMPT}`);
  }

  /** Feeds bytes typed by the client. */
  receive(chunk: Uint8Array): void {
    if (!this.open) return;
    this.buffer += this.decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.enqueue(line);
    }
    if (this.buffer.length > MAX_HMP_LINE) {
      this.buffer = '';
      this.queue = this.queue.then(() => {
        if (this.open) this.write(`command line longer than ${MAX_HMP_LINE} characters, ignored\r\n${HMP_PROMPT}`);
      });
    }
  }

  /** The client went away: queued commands are dropped, nothing more is written. */
  detach(): void {
    this.open = false;
  }

  /** Resolves when queued commands are done. */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(line: string): void {
    this.queue = this.queue.then(async () => {
      if (!this.open) return;
      const r = await this.interpreter.execute(line);
      if (!this.open) return;
      this.write(r.output.replace(/\r?\n/g, '\r\n'));
      if (r.quit) {
        this.vm.quit();
        return;
      }
      this.write(HMP_PROMPT);
    }).catch(() => undefined);
  }
}
