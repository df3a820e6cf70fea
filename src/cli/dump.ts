/**
 * `replayvm dump FILE [--json] [--stats]`: prints a replay log.
 *
 * - default: the header, then one line per event, `icount  kind  details`, then how the log ends;
 * - `--json`: JSON lines: `{"header":{...}}`, one object per event (byte arrays as base64), then
 *   `{"log":{...}}` with the completeness report;
 * - `--stats`: totals per event kind, icount range, chunks, sizes, completeness (with `--json`:
 *   one JSON object).
 *
 * Exit status (src/host/exit-status.ts), as a replay's: 0 for a complete log; 5 for an
 * incomplete log (a crashed recording: every event of its whole chunks is printed, then a note),
 * 4 for a log damaged inside the file, 1 for a file that is not a log or needs a newer replayvm;
 * in each case what could be read is printed, then one line on stderr naming the byte offset;
 * 2 for a usage error.
 */
import {
  EVENT_KINDS, ReplayLogError, StatsAccumulator, describeReport, type LogHeader, type LogReader,
  type LogReport, type LogStats, type ReplayEvent,
} from '../replay/index.js';
import { exitStatusOfLog } from '../host/node/replay/exit-status.js';
import { LogFileError, openLogReader } from '../host/node/replay/log-file.js';

/** Where the dump writes (the same shape as the CLI's ProgramIo). */
export interface DumpIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export const DUMP_USAGE = `usage: replayvm dump [--json] [--stats] LOG
Prints a replay log (recorded by replayvm record or -icount ...,rr=record).
  --json    JSON lines: the header, one object per event (bytes in base64),
            the end report
  --stats   totals per event kind, icount range, chunks, sizes, completeness
Exit status: 0 complete log, 1 not a log, 2 usage error, 4 damaged log,
5 incomplete log (a crashed recording: its whole chunks are printed).
`;
/** Buffers output so that large logs are not written line by line. */
class Out {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly write: (text: string) => void) {}
  line(text: string): void {
    this.parts.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= 1 << 16) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    this.write(this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
}

const PREVIEW = 16;

function hexPreview(b: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < Math.min(PREVIEW, b.length); i++) parts.push(b[i]!.toString(16).padStart(2, '0'));
  return `[${parts.join(' ')}${b.length > PREVIEW ? ' ...' : ''}]`;
}

function textPreview(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < Math.min(PREVIEW, b.length); i++) {
    const c = b[i]!;
    if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x09) s += '\\t';
    else if (c === 0x5c) s += '\\\\';
    else if (c === 0x22) s += '\\"';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return `"${s}"${b.length > PREVIEW ? '...' : ''}`;
}

function bytesText(b: Uint8Array): string {
  return `${b.length} byte${b.length === 1 ? '' : 's'} ${hexPreview(b)}`;
}

/** The details column of the text output. */
export function eventDetails(e: ReplayEvent): string {
  switch (e.kind) {
    case 'console-input': return `${e.bytes.length} byte${e.bytes.length === 1 ? '' : 's'} ${textPreview(e.bytes)}`;
    case 'virtio-doorbell': return `slot=${e.slot}`;
    case 'block-complete': {
      let s = `slot=${e.slot} request=${e.request}`;
      if (e.error !== undefined) s += ` error=${JSON.stringify(e.error)}`;
      if (e.data !== undefined) s += ` data=${bytesText(e.data)}`;
      return s;
    }
    case 'entropy': return `slot=${e.slot} request=${e.request} ${bytesText(e.bytes)}`;
    case 'net-receive': return `slot=${e.slot} frame=${bytesText(e.frame)}`;
    case 'clock-read': return `clock=${e.clock} value=${e.value}`;
    case 'clock-warp': return `ns=${e.ns}`;
    case 'timer': return `id=${e.id} shift=${e.shift}`;
    case 'request': return `what=${e.what} cause=${JSON.stringify(e.cause)}${e.exitCode !== undefined ? ` exitCode=${e.exitCode}` : ''}`;
    case 'monitor': return `command=${JSON.stringify(e.command)}`;
    case 'interrupt': return `hart=${e.hart} cause=0x${e.cause.toString(16)}`;
    case 'digest':
      return [
        ...e.harts.map((h, i) => `hart${i}.pc=0x${h.pc.toString(16).padStart(8, '0')} hart${i}.regs=${h.regsHash}`),
        `devices=${e.devicesHash} ram=${e.ramHash} ramPages=${e.ramPages}`,
      ].join(' ');
    case 'end': return `reason=${e.reason} exitCode=${e.exitCode}`;
  }
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** An event as JSON: byte arrays as base64, non-finite clock values as strings. */
export function eventJson(e: ReplayEvent): string {
  return JSON.stringify(e, (_key, value: unknown) => {
    if (value instanceof Uint8Array) return base64(value);
    if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
    return value;
  });
}

function headerLines(path: string, h: LogHeader, out: Out): void {
  const b = h.body;
  out.line(`replay log ${path}: format ${h.major}.${h.minor}, header ${h.length} bytes`);
  out.line(`recorded by replayvm ${b.replayvm} on ${b.created}`);
  out.line(`machine ${JSON.stringify(b.machine)}`);
  for (const im of b.images) out.line(`image ${im.role} ${JSON.stringify(im.path)} ${im.size} bytes sha256=${im.sha256}`);
}

function reportJson(r: LogReport): Record<string, unknown> {
  return {
    complete: r.complete, status: r.status, chunks: r.chunks, events: r.events, skipped: r.skipped,
    firstIcount: r.firstIcount ?? null, lastIcount: r.lastIcount ?? null, stoppedAtOffset: r.stoppedAtOffset,
    fileSize: r.fileSize, reason: r.reason ?? null, errorOffset: r.error?.offset ?? null,
  };
}

function statsLines(path: string, s: LogStats, header: LogHeader, out: Out): void {
  const r = s.report;
  const ratio = s.storedPayloadBytes > 0 ? (s.uncompressedPayloadBytes / s.storedPayloadBytes).toFixed(2) : '-';
  out.line(`replay log ${path}: format ${header.major}.${header.minor}`);
  out.line(`file            ${s.fileSize} bytes (header ${s.headerBytes}, chunk framing ${s.framingBytes}, payloads ${s.storedPayloadBytes})`);
  out.line(`chunks          ${s.chunks} (${s.compressedChunks} compressed)`);
  out.line(`payload         ${s.storedPayloadBytes} bytes stored, ${s.uncompressedPayloadBytes} uncompressed (ratio ${ratio})`);
  out.line(`events          ${s.events}${r.skipped > 0 ? ` (+${r.skipped} unknown optional events skipped)` : ''}`);
  out.line(`icount range    ${s.firstIcount === undefined ? '-' : `${s.firstIcount}..${s.lastIcount}`}`);
  out.line(`${'kind'.padEnd(16)}${'count'.padStart(10)}${'encoded bytes'.padStart(15)}${'payload bytes'.padStart(15)}`);
  for (const k of EVENT_KINDS) {
    const t = s.perKind[k];
    if (t === undefined) continue;
    out.line(`${k.padEnd(16)}${String(t.count).padStart(10)}${String(t.encodedBytes).padStart(15)}${String(t.payloadBytes).padStart(15)}`);
  }
  out.line(`complete        ${r.complete ? `yes (${r.end?.reason}, exit code ${r.end?.exitCode})` : `no: ${describeReport(r)}`}`);
}

function statsJson(s: LogStats, header: LogHeader): string {
  return JSON.stringify({
    format: `${header.major}.${header.minor}`, fileSize: s.fileSize, headerBytes: s.headerBytes, chunks: s.chunks,
    compressedChunks: s.compressedChunks, storedPayloadBytes: s.storedPayloadBytes,
    uncompressedPayloadBytes: s.uncompressedPayloadBytes, framingBytes: s.framingBytes, events: s.events,
    firstIcount: s.firstIcount ?? null, lastIcount: s.lastIcount ?? null, perKind: s.perKind, log: reportJson(s.report),
  });
}

/** Runs `replayvm dump ARGS`; returns the exit status. */
export async function dumpMain(args: readonly string[], io: DumpIo): Promise<number> {
  let json = false;
  let stats = false;
  const files: string[] = [];
  for (const a of args) {
    if (a === '--json') json = true;
    else if (a === '--stats') stats = true;
    else if (a === '-h' || a === '--help') {
      io.stdout(DUMP_USAGE);
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      io.stderr(`replayvm dump: unknown option '${a}'\n${DUMP_USAGE}`);
      return 2;
    } else files.push(a);
  }
  if (files.length !== 1) {
    io.stderr(`replayvm dump: ${files.length === 0 ? 'no log file given' : 'one log file at a time'}\n${DUMP_USAGE}`);
    return 2;
  }
  const path = files[0]!;
  let reader: LogReader;
  try {
    reader = openLogReader(path);
  } catch (e) {
    if (e instanceof LogFileError) {
      io.stderr(`replayvm dump: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ReplayLogError) {
      io.stderr(`replayvm dump: ${path}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const out = new Out(io.stdout);
  let report: LogReport;
  try {
    const h = reader.header;
    if (stats) {
      const acc = new StatsAccumulator();
      const it = reader.chunks();
      let n = it.next();
      for (; n.done !== true; n = it.next()) acc.add(n.value);
      report = n.value;
      const s = acc.finish(reader, report);
      if (json) out.line(statsJson(s, h));
      else statsLines(path, s, h, out);
    } else {
      if (json) out.line(JSON.stringify({ header: { format: `${h.major}.${h.minor}`, length: h.length, ...h.body } }));
      else {
        headerLines(path, h, out);
        out.line(`${'icount'.padStart(16)}  ${'kind'.padEnd(15)}  details`);
      }
      const it = reader.events();
      let n = it.next();
      for (; n.done !== true; n = it.next()) {
        const e = n.value;
        out.line(json ? eventJson(e) : `${String(e.icount).padStart(16)}  ${e.kind.padEnd(15)}  ${eventDetails(e)}`);
      }
      report = n.value;
      if (json) out.line(JSON.stringify({ log: reportJson(report) }));
      else out.line(describeReport(report));
    }
  } catch (e) {
    out.flush();
    if (e instanceof LogFileError) {
      io.stderr(`replayvm dump: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    reader.close();
  }
  out.flush();
  if (!report.complete) {
    io.stderr(`replayvm dump: ${path}: ${describeReport(report)}\n`);
    return exitStatusOfLog(report);
  }
  return 0;
}
