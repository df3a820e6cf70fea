/**
 * The human monitor (HMP) command interpreter over {@link VmControl}: one command line in,
 * output text out (lines end with "\n"; the transports turn them into "\r\n" like QEMU).
 * No I/O happens here. Command names, help lines and output layouts follow QEMU 7.2.
 */
import { REG_NAMES } from '../../cpu/disasm.js';
import type { RunState, VmControl } from '../vm-control.js';
import { evaluateExpression, HmpExprError } from './expr.js';
import { formatMemoryDump, formatRegisters, type DumpFormat } from './format.js';

/** A command line that could not be parsed; `command` names the command for the help hint. */
export class HmpError extends Error {
  constructor(message: string, readonly command: string) {
    super(message);
    this.name = 'HmpError';
  }
}

/** What one command line produced. */
export interface HmpResult {
  /** Text to show (may be empty); lines end with "\n". */
  readonly output: string;
  /** True after `quit`: the caller sends the output, then calls `vm.quit()`. */
  readonly quit: boolean;
}

interface CommandDef {
  readonly names: readonly string[];
  readonly params: string;
  readonly help: string;
  readonly run: (args: string, name: string, cpuIndex: number | undefined) => Promise<string>;
}

/** `info status` text for a run state (QEMU: "VM status: paused (prelaunch)"). */
export function formatStatus(state: RunState): string {
  if (state === 'running') return 'VM status: running\n';
  if (state === 'paused') return 'VM status: paused\n';
  return `VM status: paused (${state})\n`;
}

/** Interpreter state per monitor: QEMU remembers the last `x` format and size. */
export class HmpInterpreter {
  private lastFormat: DumpFormat['format'] = 'x';
  private lastSize: DumpFormat['size'] = 4;
  private readonly commands: readonly CommandDef[];
  private readonly infos: readonly CommandDef[];

  constructor(private readonly vm: VmControl) {
    const noArgs = (name: string, args: string): void => {
      if (args.trim() !== '') throw new HmpError(`${name}: extra parameters`, name);
    };
    this.commands = [
      { names: ['cont', 'c'], params: '', help: 'resume emulation',
        run: async (a, n) => { noArgs(n, a); await vm.cont(); return ''; } },
      { names: ['help', '?'], params: '[cmd]', help: 'show the help',
        run: async (a) => this.help(a.trim()) },
      { names: ['info'], params: '[subcommand]', help: 'show various information about the system state',
        run: async (a, _n, cpu) => this.info(a, cpu) },
      { names: ['quit', 'q'], params: '', help: 'quit the emulator',
        run: async (a, n) => { noArgs(n, a); return ''; } },
      { names: ['stop', 's'], params: '', help: 'stop emulation',
        run: async (a, n) => { noArgs(n, a); await vm.stop(); return ''; } },
      { names: ['system_powerdown'], params: '', help: 'send system power down event',
        run: async (a, n) => { noArgs(n, a); await vm.systemPowerdown(); return ''; } },
      { names: ['system_reset'], params: '', help: 'reset the system',
        run: async (a, n) => { noArgs(n, a); await vm.systemReset(); return ''; } },
      { names: ['x'], params: '/fmt addr', help: "virtual memory dump starting at 'addr'",
        run: async (a, n, cpu) => this.dump(a, n, false, cpu) },
      { names: ['xp'], params: '/fmt addr', help: "physical memory dump starting at 'addr'",
        run: async (a, n, cpu) => this.dump(a, n, true, cpu) },
    ];
    this.infos = [
      { names: ['cpus'], params: '', help: 'show infos for each CPU',
        run: async (_a, _n, cpu) => this.infoCpus(cpu) },
      { names: ['registers'], params: '[-a] [vcpu]',
        help: "show the cpu registers (-a: show register info for all cpus; vcpu: specific vCPU to query; show the current CPU's registers if omitted)",
        run: async (a, _n, cpu) => this.infoRegisters(a, cpu) },
      { names: ['status'], params: '', help: 'show the current VM status (running|paused)',
        run: async () => formatStatus(vm.runState()) },
      { names: ['version'], params: '', help: 'show the version of QEMU',
        run: async () => {
          const v = vm.version;
          return `${v.major}.${v.minor}.${v.micro}${v.package === '' ? '' : ` (${v.package})`}\n`;
        } },
    ];
  }

  /**
   * Runs one command line. `cpuIndex` overrides the current CPU (QMP's
   * `human-monitor-command` `cpu-index`). Errors of the machine become output text, like QEMU.
   */
  async execute(line: string, cpuIndex?: number): Promise<HmpResult> {
    const trimmed = line.trim();
    if (trimmed === '') return { output: '', quit: false };
    const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed)!;
    const name = m[1]!;
    const args = m[2]!;
    const cmd = this.commands.find((c) => c.names.includes(name));
    if (!cmd) return { output: `unknown command: '${name}'\n`, quit: false };
    try {
      const output = await cmd.run(args, name, cpuIndex);
      return { output, quit: cmd.names[0] === 'quit' };
    } catch (e) {
      if (e instanceof HmpError || e instanceof HmpExprError) {
        const which = e instanceof HmpError ? e.command : name;
        return { output: `${e.message}\nTry "help ${which}" for more information\n`, quit: false };
      }
      return { output: `Error: ${e instanceof Error ? e.message : String(e)}\n`, quit: false };
    }
  }

  private line(c: CommandDef, prefix: string): string {
    return `${prefix}${c.names.join('|')} ${c.params} -- ${c.help}\n`;
  }

  private help(topic: string): string {
    if (topic === '') return this.commands.map((c) => this.line(c, '')).join('');
    const words = topic.split(/\s+/);
    const cmd = this.commands.find((c) => c.names.includes(words[0]!));
    if (!cmd) return `unknown command: '${words[0]}'\n`;
    if (cmd.names[0] === 'info') {
      if (words.length === 1) return this.infos.map((c) => this.line(c, 'info ')).join('');
      const sub = this.infos.find((c) => c.names.includes(words[1]!));
      return sub ? this.line(sub, 'info ') : `unknown command: 'info ${words[1]}'\n`;
    }
    return this.line(cmd, '');
  }

  private async info(args: string, cpuIndex: number | undefined): Promise<string> {
    const m = /^(\S*)\s*([\s\S]*)$/.exec(args.trim())!;
    const sub = m[1]!;
    if (sub === '') return this.infos.map((c) => this.line(c, 'info ')).join('');
    const def = this.infos.find((c) => c.names.includes(sub));
    if (!def) return `unknown command: 'info ${sub}'\n`;
    if (def.params === '' && m[2]!.trim() !== '') throw new HmpError(`info ${sub}: extra parameters`, 'info');
    return def.run(m[2]!, sub, cpuIndex);
  }

  private currentCpu(cpuIndex: number | undefined): number {
    if (cpuIndex !== undefined) return cpuIndex;
    const cpus = this.vm.cpus();
    return cpus.length > 0 ? cpus[0]!.cpuIndex : 0;
  }

  private infoCpus(cpuIndex: number | undefined): string {
    const cur = this.currentCpu(cpuIndex);
    return this.vm.cpus().map((c) => `${c.cpuIndex === cur ? '*' : ' '} CPU #${c.cpuIndex}: thread_id=${c.threadId}\n`).join('');
  }

  private infoRegisters(args: string, cpuIndex: number | undefined): string {
    const words = args.trim() === '' ? [] : args.trim().split(/\s+/);
    let all = false;
    let vcpu: number | undefined;
    for (const w of words) {
      if (w === '-a') all = true;
      else if (vcpu === undefined && /^\d+$/.test(w)) vcpu = Number(w);
      else throw new HmpError(`info registers: invalid argument '${w}'`, 'info');
    }
    const cpus = this.vm.cpus();
    if (all) return cpus.map((c) => formatRegisters(c.cpuIndex, this.vm.registers(c.cpuIndex))).join('');
    const idx = vcpu ?? this.currentCpu(cpuIndex);
    if (!cpus.some((c) => c.cpuIndex === idx)) return `CPU#${idx} not available\n`;
    return formatRegisters(idx, this.vm.registers(idx));
  }

  /** Parses `/fmt` like QEMU (remembering the last format and size), then the address. */
  private parseFormat(args: string, name: string): { fmt: DumpFormat; rest: string } {
    let p = args.trimStart();
    if (!p.startsWith('/')) {
      const size = this.lastFormat === 'i' ? 4 : this.lastSize;
      return { fmt: { count: 1, format: this.lastFormat, size }, rest: p };
    }
    p = p.slice(1);
    let count = 1;
    const num = /^(0[xX][0-9a-fA-F]+|[0-9]+)/.exec(p);
    if (num) {
      count = Number(num[1]!.startsWith('0') && num[1]!.length > 1 && !/^0[xX]/.test(num[1]!) ? parseInt(num[1]!, 8) : num[1]!);
      p = p.slice(num[0].length);
    }
    let format: DumpFormat['format'] | undefined;
    let size: DumpFormat['size'] | undefined;
    let i = 0;
    for (; i < p.length; i++) {
      const c = p[i]!;
      if ('oduxic'.includes(c)) format = c as DumpFormat['format'];
      else if (c === 'b') size = 1;
      else if (c === 'h') size = 2;
      else if (c === 'w') size = 4;
      else if (c === 'g' || c === 'L') size = 8;
      else break;
    }
    const next = p[i];
    if (next !== undefined && !/\s/.test(next)) throw new HmpError(`invalid char in format: '${next}'`, name);
    const f = format ?? this.lastFormat;
    let s: DumpFormat['size'] = size ?? 4;
    if (f !== 'i') {
      s = size ?? this.lastSize;
      this.lastSize = s;
    }
    this.lastFormat = f;
    return { fmt: { count, format: f, size: s }, rest: p.slice(i) };
  }

  private dump(args: string, name: string, physical: boolean, cpuIndex: number | undefined): string {
    const { fmt, rest } = this.parseFormat(args, name);
    const cpu = this.currentCpu(cpuIndex);
    const { value, rest: tail } = evaluateExpression(rest, (reg) => this.register(cpu, reg));
    if (tail.trim() !== '') throw new HmpError(`${name}: extra parameters`, name);
    let address: number;
    if (physical) {
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new HmpError(`address 0x${value.toString(16)} is out of range`, name);
      address = Number(value);
    } else {
      address = Number(value & 0xffffffffn);
    }
    return formatMemoryDump(address, fmt, physical, (a, len) => this.vm.readMemory(a, len, physical));
  }

  private register(cpu: number, name: string): number | undefined {
    const regs = this.vm.registers(cpu);
    if (name === 'pc') return regs.pc;
    const xm = /^x(\d+)$/.exec(name);
    if (xm && Number(xm[1]) < 32) return regs.x[Number(xm[1])];
    const abi = name === 'fp' ? 8 : REG_NAMES.indexOf(name);
    if (abi >= 0) return regs.x[abi];
    const csr = regs.csrs.find(([n]) => n === name);
    return csr?.[1];
  }
}
