/**
 * Console character devices on the Node host: stdio (optionally with QEMU's Ctrl-A mux keys),
 * a file, or nothing. Output must never block the machine and must not be lost at exit.
 */
import { closeSync, openSync } from 'node:fs';
import type { CharBackend } from '../../devices/char-backend.js';
import { NULL_CHAR_BACKEND } from '../../devices/char-backend.js';
import { MuxDecoder, muxHelpText } from './mux.js';
import { writeAll } from './write-all.js';

/** What the console asks of the program. */
export interface ConsoleHandlers {
  /** Bytes typed for the guest. */
  input(bytes: Uint8Array): void;
  /** The user asked to quit (Ctrl-A x): exit with code 0. */
  quit(): void;
  /** Ctrl-C on a raw TTY with plain `-serial stdio` (QEMU's signal=on). */
  interrupt(): void;
}

/** A console chardev: the guest's output side plus host input handling. */
export interface HostConsole {
  /** Where UART0 writes. */
  readonly backend: CharBackend;
  /** Begins reading host input, if this console has any. */
  start(handlers: ConsoleHandlers): void;
  /** Resolves when all output written so far has reached the OS. */
  flush(): Promise<void>;
  /** Stops reading input and restores the terminal; safe to call twice, and from an 'exit' handler. */
  close(): void;
}

/** The message Ctrl-A x prints (QEMU prints "QEMU: Terminated"). */
export const TERMINATED_MESSAGE = 'replayvm: terminated\n\r';
/** What Ctrl-A c prints until the monitor exists. */
export const NO_MONITOR_MESSAGE = '\n\rreplayvm: monitor not available yet\n\r';

const CTRL_C = 0x03;

/** `-serial null`. */
export function nullConsole(): HostConsole {
  return { backend: NULL_CHAR_BACKEND, start: () => {}, flush: () => Promise.resolve(), close: () => {} };
}

/** `-serial file:PATH`; throws the `openSync` error if the file cannot be created. */
export function fileConsole(path: string): HostConsole {
  let fd: number | undefined = openSync(path, 'w');
  return {
    backend: {
      write(bytes: Uint8Array): void {
        if (fd !== undefined) writeAll(fd, bytes);
      },
    },
    start: () => {},
    flush: () => Promise.resolve(),
    close(): void {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
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

  return {
    backend: { write: (bytes: Uint8Array) => out(bytes) },
    start(handlers: ConsoleHandlers): void {
      if (started || closed) return;
      started = true;
      if (stdin.isTTY) {
        stdin.setRawMode(true);
        rawSet = true;
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
            case 'input': handlers.input(ev.bytes); break;
            case 'help': out(muxHelpText()); break;
            case 'quit':
              out(TERMINATED_MESSAGE);
              handlers.quit();
              return;
            case 'monitor': out(NO_MONITOR_MESSAGE); break;
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
      if (rawSet) {
        try {
          stdin.setRawMode(false);
        } catch {
          // the terminal is gone
        }
      }
      if (started) stdin.pause();
    },
  };
}
