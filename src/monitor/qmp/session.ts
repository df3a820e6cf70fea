/**
 * One QMP connection as a state machine: greeting, capabilities negotiation, then command
 * mode. Bytes in (any packet boundaries), JSON texts out through a {@link QmpTransport}.
 * Requests run one at a time in arrival order; events are only sent in command mode.
 * Wire shapes copy QEMU 7.2 (`{"return": {}, "id": 1}`, lines end with "\r\n").
 */
import {
  formatJson, isJsonObject, JsonParseError, JsonStreamSplitter, parseJson,
  type JsonObject, type JsonValue,
} from '../json.js';
import { HmpInterpreter } from '../hmp/interpreter.js';
import type { VmControl, VmEvent } from '../vm-control.js';
import { QmpCommandError, runQmpCommand, SUPPORTED_CAPABILITIES } from './commands.js';

/** Host time of an event, as QEMU puts it on the wire. */
export interface QmpTimestamp {
  readonly seconds: number;
  readonly microseconds: number;
}

/** Where a session writes; `close` ends the connection (after pending writes). */
export interface QmpTransport {
  write(text: string): void;
  close(): void;
}

/** Session settings. */
export interface QmpSessionOptions {
  readonly vm: VmControl;
  /** Host clock for event timestamps (injected: the protocol logic never reads the time itself). */
  readonly clock: () => QmpTimestamp;
  /** Largest accepted JSON text in bytes (default 1 MiB); larger input gets an error, then the connection is dropped. */
  readonly maxMessageBytes?: number | undefined;
}

/** The greeting QEMU sends when a client connects. */
export function qmpGreeting(vm: VmControl): JsonObject {
  const v = vm.version;
  return {
    QMP: {
      version: { qemu: { micro: v.micro, minor: v.minor, major: v.major }, package: v.package },
      capabilities: [...SUPPORTED_CAPABILITIES],
    },
  };
}

/** An event message: `{"timestamp": {...}, "event": "STOP", "data": {...}}`. */
export function qmpEventMessage(event: VmEvent, at: QmpTimestamp): JsonObject {
  const base = { timestamp: { seconds: at.seconds, microseconds: at.microseconds }, event: event.event };
  return 'data' in event ? { ...base, data: { ...event.data } } : base;
}

function errorReply(errorClass: string, desc: string, id: JsonValue | undefined): JsonObject {
  const error = { class: errorClass, desc };
  return id === undefined ? { error } : { id, error };
}

/** A parsed request (the shape checks of QEMU's `qmp_dispatch_check_obj`). */
interface Request {
  readonly execute: string;
  readonly args: JsonObject;
  readonly id: JsonValue | undefined;
}

function checkRequest(v: JsonValue): Request {
  if (!isJsonObject(v)) throw new QmpCommandError('GenericError', 'QMP input must be a JSON object');
  let execute: string | undefined;
  let args: JsonObject = {};
  for (const key of Object.keys(v)) {
    const m = v[key]!;
    if (key === 'execute') {
      if (typeof m !== 'string') throw new QmpCommandError('GenericError', "QMP input member 'execute' must be a string");
      execute = m;
    } else if (key === 'arguments') {
      if (!isJsonObject(m)) throw new QmpCommandError('GenericError', "QMP input member 'arguments' must be an object");
      args = m;
    } else if (key !== 'id') {
      throw new QmpCommandError('GenericError', `QMP input member '${key}' is unexpected`);
    }
  }
  if (execute === undefined) throw new QmpCommandError('GenericError', "QMP input lacks member 'execute'");
  return { execute, args, id: v['id'] };
}

/** One client's QMP conversation. */
export class QmpSession {
  private negotiated = false;
  private open = true;
  private queue: Promise<void> = Promise.resolve();
  private readonly splitter: JsonStreamSplitter;
  private readonly hmp: HmpInterpreter;

  constructor(private readonly transport: QmpTransport, private readonly options: QmpSessionOptions) {
    this.splitter = new JsonStreamSplitter({ maxMessageBytes: options.maxMessageBytes });
    this.hmp = new HmpInterpreter(options.vm);
  }

  /** True once `qmp_capabilities` succeeded (events are delivered from then on). */
  get commandMode(): boolean {
    return this.negotiated;
  }

  /** Sends the greeting. */
  start(): void {
    this.send(qmpGreeting(this.options.vm));
  }

  /** Feeds bytes from the client. */
  receive(chunk: Uint8Array): void {
    if (!this.open) return;
    for (const item of this.splitter.push(chunk)) {
      if (item.kind === 'oversized') {
        this.enqueue(async () => {
          this.send(errorReply('GenericError', `JSON parse error, message exceeds the limit of ${item.limit} bytes`, undefined));
          this.open = false;
          this.transport.close();
        });
        return;
      }
      if (item.kind === 'invalid-utf8') {
        this.enqueue(async () => this.send(errorReply('GenericError', 'JSON parse error, invalid UTF-8 sequence in string', undefined)));
        continue;
      }
      const text = item.text;
      this.enqueue(() => this.handle(text));
    }
  }

  /** Delivers an event (ignored before negotiation or after close). */
  deliverEvent(event: VmEvent): void {
    if (this.open && this.negotiated) this.send(qmpEventMessage(event, this.options.clock()));
  }

  /** The connection is gone: stop writing; requests still queued are dropped. */
  detach(): void {
    this.open = false;
  }

  /** Resolves when every queued request has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(() => (this.open ? job() : undefined)).catch(() => undefined);
  }

  private send(msg: JsonObject): void {
    if (this.open) this.transport.write(`${formatJson(msg)}\r\n`);
  }

  private async handle(text: string): Promise<void> {
    let value: JsonValue;
    try {
      value = parseJson(text);
    } catch (e) {
      const why = e instanceof JsonParseError ? e.message : String(e);
      this.send(errorReply('GenericError', `JSON parse error, ${why}`, undefined));
      return;
    }
    const id = isJsonObject(value) ? value['id'] : undefined;
    let req: Request;
    try {
      req = checkRequest(value);
    } catch (e) {
      if (e instanceof QmpCommandError) this.send(errorReply(e.errorClass, e.message, id));
      return;
    }
    if (!this.negotiated && req.execute !== 'qmp_capabilities') {
      this.send(errorReply('CommandNotFound', "Expecting capabilities negotiation with 'qmp_capabilities'", req.id));
      return;
    }
    if (this.negotiated && req.execute === 'qmp_capabilities') {
      this.send(errorReply('CommandNotFound', 'Capabilities negotiation is already complete, command ignored', req.id));
      return;
    }
    try {
      const outcome = await runQmpCommand(req.execute, req.args, { vm: this.options.vm, hmp: this.hmp });
      if (req.execute === 'qmp_capabilities') this.negotiated = true;
      this.send(req.id === undefined ? { return: outcome.value } : { return: outcome.value, id: req.id });
      outcome.afterReply?.();
    } catch (e) {
      const err = e instanceof QmpCommandError ? e : new QmpCommandError('GenericError', e instanceof Error ? e.message : String(e));
      this.send(errorReply(err.errorClass, err.message, req.id));
    }
  }
}
