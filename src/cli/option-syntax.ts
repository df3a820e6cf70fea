/**
 * The pieces of QEMU's option syntax that every option parser of cli/ shares: the error they
 * throw, `key=value,...` lists (QemuOpts), booleans and ids. A leaf module: it imports nothing
 * from cli/, so options.ts and the seven *-options.ts parsers can all import it without a cycle.
 */
import { EXIT_USAGE, type ExitStatus } from './exit-status.js';

/**
 * A command line error; the message is one line naming the option, without the program
 * prefix. `status` is the exit status it ends the program with: a usage error (2) unless the
 * thrower says otherwise (a file that cannot be read is a runtime error, 1).
 */
export class CliError extends Error {
  override name = 'CliError';
  readonly status: ExitStatus;

  constructor(message: string, status: ExitStatus = EXIT_USAGE) {
    super(message);
    this.status = status;
  }
}

/** One `key=value` of an option argument (`,,` already unescaped). */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** Splits `a,b,,c` at single commas (`,,` is a literal comma), as QEMU's option syntax. */
export function splitOptionItems(text: string): string[] {
  const items: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === ',') {
      if (text.charAt(i + 1) === ',') {
        cur += ',';
        i++;
      } else {
        items.push(cur);
        cur = '';
      }
    } else {
      cur += c;
    }
  }
  items.push(cur);
  return items;
}

/**
 * Splits QEMU's `a,b=c,d=e,,f` syntax. The first item may omit its key: it then gets
 * `impliedKey`. Throws for an item without `=` elsewhere.
 */
export function parseKeyValues(text: string, impliedKey: string | undefined, option: string): KeyValue[] {
  const items = splitOptionItems(text);
  const out: KeyValue[] = [];
  items.forEach((item, idx) => {
    const eq = item.indexOf('=');
    if (eq < 0) {
      if (idx === 0 && impliedKey !== undefined) out.push({ key: impliedKey, value: item });
      else throw new CliError(`${option} ${text}: expected key=value, got '${item}'`);
    } else {
      out.push({ key: item.slice(0, eq), value: item.slice(eq + 1) });
    }
  });
  return out;
}

/**
 * Splits an option argument as QemuOpts does: `,,` is a literal comma, the first item may omit
 * its key (it then gets `impliedKey`), and any other item without `=` is a flag meaning
 * `item=on` (`-drive file=x,snapshot`). Keys are not checked here.
 */
export function parseQemuOpts(text: string, impliedKey: string | undefined, option: string): KeyValue[] {
  // Argument strings never contain NUL, so it can stand in for an escaped comma while splitting.
  const items = text.replaceAll(',,', '\0').split(',');
  const withValues = items.map((item, i) => (item.includes('=') || (i === 0 && impliedKey !== undefined) ? item : `${item}=on`));
  return parseKeyValues(withValues.join(',').replaceAll('\0', ',,'), impliedKey, option);
}

/**
 * Parses a QEMU boolean option value (on/yes/true/y, off/no/false/n); undefined when invalid.
 */
export function parseQemuBool(value: string): boolean | undefined {
  if (['on', 'yes', 'true', 'y'].includes(value)) return true;
  if (['off', 'no', 'false', 'n'].includes(value)) return false;
  return undefined;
}

/** A QEMU boolean (on/off, yes/no, true/false); throws QEMU's message otherwise. */
export function qemuBoolValue(key: string, value: string, where: string): boolean {
  const b = parseQemuBool(value);
  if (b === undefined) throw new CliError(`${where}: Parameter '${key}' expects 'on' or 'off'`);
  return b;
}

/** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.' and '_'. */
export function isQemuId(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]*$/.test(id);
}

/** Throws QEMU's message unless `id` is well formed. */
export function checkQemuId(id: string, where: string): string {
  if (!isQemuId(id)) {
    throw new CliError(`${where}: Parameter 'id' expects an identifier (letters, digits, '-', '.', '_', starting with a letter)`);
  }
  return id;
}

/**
 * Parses a number as C's strtol with base 0 (QEMU's qemu_strtol): decimal, 0x hex or 0 octal,
 * with an optional sign. Undefined when the text is not such a number.
 */
export function parseCInteger(value: string): number | undefined {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(value);
  if (m === null) return undefined;
  const sign = m[1] ?? '';
  const digits = m[2] ?? '';
  const n = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.startsWith('0') ? parseInt(digits, 8) : parseInt(digits, 10);
  return sign === '-' ? -n : n;
}
