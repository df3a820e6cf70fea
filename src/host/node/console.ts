/**
 * Console character devices on the Node host: stdio (optionally with QEMU's Ctrl-A mux keys),
 * a file, or nothing. Output must never block the machine and must not be lost at exit.
 */
import { closeSync, openSync, renameSync } from 'node:fs';
import type { CharBackend } from '../../devices/char-backend.js';
import { NULL_CHAR_BACKEND } from '../../devices/char-backend.js';
import { MonitorLineInput, MuxDecoder, muxHelpText } from './mux.js';
import { writeAll } from './write-all.js';

/** What the console asks of the program. */
export interface ConsoleHandlers {
  /** Bytes typed for the guest. */
  input(bytes: Uint8Array): void;
  /** The user asked to quit (Ctrl-A x): exit with code 0. */
  quit(): void;
  /** Ctrl-C on a raw TTY with plain `-serial stdio` (QEMU's signal=on). */
  interrupt(): void;
  /**
   * The human monitor for stdio: behind Ctrl-A c on a mon:stdio console, or owning stdin with
   * `withStdioMonitor`. Without it, Ctrl-A c says that there is no monitor.
   */
  readonly monitor?: StdioMonitorFactory | undefined;
}

/** A human monitor conversation on stdio. */
export interface StdioMonitorSession {
  /** Typed bytes: whole lines ending in "\n" on a terminal (the console edits and echoes them). */
  receive(bytes: Uint8Array): void;
  /** The monitor got the focus (QEMU prints the banner the first time, then a prompt). */
  focus(): void;
}

/** Creates the monitor session; `write` prints on stdout. */
export type StdioMonitorFactory = (write: (text: string) => void) => StdioMonitorSession;

/** Routes typed bytes to a monitor session, editing lines on a raw terminal. */
class MonitorInput {
  private readonly editor = new MonitorLineInput();
  private readonly encoder = new TextEncoder();
  constructor(private readonly session: StdioMonitorSession, private readonly raw: boolean, private readonly out: (text: string) => void) {}

  feed(bytes: Uint8Array): void {
    if (!this.raw) {
      this.session.receive(bytes);
      return;
    }
    const r = this.editor.feed(bytes);
    if (r.echo !== '') this.out(r.echo);
    for (const line of r.lines) this.session.receive(this.encoder.encode(line));
  }
}

/** A console chardev: the guest's output side plus host input handling. */
export interface HostConsole {
  /** Where UART0 writes. */
  readonly backend: CharBackend;
  /** How the user ends the program from this console's input ('Ctrl-A x'), if there is a way. */
  readonly quitKeys?: string;
  /** A file console writing to a temporary name first (see fileConsole). */
  readonly staged?: StagedFile;
  /** Begins reading host input, if this console has any. */
  start(handlers: ConsoleHandlers): void;
  /** Resolves when all output written so far has reached the OS. */
  flush(): Promise<void>;
  /** Stops reading input and restores the terminal; safe to call twice, and from an 'exit' handler. */
  close(): void;
}

/** The message Ctrl-A x prints (QEMU prints "QEMU: Terminated"). */
export const TERMINATED_MESSAGE = 'replayvm: terminated\n\r';
/** What Ctrl-A c prints when there is no monitor on the console. */
export const NO_MONITOR_MESSAGE = '\n\rreplayvm: monitor not available yet\n\r';

const CTRL_C = 0x03;

/** `-serial null`. */
export function nullConsole(): HostConsole {
  return { backend: NULL_CHAR_BACKEND, start: () => {}, flush: () => Promise.resolve(), close: () => {} };
}

/** Output written under a temporary name, to be renamed over `target` only on `commit`. */
export interface StagedFile {
  /** Where the output goes meanwhile (beside the target). */
  readonly path: string;
  readonly target: string;
  /** Closes the file and renames it over the target. */
  commit(): void;
}

/**
 * `-serial file:PATH`; throws the `openSync` error if the file cannot be created. `staged`
 * (a replay): the output goes to `PATH.replay-PID` and replaces PATH only on `staged.commit()`,
 * so a replay that diverges or is stopped leaves the recording's console file as it was.
 */
export function fileConsole(path: string, options: { staged?: boolean } = {}): HostConsole {
  const out = options.staged === true ? `${path}.replay-${process.pid}` : path;
  let fd: number | undefined = openSync(out, 'w');
  const close = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    backend: {
      write(bytes: Uint8Array): void {
        if (fd !== undefined) writeAll(fd, bytes);
      },
    },
    ...(options.staged === true ? {
      staged: {
        path: out,
        target: path,
        commit(): void {
          close();
          renameSync(out, path);
        },
      },
    } : {}),
    start: () => {},
    flush: () => Promise.resolve(),
    close,
  };
}

/**
 * `-serial stdio` (`mux` false) or `mon:stdio` (`mux` true). A TTY stdin is put in raw mode
 * (restored by `close`); other stdin (pipes, files) is read as plain bytes, and its EOF is
 * just the end of input.
 */
export function stdioConsole(mux: boolean): HostConsole {
  const stdin = process.stdin;
  const stdout = process.stdout;
  let rawSet = false;
  let closed = false;
  let started = false;
  let stdoutBroken = false;
  stdout.on('error', () => {
    stdoutBroken = true; // e.g. EPIPE: the reader went away; keep running like QEMU
  });
  const out = (data: Uint8Array | string): void => {
    if (!stdoutBroken) stdout.write(typeof data === 'string' ? data : Buffer.from(data));
  };
  const decoder = new MuxDecoder();
  let monitor: MonitorInput | undefined;
  let session: StdioMonitorSession | undefined;
  let monitorFocus = false;

  // Plain stdio has no escape keys; on a terminal (raw mode) Ctrl-C ends the program.
  const quitKeys = mux ? 'Ctrl-A x' : stdin.isTTY ? 'Ctrl-C' : undefined;
  return {
    backend: { write: (bytes: Uint8Array) => out(bytes) },
    ...(quitKeys !== undefined ? { quitKeys } : {}),
    start(handlers: ConsoleHandlers): void {
      if (started || closed) return;
      started = true;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        rawSet = true;
      }
      if (mux && handlers.monitor !== undefined) {
        session = handlers.monitor((text) => out(text));
        monitor = new MonitorInput(session, rawSet, (text) => out(text));
      }
      stdin.on('data', (chunk: Buffer) => {
        if (closed) return;
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
        if (!mux) {
          if (rawSet && bytes.includes(CTRL_C)) {
            const before = bytes.subarray(0, bytes.indexOf(CTRL_C));
            if (before.length > 0) handlers.input(before.slice());
            handlers.interrupt();
            return;
          }
          handlers.input(bytes.slice());
          return;
        }
        for (const ev of decoder.feed(bytes)) {
          if (closed) return;
          switch (ev.kind) {
            case 'input':
              if (monitorFocus && monitor !== undefined) monitor.feed(ev.bytes);
              else handlers.input(ev.bytes);
              break;
            case 'help': out(muxHelpText()); break;
            case 'quit':
              out(TERMINATED_MESSAGE);
              handlers.quit();
              return;
            case 'monitor':
              if (session === undefined) {
                out(NO_MONITOR_MESSAGE);
              } else {
                // As QEMU's mux: switching prints nothing itself; the monitor shows its prompt.
                monitorFocus = !monitorFocus;
                if (monitorFocus) session.focus();
              }
              break;
            case 'break': out('\n\rreplayvm: break not supported yet\n\r'); break;
            case 'timestamps': out('\n\rreplayvm: console timestamps not supported yet\n\r'); break;
            case 'save': break; // no disks, nothing to save (as QEMU without -snapshot)
          }
        }
      });
      stdin.on('error', () => {}); // unreadable stdin: the console simply has no input
      stdin.resume();
    },
    flush(): Promise<void> {
      if (stdoutBroken) return Promise.resolve();
      return new Promise((resolve) => {
        stdout.write('', () => resolve());
      });
    },
    close(): void {
      if (closed) return;
      closed = true;
      releaseStdin(stdin, rawSet, started);
    },
  };
}

/**
 * `-monitor stdio`: the human monitor owns stdin and writes on stdout (the serial port is
 * `serial`, elsewhere). A TTY is put in raw mode with a small line editor; Ctrl-C there ends
 * the program like QEMU's stdio (signal=on).
 */
export function withStdioMonitor(serial: HostConsole): HostConsole {
  const stdin = process.stdin;
  const stdout = process.stdout;
  let rawSet = false;
  let closed = false;
  let started = false;
  let stdoutBroken = false;
  stdout.on('error', () => {
    stdoutBroken = true;
  });
  const out = (text: string): void => {
    if (!stdoutBroken) stdout.write(text);
  };
  return {
    backend: serial.backend,
    ...(serial.staged !== undefined ? { staged: serial.staged } : {}),
    start(handlers: ConsoleHandlers): void {
      serial.start(handlers);
      if (started || closed || handlers.monitor === undefined) return;
      started = true;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        rawSet = true;
      }
      const session = handlers.monitor(out);
      const input = new MonitorInput(session, rawSet, out);
      stdin.on('data', (chunk: Buffer) => {
        if (closed) return;
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
        if (rawSet && bytes.includes(CTRL_C)) {
          handlers.interrupt();
          return;
        }
        input.feed(bytes.slice());
      });
      stdin.on('error', () => {});
      stdin.resume();
      session.focus();
    },
    async flush(): Promise<void> {
      await serial.flush();
      if (stdoutBroken) return;
      await new Promise<void>((resolve) => {
        stdout.write('', () => resolve());
      });
    },
    close(): void {
      serial.close();
      if (closed) return;
      closed = true;
      releaseStdin(stdin, rawSet, started);
    },
  };
}

/** Gives stdin back: cooked mode again if we set raw mode, and no more reading. */
function releaseStdin(stdin: NodeJS.ReadStream, rawSet: boolean, started: boolean): void {
  if (rawSet) {
    try {
      stdin.setRawMode(false);
    } catch {
      // the terminal is gone
    }
  }
  if (started) stdin.pause();
}
