/**
 * QEMU's chardev multiplexer escape keys (`mon:stdio`), as a pure state machine: Ctrl-A
 * followed by a key is a command; anything else is console input for the guest.
 */

/** The escape character, Ctrl-A. */
export const MUX_ESCAPE = 0x01;

/** What a run of typed bytes means. */
export type MuxEvent =
  /** Bytes for the guest. */
  | { readonly kind: 'input'; readonly bytes: Uint8Array }
  /** Ctrl-A h or Ctrl-A ?: print the key help. */
  | { readonly kind: 'help' }
  /** Ctrl-A x: exit the emulator. */
  | { readonly kind: 'quit' }
  /** Ctrl-A c: switch between console and monitor. */
  | { readonly kind: 'monitor' }
  /** Ctrl-A b: send a break. */
  | { readonly kind: 'break' }
  /** Ctrl-A t: toggle console timestamps. */
  | { readonly kind: 'timestamps' }
  /** Ctrl-A s: save disk data (if -snapshot). */
  | { readonly kind: 'save' };

/** The text Ctrl-A h prints, byte for byte as QEMU's (lines end in "\n\r"). */
export function muxHelpText(): string {
  const keys: ReadonlyArray<readonly [string, string]> = [
    ['h', 'print this help'],
    ['x', 'exit emulator'],
    ['s', 'save disk data back to file (if -snapshot)'],
    ['t', 'toggle console timestamps'],
    ['b', 'send break (magic sysrq)'],
    ['c', 'switch between console and monitor'],
    ['C-a', 'sends C-a'],
  ];
  return '\n\r' + keys.map(([k, h]) => `C-a ${k.padEnd(4)} ${h}\n\r`).join('');
}

/** Decodes typed bytes into guest input and escape commands; keeps state across calls. */
export class MuxDecoder {
  private gotEscape = false;

  /** Decodes `bytes`; input runs between commands are returned as single events. */
  feed(bytes: Uint8Array): MuxEvent[] {
    const events: MuxEvent[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length > 0) events.push({ kind: 'input', bytes: Uint8Array.from(run) });
      run = [];
    };
    const command = (e: MuxEvent): void => {
      flush();
      events.push(e);
    };
    for (const b of bytes) {
      if (!this.gotEscape) {
        if (b === MUX_ESCAPE) this.gotEscape = true;
        else run.push(b);
        continue;
      }
      this.gotEscape = false;
      switch (b) {
        case MUX_ESCAPE: run.push(b); break;
        case 0x68: case 0x3f: command({ kind: 'help' }); break; // h ?
        case 0x78: command({ kind: 'quit' }); break; // x
        case 0x63: command({ kind: 'monitor' }); break; // c
        case 0x62: command({ kind: 'break' }); break; // b
        case 0x74: command({ kind: 'timestamps' }); break; // t
        case 0x73: command({ kind: 'save' }); break; // s
        default: break; // QEMU drops an unknown key after the escape
      }
    }
    flush();
    return events;
  }
}

/** What typed bytes do on a raw terminal for the monitor: text to echo and finished lines. */
export interface LineInputResult {
  /** Text to write back (echo, erase sequences, CRLF on Enter). */
  readonly echo: string;
  /** Completed lines, each ending in "\n", for the monitor. */
  readonly lines: string[];
}

/**
 * A minimal line editor for the human monitor on a raw terminal (QEMU's readline does this):
 * printable characters are echoed, Enter (CR or LF) ends the line, Backspace/DEL erases, Ctrl-U
 * erases the line; escape sequences (arrow keys) are dropped.
 */
export class MonitorLineInput {
  private line = '';
  private escape = 0;
  private lastCr = false;

  /** Feeds typed bytes (one byte per character, Latin-1). */
  feed(bytes: Uint8Array): LineInputResult {
    let echo = '';
    const lines: string[] = [];
    for (const b of bytes) {
      const afterCr = this.lastCr;
      this.lastCr = false;
      if (this.escape === 1) { this.escape = b === 0x5b || b === 0x4f ? 2 : 0; continue; } // ESC [ or ESC O
      if (this.escape === 2) { if (b >= 0x40 && b <= 0x7e) this.escape = 0; continue; }
      if (b === 0x1b) { this.escape = 1; continue; }
      if (b === 0x0d || b === 0x0a) {
        if (b === 0x0a && afterCr) continue; // CRLF is one Enter
        this.lastCr = b === 0x0d;
        echo += '\r\n';
        lines.push(this.line + '\n');
        this.line = '';
      } else if (b === 0x7f || b === 0x08) {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          echo += '\b \b';
        }
      } else if (b === 0x15) {
        echo += '\b \b'.repeat(this.line.length);
        this.line = '';
      } else if (b >= 0x20 && b !== 0x7f) {
        const c = String.fromCharCode(b);
        this.line += c;
        echo += c;
      }
    }
    return { echo, lines };
  }
}
