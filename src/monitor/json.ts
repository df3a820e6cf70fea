/**
 * JSON for the QMP wire: a typed `JsonValue`, a parser whose error texts follow QEMU's JSON
 * parser ("JSON parse error, ..."), a serializer that spaces output like QEMU
 * (`{"return": {}, "id": 1}`), and a streaming splitter that cuts a byte stream into
 * complete top-level JSON texts (QMP is a stream of JSON values, not lines).
 */

/** Any JSON value. Objects are plain records (created without a prototype by the parser). */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;

/** A JSON object. */
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** Thrown by {@link parseJson}; the message is QEMU's wording without the "JSON parse error, " prefix. */
export class JsonParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonParseError';
  }
}

/** True for a JSON object (not null, not an array). */
export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deepest nesting of arrays/objects accepted (QEMU: 1024). */
export const MAX_JSON_NESTING = 1024;

/** Parses one complete JSON text. Throws {@link JsonParseError} with QEMU-like descriptions. */
export function parseJson(text: string): JsonValue {
  const p = new Parser(text);
  p.skipWs();
  if (p.pos >= text.length) throw new JsonParseError('expecting value');
  const v = p.value(0);
  p.skipWs();
  if (p.pos < text.length) throw new JsonParseError(`stray '${text.slice(p.pos, p.pos + 16)}'`);
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  skipWs(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else break;
    }
  }

  value(depth: number): JsonValue {
    this.skipWs();
    const c = this.s[this.pos];
    if (c === undefined) throw new JsonParseError('expecting value');
    if (c === '{') return this.object(depth + 1);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos))!;
      this.pos += m[0].length;
      if (m[0] === 'true') return true;
      if (m[0] === 'false') return false;
      if (m[0] === 'null') return null;
      throw new JsonParseError(`invalid keyword '${m[0]}'`);
    }
    throw new JsonParseError('expecting value');
  }

  private object(depth: number): JsonObject {
    if (depth > MAX_JSON_NESTING) throw new JsonParseError('JSON nesting depth limit exceeded');
    this.pos++;
    const out = Object.create(null) as Record<string, JsonValue>;
    this.skipWs();
    if (this.s[this.pos] === '}') { this.pos++; return out; }
    for (;;) {
      this.skipWs();
      if (this.s[this.pos] !== '"') {
        if (this.pos >= this.s.length) throw new JsonParseError('premature EOI');
        throw new JsonParseError('key is not a string in object');
      }
      const key = this.string();
      this.skipWs();
      if (this.s[this.pos] !== ':') throw new JsonParseError('missing : in object pair');
      this.pos++;
      this.skipWs();
      if (this.pos >= this.s.length || this.s[this.pos] === '}' || this.s[this.pos] === ',') {
        throw new JsonParseError('Missing value in dict');
      }
      const v = this.value(depth);
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new JsonParseError(`duplicate key '${key}'`);
      out[key] = v;
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') { this.pos++; continue; }
      if (c === '}') { this.pos++; return out; }
      if (c === undefined) throw new JsonParseError('premature EOI');
      throw new JsonParseError('expected separator in dict');
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_JSON_NESTING) throw new JsonParseError('JSON nesting depth limit exceeded');
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.s[this.pos] === ']') { this.pos++; return out; }
    for (;;) {
      out.push(this.value(depth));
      this.skipWs();
      const c = this.s[this.pos];
      if (c === ',') { this.pos++; continue; }
      if (c === ']') { this.pos++; return out; }
      if (c === undefined) throw new JsonParseError('premature EOI');
      throw new JsonParseError('expected separator in list');
    }
  }

  private string(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined) throw new JsonParseError(`stray '${this.s.slice(start, start + 16)}'`);
      this.pos++;
      if (c === '"') return out;
      if (c === '\\') {
        const e = this.s[this.pos++];
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = this.s.slice(this.pos, this.pos + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) throw new JsonParseError('invalid hex escape sequence in string');
            out += String.fromCharCode(parseInt(h, 16));
            this.pos += 4;
            break;
          }
          default: throw new JsonParseError('invalid escape sequence in string');
        }
      } else if (c.charCodeAt(0) < 0x20) {
        throw new JsonParseError(`stray '${this.s.slice(start, this.pos)}'`);
      } else {
        out += c;
      }
    }
  }

  private number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.s.slice(this.pos));
    if (!m) throw new JsonParseError(`stray '${this.s.slice(this.pos, this.pos + 16)}'`);
    this.pos += m[0].length;
    return Number(m[0]);
  }
}

function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const c = s.charCodeAt(i);
    switch (ch) {
      case '"': out += '\\"'; break;
      case '\\': out += '\\\\'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      default:
        out += c < 0x20 || c > 0x7e ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
    }
  }
  return `${out}"`;
}

/**
 * Serializes like QEMU's QMP output: `", "` and `": "` separators, non-ASCII escaped as
 * `\uXXXX`, keys in insertion order. Non-finite numbers are rejected.
 */
export function formatJson(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new JsonParseError(`cannot serialize the non-finite number ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return quote(v);
  if (Array.isArray(v)) return `[${(v as readonly JsonValue[]).map(formatJson).join(', ')}]`;
  const o = v as JsonObject;
  return `{${Object.keys(o).map((k) => `${quote(k)}: ${formatJson(o[k]!)}`).join(', ')}}`;
}

/** One item cut from the stream by {@link JsonStreamSplitter}. */
export type SplitItem =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'invalid-utf8' }
  | { readonly kind: 'oversized'; readonly limit: number };

/** Default per-message size limit: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const STRUCTURAL = new Set([0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x22]);

/**
 * Cuts a byte stream into top-level JSON texts. Works on bytes (UTF-8 continuation bytes
 * never look like quotes or brackets), so an object may be split anywhere, even inside a
 * multi-byte character, and one chunk may hold several objects. A stray `}`/`]` and a
 * top-level scalar each come out as their own text (the parser then rejects them, like
 * QEMU). Once a text grows past `maxMessageBytes`, an `oversized` item is returned and the
 * splitter resets.
 */
export class JsonStreamSplitter {
  private readonly max: number;
  private parts: Uint8Array[] = [];
  private length = 0;
  /** 'idle', inside a container/string ('json'), or a bare top-level scalar ('scalar'). */
  private mode: 'idle' | 'json' | 'scalar' = 'idle';
  private depth = 0;
  private inString = false;
  private escape = false;
  private failed = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(options: { readonly maxMessageBytes?: number | undefined } = {}) {
    this.max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isInteger(this.max) || this.max <= 0) {
      throw new JsonParseError(`maxMessageBytes must be a positive integer, got ${this.max}`);
    }
  }

  /** Feeds bytes; returns the texts completed by them, in order. After `oversized`, further input is ignored. */
  push(chunk: Uint8Array): SplitItem[] {
    const items: SplitItem[] = [];
    if (this.failed) return items;
    let start = -1; // start of the current message's bytes inside this chunk
    const flush = (end: number): void => {
      if (start >= 0 && end > start) { this.parts.push(chunk.subarray(start, end)); this.length += end - start; }
      start = -1;
    };
    const emit = (end: number): void => {
      flush(end);
      const whole = concat(this.parts, this.length);
      this.parts = [];
      this.length = 0;
      this.mode = 'idle';
      this.depth = 0;
      this.inString = false;
      this.escape = false;
      try {
        items.push({ kind: 'text', text: this.decoder.decode(whole) });
      } catch {
        items.push({ kind: 'invalid-utf8' });
      }
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.mode === 'scalar') {
        if (WS.has(b) || STRUCTURAL.has(b)) { emit(i); } else { if (start < 0) start = i; continue; }
      }
      if (this.mode === 'idle') {
        if (WS.has(b)) continue;
        start = i;
        if (b === 0x7b || b === 0x5b) { this.mode = 'json'; this.depth = 1; }
        else if (b === 0x22) { this.mode = 'json'; this.depth = 0; this.inString = true; }
        else if (b === 0x7d || b === 0x5d || b === 0x2c || b === 0x3a) { emit(i + 1); continue; }
        else { this.mode = 'scalar'; }
        if (this.length + (i + 1 - start) > this.max) { items.push(this.overflow()); return items; }
        continue;
      }
      if (start < 0) start = i;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (b === 0x5c) this.escape = true;
        else if (b === 0x22) { this.inString = false; if (this.depth === 0) { emit(i + 1); continue; } }
      } else if (b === 0x22) this.inString = true;
      else if (b === 0x7b || b === 0x5b) this.depth++;
      else if (b === 0x7d || b === 0x5d) { this.depth--; if (this.depth === 0) { emit(i + 1); continue; } }
      if (this.length + (i + 1 - start) > this.max) { items.push(this.overflow()); return items; }
    }
    if (this.mode !== 'idle') flush(chunk.length);
    return items;
  }

  private overflow(): SplitItem {
    this.failed = true;
    this.parts = [];
    this.length = 0;
    this.mode = 'idle';
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    return { kind: 'oversized', limit: this.max };
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
