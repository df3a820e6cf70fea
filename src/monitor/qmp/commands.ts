/**
 * The QMP command table: each command declares its typed parameters (checked with QEMU's
 * error wording before it runs) and a handler over {@link VmControl}.
 */
import type { JsonObject, JsonValue } from '../json.js';
import type { HmpInterpreter } from '../hmp/interpreter.js';
import type { VmControl } from '../vm-control.js';

/** A QMP error reply: QEMU's error class and description. */
export class QmpCommandError extends Error {
  constructor(readonly errorClass: 'GenericError' | 'CommandNotFound', message: string) {
    super(message);
    this.name = 'QmpCommandError';
  }
}

/** Parameter types the table uses. */
type ParamType = 'str' | 'int' | 'capability-list';

interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  readonly optional: boolean;
}

/** Validated arguments: names mapped to string, number or string list. */
export type QmpArgs = ReadonlyMap<string, string | number | readonly string[]>;

/** What a handler may ask the session to do after its reply is written. */
export interface QmpOutcome {
  readonly value: JsonValue;
  /** Called once the reply was handed to the socket (used by `quit`). */
  readonly afterReply?: () => void;
}

/** Everything a handler sees. */
export interface QmpContext {
  readonly vm: VmControl;
  readonly hmp: HmpInterpreter;
}

interface CommandSpec {
  readonly name: string;
  readonly params: readonly ParamSpec[];
  readonly run: (args: QmpArgs, ctx: QmpContext) => Promise<QmpOutcome>;
}

const empty = (): JsonObject => ({});
const done = async (p: Promise<void>): Promise<QmpOutcome> => { await p; return { value: empty() }; };

/** QMP capabilities this server can enable (none: no out-of-band execution). */
export const SUPPORTED_CAPABILITIES: readonly string[] = [];
const KNOWN_CAPABILITIES: readonly string[] = ['oob'];

const COMMANDS: readonly CommandSpec[] = [
  { name: 'qmp_capabilities', params: [{ name: 'enable', type: 'capability-list', optional: true }],
    run: async (args) => {
      const enable = args.get('enable');
      if (Array.isArray(enable)) {
        for (const c of enable as readonly string[]) {
          if (!SUPPORTED_CAPABILITIES.includes(c)) throw new QmpCommandError('GenericError', `Capability '${c}' not available`);
        }
      }
      return { value: empty() };
    } },
  { name: 'query-status', params: [],
    run: async (_a, { vm }) => {
      const status = vm.runState();
      return { value: { status, singlestep: false, running: status === 'running' } };
    } },
  { name: 'stop', params: [], run: async (_a, { vm }) => done(vm.stop()) },
  { name: 'cont', params: [], run: async (_a, { vm }) => done(vm.cont()) },
  { name: 'system_reset', params: [], run: async (_a, { vm }) => done(vm.systemReset()) },
  { name: 'system_powerdown', params: [], run: async (_a, { vm }) => done(vm.systemPowerdown()) },
  { name: 'quit', params: [], run: async (_a, { vm }) => ({ value: empty(), afterReply: () => vm.quit() }) },
  { name: 'query-version', params: [],
    run: async (_a, { vm }) => {
      const v = vm.version;
      return { value: { qemu: { micro: v.micro, minor: v.minor, major: v.major }, package: v.package } };
    } },
  { name: 'query-commands', params: [],
    run: async () => ({ value: COMMANDS.map((c) => ({ name: c.name })) }) },
  { name: 'query-cpus-fast', params: [],
    run: async (_a, { vm }) => ({
      value: vm.cpus().map((c) => ({
        'thread-id': c.threadId,
        props: { 'core-id': c.cpuIndex },
        'qom-path': `/machine/soc0/harts[${c.cpuIndex}]`,
        'cpu-index': c.cpuIndex,
        target: 'riscv32',
      })),
    }) },
  { name: 'human-monitor-command',
    params: [{ name: 'command-line', type: 'str', optional: false }, { name: 'cpu-index', type: 'int', optional: true }],
    run: async (args, { vm, hmp }) => {
      const line = args.get('command-line') as string;
      const cpu = args.get('cpu-index') as number | undefined;
      if (cpu !== undefined && !vm.cpus().some((c) => c.cpuIndex === cpu)) {
        throw new QmpCommandError('GenericError', "Parameter 'cpu-index' expects a CPU number");
      }
      const r = await hmp.execute(line, cpu);
      const value = r.output.replace(/\r?\n/g, '\r\n');
      return r.quit ? { value, afterReply: () => vm.quit() } : { value };
    } },
];

/** Names of every command, in table order (what `query-commands` lists). */
export const QMP_COMMAND_NAMES: readonly string[] = COMMANDS.map((c) => c.name);

function checkArgs(spec: CommandSpec, args: JsonObject): QmpArgs {
  const out = new Map<string, string | number | readonly string[]>();
  for (const p of spec.params) {
    const v = Object.prototype.hasOwnProperty.call(args, p.name) ? args[p.name] : undefined;
    if (v === undefined) {
      if (!p.optional) throw new QmpCommandError('GenericError', `Parameter '${p.name}' is missing`);
      continue;
    }
    switch (p.type) {
      case 'str':
        if (typeof v !== 'string') throw new QmpCommandError('GenericError', `Invalid parameter type for '${p.name}', expected: string`);
        out.set(p.name, v);
        break;
      case 'int':
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
          throw new QmpCommandError('GenericError', `Invalid parameter type for '${p.name}', expected: integer`);
        }
        out.set(p.name, v);
        break;
      case 'capability-list': {
        if (!Array.isArray(v)) throw new QmpCommandError('GenericError', `Invalid parameter type for '${p.name}', expected: array`);
        const list: string[] = [];
        for (const item of v as readonly JsonValue[]) {
          if (typeof item !== 'string') throw new QmpCommandError('GenericError', `Invalid parameter type for '${p.name}', expected: string`);
          if (!KNOWN_CAPABILITIES.includes(item)) {
            throw new QmpCommandError('GenericError', `Parameter '${p.name}' does not accept value '${item}'`);
          }
          list.push(item);
        }
        out.set(p.name, list);
        break;
      }
    }
  }
  for (const key of Object.keys(args)) {
    if (!spec.params.some((p) => p.name === key)) throw new QmpCommandError('GenericError', `Parameter '${key}' is unexpected`);
  }
  return out;
}

/**
 * Looks up `name`, validates `args`, runs it. Throws {@link QmpCommandError} (CommandNotFound
 * or GenericError); errors thrown by the machine become GenericError with their message.
 */
export async function runQmpCommand(name: string, args: JsonObject, ctx: QmpContext): Promise<QmpOutcome> {
  const spec = COMMANDS.find((c) => c.name === name);
  if (!spec) throw new QmpCommandError('CommandNotFound', `The command ${name} has not been found`);
  const checked = checkArgs(spec, args);
  try {
    return await spec.run(checked, ctx);
  } catch (e) {
    if (e instanceof QmpCommandError) throw e;
    throw new QmpCommandError('GenericError', e instanceof Error ? e.message : String(e));
  }
}
