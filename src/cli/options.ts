/**
 * The command line of replayvm: the subset of qemu-system-riscv32's syntax we implement,
 * parsed into a typed value. Parsing is pure (no file access); src/cli/app.ts acts on it.
 * Every option we do not implement is an error, never silently ignored.
 */
import type { TraceFlags } from '../board/machine-api.js';
import type { RtcConfig } from '../main-loop/rtc-clock.js';
import { parseRtcOption } from './rtc-options.js';
import { parseIcountOption } from './icount-options.js';
import type { BiosSpec, RrOption, RunConfig, SerialSpec, StdioMonitor } from '../host/node/runner/index.js';
import { deviceHelpText, parseDeviceOption, resolveDevices, type DeviceSpec } from './device-options.js';
import { parseDriveOption, type DriveOption } from './drive-options.js';
import { parseNetdevOption, type NetdevSpec } from './netdev-options.js';
import { parseObjectOption, type ObjectSpec } from './object-options.js';
import { MAX_ICOUNT_SHIFT, type IcountConfig } from '../main-loop/icount.js';
import type { ChardevSocket, MonitorAddress, MonitorPlan, MonOption } from '../monitor/address.js';
import { CliError, parseKeyValues, splitOptionItems } from './option-syntax.js';
import { EXIT_STATUSES } from './exit-status.js';
import { MonitorServerError, onOff, parseChardevSocket, parseMonitorSocket, parseMonOption, resolveMonitors, serverFlags } from '../monitor/address.js';

export { CliError } from './option-syntax.js';

/** The program name used in messages. */
export const PROGRAM = 'replayvm';
/** Our version, printed by `-version`. */
export const VERSION = '0.1.0';

/** The options of a run are the runner's configuration (src/host/node/runner), built here. */
export type RunOptions = RunConfig;
export type { BiosSpec, RrOption, SerialSpec, StdioMonitor };

/** What the command line asks for. */
export type CommandLine =
  /** Print `text` on stdout and exit 0 (`-h`, `-version`, `-M help`, `-cpu help`, `-d help`). */
  | { readonly kind: 'print'; readonly text: string }
  | { readonly kind: 'run'; readonly options: RunOptions };

/** Default RAM size: 128 MiB, as QEMU's virt board. */
export const DEFAULT_RAM_SIZE = 128 * 1024 * 1024;
/** Largest RAM: 2 GiB fits between 0x80000000 and the end of the 32-bit address space. */
export const MAX_RAM_SIZE = 2 * 1024 * 1024 * 1024;
/** Most harts `-smp` accepts. */
export const MAX_SMP = 8;

/** The `-d` items we implement, with QEMU's descriptions. */
const LOG_ITEMS: ReadonlyArray<readonly [string, keyof TraceFlags, string]> = [
  ['in_asm', 'inAsm', 'show target assembly code for each executed instruction'],
  ['int', 'int', 'show interrupts/exceptions in short format'],
  ['unimp', 'unimp', 'log unimplemented functionality'],
  ['guest_errors', 'guestErrors', 'log when the guest OS does something invalid (eg accessing a\nnon-existent register)'],
];

/** Columns of the help text, as QEMU's: descriptions start at column 16; no line is wider than 80. */
const HELP_WIDTH = 80;
const HELP_INDENT = 16;

/**
 * One option in `-h`: its forms (one line each, e.g. `-serial stdio|null`) and what it does.
 */
interface OptionHelp {
  readonly forms: readonly string[];
  readonly help: string;
}

/** Every option we implement, for `-h`, in the groups (and order) of QEMU's help. */
const OPTION_GROUPS: ReadonlyArray<readonly [string, readonly OptionHelp[]]> = [
  ['Standard options', [
    { forms: ['-h or -help'], help: 'display this help and exit' },
    { forms: ['-version'], help: 'display version information and exit' },
    { forms: ['-machine [type=]virt[,dumpdtb=FILE]'], help: 'select the board (only virt; also -M); dumpdtb writes the device tree to FILE and exits' },
    { forms: ['-cpu rv32'], help: 'select the CPU model (only rv32: RV32IMAC)' },
    { forms: ['-smp [cpus=]N'], help: `number of harts, 1..${MAX_SMP} (default 1)` },
    { forms: ['-m [size=]SIZE'], help: 'RAM size: MiB, or with suffix K, M or G (default 128M, at most 2G)' },
    { forms: ['-device virtio-blk-device,drive=ID', '-device virtio-net-device,netdev=ID', '-device virtio-rng-device[,rng=ID]'],
      help: 'add a virtio-mmio device (-device help lists them)' },
    { forms: ['-name NAME'], help: 'name the guest' },
  ]],
  ['Block device options', [
    { forms: ['-drive file=PATH[,format=raw|qcow2][,if=none|virtio][,id=ID]', '       [,readonly=on][,snapshot=on][,cache=MODE]'],
      help: 'a disk image (raw or qcow2, probed without format=), locked against other writers as QEMU locks it' },
    { forms: ['-snapshot'], help: 'write disk changes to temporary overlays; images are never modified' },
  ]],
  ['Display options', [
    { forms: ['-display none'], help: 'no display (the only display type)' },
    { forms: ['-nographic'], help: 'no graphical output; the serial port and monitor go to stdio (the default here)' },
  ]],
  ['Network options', [
    { forms: ['-netdev user,id=ID[,hostfwd=tcp::HOSTPORT-:GUESTPORT]'], help: 'the built-in user network (DHCP, DNS, outbound TCP/UDP)' },
    { forms: ['-netdev socket,id=ID,listen=[HOST]:PORT|connect=HOST:PORT'], help: 'a network over a TCP socket' },
  ]],
  ['Character device options', [
    { forms: ['-chardev socket,id=ID,path=PATH,server=on[,wait=off]', '-chardev socket,id=ID[,host=HOST],port=PORT,server=on[,wait=off]'],
      help: 'a socket for -mon or -serial chardev:ID' },
  ]],
  ['Boot Image or Kernel specific', [
    { forms: ['-bios none|default|FILE'], help: 'firmware: default is the built-in SBI; none runs -kernel directly in M-mode' },
    { forms: ['-kernel FILE'], help: 'kernel image (ELF or raw binary, may be gzipped)' },
    { forms: ['-append STRING'], help: 'kernel command line' },
    { forms: ['-initrd FILE'], help: 'initial RAM disk' },
    { forms: ['-dtb FILE'], help: 'use FILE as the device tree blob instead of the generated one' },
  ]],
  ['Debug/Expert options', [
    { forms: ['-serial stdio|mon:stdio|file:PATH|null|chardev:ID', '-serial tcp:[HOST]:PORT,server=on[,wait=off]', '-serial unix:PATH,server=on[,wait=off]'],
      help: 'connect the UART (default mon:stdio; Ctrl-A h lists the keys); a socket serves one client at a time and with wait=on (the default) the machine starts once one connects' },
    { forms: ['-monitor stdio|none', '-monitor unix:PATH,server=on[,wait=off]', '-monitor tcp:HOST:PORT,server=on[,wait=off]'],
      help: 'the human monitor (default: Ctrl-A c on the console); on a socket with wait=on (the default) the machine starts once a client connects' },
    { forms: ['-qmp unix:PATH,server=on[,wait=off]', '-qmp tcp:HOST:PORT,server=on[,wait=off]'],
      help: 'a QMP (JSON) monitor socket; repeatable; with wait=on (the default) the machine starts once a client connects' },
    { forms: ['-mon chardev=ID[,mode=control|readline]'], help: 'a monitor on a -chardev (QMP with mode=control)' },
    { forms: ['-S'], help: 'do not start the CPUs until the monitor says cont' },
    { forms: ['-d ITEM1[,...]'], help: `enable logging of items: ${LOG_ITEMS.map((i) => i[0]).join(', ')} (-d help lists them)` },
    { forms: ['-D FILE'], help: 'write -d logs to FILE instead of stderr' },
    { forms: ['-no-reboot'], help: 'exit instead of rebooting when the guest resets' },
    { forms: ['-rtc [base=utc|localtime|DATE][,clock=host|rt|vm]'], help: 'RTC start time and clock; DATE as 2006-06-17T16:01:21 (UTC)' },
    { forms: ['-icount [shift=]N|auto[,align=on|off][,sleep=on|off]', '       [,rr=record|replay,rrfile=FILE[,rrsnapshot=NAME]]'],
      help: `virtual time is 2^N ns per instruction, N in 0..${MAX_ICOUNT_SHIFT}; sleep=off jumps idle time (deterministic); rr=record writes every input to FILE, rr=replay replays FILE to the instruction (rrsnapshot is not supported yet)` },
  ]],
  ['Generic object creation', [
    { forms: ['-object rng-random,id=ID,filename=FILE', '-object rng-builtin,id=ID'], help: 'an entropy source for virtio-rng-device' },
  ]],
];

/** Words of `text` on lines of at most `width - indent` columns, each line indented. */
export function wrapText(text: string, indent: number, width = HELP_WIDTH): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(pad + line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(pad + line);
  return lines;
}

/** The help lines of one option: its forms, then its description (beside a short last form, as QEMU's). */
function optionHelpLines(o: OptionHelp): string[] {
  const forms = [...o.forms];
  const last = forms.pop() ?? '';
  const [first, ...rest] = wrapText(o.help, HELP_INDENT);
  if (first === undefined) return [...forms, last];
  if (last.length < HELP_INDENT) return [...forms, last.padEnd(HELP_INDENT) + first.slice(HELP_INDENT), ...rest];
  return [...forms, last, first, ...rest];
}

/** The text printed by `-version`. */
export function versionText(): string {
  return `${PROGRAM} version ${VERSION} (QEMU-compatible command line for qemu-system-riscv32)\n` +
    'A RISC-V RV32IMAC virtual machine with deterministic record and replay\n';
}

/** The commands, for the top of `-h` and the subcommands' errors. */
export const COMMANDS_USAGE = [
  `usage: ${PROGRAM} [options]                        run a machine (QEMU's options)`,
  `       ${PROGRAM} record [-o LOG] [--] [options]   run it, recording to LOG`,
  `       ${PROGRAM} replay [--image OLD=NEW]... LOG  replay LOG to the instruction`,
  `       ${PROGRAM} dump [--json] [--stats] LOG      print a replay log`,
  `       ${PROGRAM} img info|create|check|snapshot   disk images (qemu-img's syntax)`,
];

/** The text printed by `-h`: the commands, then the options in QEMU's groups, then exit statuses. */
export function helpText(): string {
  const lines = [...COMMANDS_USAGE, '', `${PROGRAM} record -h, replay -h, dump -h and img -h describe each command.`,
    'Options may also be written with two dashes (--kernel).'];
  for (const [group, options] of OPTION_GROUPS) {
    lines.push('', `${group}:`);
    for (const o of options) lines.push(...optionHelpLines(o));
  }
  lines.push('', 'With mon:stdio (the default), press Ctrl-A h for the console escape keys.', '', 'Exit status:');
  for (const [status, meaning] of EXIT_STATUSES) lines.push(...wrapText(meaning, 4).map((l, i) => (i === 0 ? `  ${status}${l.slice(3)}` : l)));
  return lines.join('\n') + '\n';
}

function logHelpText(): string {
  const lines = ['Log items (comma separated):'];
  for (const [name, , help] of LOG_ITEMS) lines.push(`${name.padEnd(16)}${help}`);
  return lines.join('\n') + '\n';
}

const SIZE_SUFFIX: Readonly<Record<string, number>> = {
  B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4,
};

/**
 * Parses a QEMU size: a non-negative decimal number (fractions allowed with a suffix), with an
 * optional suffix B, K, M, G or T (either case); a plain number counts `defaultUnit` bytes.
 * Returns undefined when the text is not a size.
 */
export function parseSize(text: string, defaultUnit: number): number | undefined {
  const m = /^([0-9]+(?:\.[0-9]+)?)([bBkKmMgGtT])?$/.exec(text);
  if (m === null) return undefined;
  const unit = m[2] === undefined ? defaultUnit : SIZE_SUFFIX[m[2].toUpperCase()] ?? defaultUnit;
  const value = Number(m[1]) * unit;
  if (!Number.isFinite(value)) return undefined;
  return Math.floor(value);
}

function parseInteger(text: string): number | undefined {
  return /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined;
}

function parseMemory(text: string, option: string): number {
  let sizeText: string | undefined;
  for (const { key, value } of parseKeyValues(text, 'size', option)) {
    if (key === 'size') sizeText = value;
    else if (key === 'slots' || key === 'maxmem') throw new CliError(`${option} ${text}: '${key}' (memory hotplug) is not supported`);
    else throw new CliError(`${option} ${text}: invalid parameter '${key}'`);
  }
  if (sizeText === undefined) throw new CliError(`${option} ${text}: missing 'size'`);
  const size = parseSize(sizeText, 1024 * 1024);
  if (size === undefined) {
    throw new CliError(`${option} ${text}: Parameter 'size' expects a non-negative number with an optional suffix K, M or G`);
  }
  if (size === 0) throw new CliError(`${option} ${text}: RAM size must not be zero`);
  if (size > MAX_RAM_SIZE) throw new CliError(`${option} ${text}: RAM size too large (at most 2G on riscv32 virt)`);
  // QEMU rounds the RAM size up to 8 KiB.
  return Math.ceil(size / 8192) * 8192;
}

function parseSmp(text: string, option: string): number {
  let cpus: number | undefined;
  for (const { key, value } of parseKeyValues(text, 'cpus', option)) {
    if (key === 'cpus') {
      cpus = parseInteger(value);
      if (cpus === undefined) throw new CliError(`${option} ${text}: Parameter 'cpus' expects a number`);
    } else if (['maxcpus', 'sockets', 'dies', 'clusters', 'cores', 'threads'].includes(key)) {
      throw new CliError(`${option} ${text}: '${key}' is not supported (only the number of harts)`);
    } else {
      throw new CliError(`${option} ${text}: invalid parameter '${key}'`);
    }
  }
  if (cpus === undefined) throw new CliError(`${option} ${text}: missing number of harts`);
  if (cpus < 1 || cpus > MAX_SMP) throw new CliError(`${option} ${text}: number of harts must be 1..${MAX_SMP}`);
  return cpus;
}

const SERIAL_DRIVERS = 'stdio, mon:stdio, file:PATH, null, tcp:HOST:PORT,server=on, unix:PATH,server=on, chardev:ID';

/** `-serial`; `chardev:ID` is returned as the id, resolved once every -chardev is known. */
function parseSerial(text: string, option: string): SerialSpec | { readonly kind: 'chardev'; readonly id: string } {
  const where = `${option} ${text}`;
  if (text === 'stdio') return { kind: 'stdio' };
  if (text === 'mon:stdio') return { kind: 'mon-stdio' };
  if (text === 'null') return { kind: 'null' };
  if (text.startsWith('file:')) {
    const path = text.slice('file:'.length);
    if (path === '') throw new CliError(`${where}: missing file name`);
    return { kind: 'file', path };
  }
  if (text.startsWith('chardev:')) {
    const id = text.slice('chardev:'.length);
    if (id === '') throw new CliError(`${where}: missing chardev id`);
    return { kind: 'chardev', id };
  }
  if (text.startsWith('tcp:') || text.startsWith('unix:')) {
    const [head, ...rest] = splitOptionItems(text);
    const { server, wait } = parseSocketFlags(rest, where, []);
    let address: MonitorAddress;
    if (head!.startsWith('unix:')) {
      const path = head!.slice('unix:'.length);
      if (path === '') throw new CliError(`${where}: missing socket path (unix:PATH)`);
      address = { kind: 'unix', path };
    } else {
      const hp = head!.slice('tcp:'.length);
      const colon = hp.lastIndexOf(':');
      if (colon < 0) throw new CliError(`${where}: missing port (tcp:HOST:PORT)`);
      address = tcpAddress(hp.slice(0, colon), hp.slice(colon + 1), where);
    }
    if (!server) throw new CliError(`${where}: connecting to a server (server=off, QEMU's default here) is not supported yet: add server=on,wait=off`);
    return { kind: 'socket', address, wait, option: where };
  }
  throw new CliError(`${where}: '${text}' is not a supported char driver (${SERIAL_DRIVERS})`);
}

/** Runs a monitor-module parser, its errors as CliErrors (the message already names `where`). */
function asCliError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof MonitorServerError) throw new CliError(e.message);
    throw e;
  }
}

/** QEMU's boolean values (a bare flag is on). */
function onOffValue(value: string | undefined, key: string, where: string): boolean {
  return asCliError(() => onOff(value, key, where));
}

/**
 * The socket flags of `-serial tcp:/unix:` and `-chardev socket`: `server` (default off, as in
 * QEMU), `wait` (default on; `nowait` is QEMU's old spelling of wait=off), `nodelay` (always on
 * here), `ipv4`/`ipv6` (accepted), `telnet=off`. Keys in `extraKeys` are returned; any other
 * option is refused.
 */
function parseSocketFlags(items: readonly string[], where: string, extraKeys: readonly string[]): { server: boolean; wait: boolean; extra: Map<string, string> } {
  const { server, wait, rest } = asCliError(() => serverFlags(items, where));
  const extra = new Map<string, string>();
  for (const { key, value, item } of rest) {
    if (key === 'nodelay' || key === 'ipv4' || key === 'ipv6') onOffValue(value, key, where);
    else if (key === 'telnet' || key === 'tn3270' || key === 'websocket') {
      if (onOffValue(value, key, where)) throw new CliError(`${where}: ${key}=on is not supported`);
    } else if (key === 'reconnect' || key === 'reconnect-ms') {
      throw new CliError(`${where}: '${key}' is for connecting to a server, which is not supported yet`);
    } else if (key === 'mux') {
      if (onOffValue(value, key, where)) throw new CliError(`${where}: mux=on is not supported`);
    } else if (extraKeys.includes(key) && value !== undefined) {
      if (extra.has(key)) throw new CliError(`${where}: '${key}' given twice`);
      extra.set(key, value);
    } else {
      throw new CliError(`${where}: invalid parameter '${item}'`);
    }
  }
  return { server, wait, extra };
}

/**
 * A TCP listening address. An empty host listens on 127.0.0.1 only (QEMU listens on every
 * interface; name 0.0.0.0 for that).
 */
function tcpAddress(hostText: string, portText: string, where: string): MonitorAddress {
  const host = hostText === '' ? '127.0.0.1' : hostText.replace(/^\[(.*)\]$/, '$1');
  if (portText === '') throw new CliError(`${where}: missing port`);
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new CliError(`${where}: port '${portText}' is not a number from 0 to 65535`);
  }
  return { kind: 'tcp', host, port: Number(portText) };
}

/** A `-chardev socket` definition, checked for syntax; what it serves decides what else it needs. */
interface ChardevDef {
  readonly id: string;
  /** The argument as given. */
  readonly text: string;
  /** `-chardev TEXT`, for messages. */
  readonly where: string;
  readonly address: MonitorAddress;
  readonly server: boolean;
  readonly wait: boolean;
}

/** Parses `socket,id=ID,path=PATH|host=HOST,port=PORT[,server=on][,wait=off]`. */
function parseChardevDef(text: string, where: string): ChardevDef {
  const [backend, ...rest] = splitOptionItems(text);
  if (backend !== 'socket') {
    throw new CliError(`${where}: chardev backend '${backend ?? ''}' is not supported (only socket, for -mon and -serial chardev:ID)`);
  }
  const { server, wait, extra } = parseSocketFlags(rest, where, ['id', 'path', 'host', 'port']);
  const id = extra.get('id');
  if (id === undefined || id === '') throw new CliError(`${where}: missing id=`);
  const path = extra.get('path');
  const host = extra.get('host');
  const port = extra.get('port');
  let address: MonitorAddress;
  if (path !== undefined) {
    if (host !== undefined || port !== undefined) throw new CliError(`${where}: give either path= or host=/port=, not both`);
    if (path === '') throw new CliError(`${where}: the unix socket path is empty`);
    address = { kind: 'unix', path };
  } else {
    if (port === undefined) throw new CliError(`${where}: missing port= (or path= for a unix socket)`);
    address = tcpAddress(host ?? '', port, where);
  }
  return { id, text, where, address, server, wait };
}

function parseTrace(text: string, option: string, flags: Record<keyof TraceFlags, boolean>): boolean {
  for (const item of text.split(',')) {
    if (item === 'help') return true;
    const found = LOG_ITEMS.find((i) => i[0] === item);
    if (found === undefined) {
      throw new CliError(`${option} ${text}: unknown log item '${item}' (supported: ${LOG_ITEMS.map((i) => i[0]).join(', ')})`);
    }
    flags[found[1]] = true;
  }
  return false;
}


/** Options that take an argument (canonical names). */
const WITH_ARG = new Set(['machine', 'm', 'smp', 'cpu', 'bios', 'kernel', 'initrd', 'append', 'dtb', 'serial',
  'display', 'name', 'd', 'D', 'icount', 'rtc', 'monitor', 'qmp', 'chardev', 'mon', 'drive', 'device', 'netdev', 'object']);
/** Options without an argument. */
const WITHOUT_ARG = new Set(['nographic', 'no-reboot', 'version', 'h', 'S', 'snapshot']);
const ALIASES: Readonly<Record<string, string>> = { M: 'machine', help: 'h' };

/**
 * Parses the arguments after the program name. Options are processed in order, as QEMU does:
 * `-h` and `-version` take effect where they appear. Throws a `CliError` naming the option.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let dumpDtb: string | undefined;
  let ramSize = DEFAULT_RAM_SIZE;
  let smp = 1;
  let bios: BiosSpec = { kind: 'default' };
  let kernel: string | undefined;
  let initrd: string | undefined;
  let append: string | undefined;
  let dtb: string | undefined;
  let nographic = false;
  let displayNone = false;
  let serial: SerialSpec | undefined;
  /** `-serial chardev:ID`, resolved after the loop. */
  let serialChardev: { readonly id: string; readonly where: string } | undefined;
  let noReboot = false;
  let name: string | undefined;
  const trace: Record<keyof TraceFlags, boolean> = { int: false, guestErrors: false, unimp: false, inAsm: false };
  let logFile: string | undefined;
  let icount: IcountConfig | undefined;
  let rtc: RtcConfig | undefined;
  let rtcClockGiven = false;
  let startPaused = false;
  const drives: DriveOption[] = [];
  const devices: DeviceSpec[] = [];
  const netdevs: NetdevSpec[] = [];
  const objects: ObjectSpec[] = [];
  let snapshot = false;
  /** QEMU's default_monitor: cleared by -monitor, -qmp and -mon. */
  let defaultMonitor = true;
  let monitorStdio = false;
  const monitors: MonitorPlan[] = [];
  const chardevs: ChardevDef[] = [];
  const mons: MonOption[] = [];
  /** Runs a monitor parser; its error becomes a CliError naming the option. */
  const monitorArg = <T>(where: string, parse: () => T): T => {
    try {
      return parse();
    } catch (e) {
      if (e instanceof MonitorServerError) throw new CliError(`${where}: ${e.message}`);
      throw e;
    }
  };

  let rr: RrOption | undefined;
  const machineArgv: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (!word.startsWith('-') || word === '-' || word === '--') {
      throw new CliError(`${word}: positional arguments (disk images) are not supported`);
    }
    const raw = word.startsWith('--') ? word.slice(2) : word.slice(1);
    const opt = ALIASES[raw] ?? raw;
    const shown = `-${raw}`;
    let arg = '';
    if (WITH_ARG.has(opt)) {
      const next = argv[++i];
      if (next === undefined) throw new CliError(`${shown}: requires an argument`);
      arg = next;
    } else if (!WITHOUT_ARG.has(opt)) {
      throw new CliError(`${shown}: option not implemented`);
    }
    if (opt !== 'icount') machineArgv.push(word, ...(WITH_ARG.has(opt) ? [arg] : []));
    const where = `${shown} ${arg}`.trimEnd();
    switch (opt) {
      case 'h':
        return { kind: 'print', text: helpText() };
      case 'version':
        return { kind: 'print', text: versionText() };
      case 'machine':
        if (arg === 'help' || arg === '?') {
          return { kind: 'print', text: 'Supported machines are:\nvirt                 RISC-V VirtIO board\n' };
        }
        for (const { key, value } of parseKeyValues(arg, 'type', shown)) {
          if (key === 'type') {
            if (value !== 'virt') throw new CliError(`${where}: unsupported machine type '${value}' (only virt; -machine help)`);
          } else if (key === 'dumpdtb') {
            if (value === '') throw new CliError(`${where}: dumpdtb needs a file name`);
            dumpDtb = value;
          } else {
            throw new CliError(`${where}: Property 'virt-machine.${key}' not found`);
          }
        }
        break;
      case 'm':
        ramSize = parseMemory(arg, shown);
        break;
      case 'smp':
        smp = parseSmp(arg, shown);
        break;
      case 'cpu':
        if (arg === 'help' || arg === '?') return { kind: 'print', text: 'Available CPUs:\n  rv32\n' };
        if (arg !== 'rv32') throw new CliError(`${where}: unable to find CPU model '${arg}' (only rv32)`);
        break;
      case 'bios':
        bios = arg === 'none' ? { kind: 'none' } : arg === 'default' ? { kind: 'default' } : { kind: 'file', path: arg };
        if (arg === '') throw new CliError(`${shown}: empty file name`);
        break;
      case 'kernel':
      case 'initrd':
      case 'dtb':
      case 'D':
        if (arg === '') throw new CliError(`${shown}: empty file name`);
        if (opt === 'kernel') kernel = arg;
        else if (opt === 'initrd') initrd = arg;
        else if (opt === 'dtb') dtb = arg;
        else logFile = arg;
        break;
      case 'append':
        append = arg;
        break;
      case 'nographic':
        nographic = true;
        break;
      case 'display':
        if (arg !== 'none') throw new CliError(`${where}: display '${arg}' is not available (only none)`);
        displayNone = true;
        break;
      case 'serial': {
        if (serial !== undefined || serialChardev !== undefined) throw new CliError(`${where}: only one serial port is supported`);
        const s = parseSerial(arg, shown);
        if (s.kind === 'chardev') serialChardev = { id: s.id, where };
        else serial = s;
        break;
      }
      case 'no-reboot':
        noReboot = true;
        break;
      case 'name':
        for (const { key, value } of parseKeyValues(arg, 'guest', shown)) {
          if (key === 'guest') name = value;
          else throw new CliError(`${where}: '${key}' is not supported`);
        }
        break;
      case 'd':
        if (parseTrace(arg, shown, trace)) return { kind: 'print', text: logHelpText() };
        break;
      case 'icount':
        {
          const parsed = parseIcountOption(arg, shown);
          icount = parsed === undefined ? undefined : { shift: parsed.shift, align: parsed.align, sleep: parsed.sleep };
          if (parsed?.rr !== undefined) rr = { mode: parsed.rr, file: parsed.rrfile ?? '' };
          // The machine options a recording keeps: -icount without its record/replay part.
          if (icount !== undefined) {
            machineArgv.push(word, `shift=${icount.shift},align=${icount.align ? 'on' : 'off'},sleep=${icount.sleep ? 'on' : 'off'}`);
          }
          break;
        }
        break;
      case 'rtc':
        rtc = parseRtcOption(arg, shown);
        rtcClockGiven = /(^|,)clock=/.test(arg);
        break;
      case 'S':
        startPaused = true;
        break;
      case 'snapshot':
        snapshot = true;
        break;
      case 'drive':
        drives.push(parseDriveOption(arg, shown));
        break;
      case 'device':
        if (arg === 'help' || arg === '?') return { kind: 'print', text: deviceHelpText() };
        devices.push(parseDeviceOption(arg, shown));
        break;
      case 'netdev':
        netdevs.push(parseNetdevOption(arg, shown));
        break;
      case 'object':
        objects.push(parseObjectOption(arg, shown));
        break;
      case 'monitor':
        defaultMonitor = false;
        if (arg === 'none') break;
        if (arg === 'stdio') {
          if (monitorStdio) throw new CliError(`${where}: cannot use stdio by multiple character devices`);
          monitorStdio = true;
          break;
        }
        if (!arg.startsWith('unix:') && !arg.startsWith('tcp:')) {
          throw new CliError(`${where}: '${arg}' is not a supported monitor backend (stdio, none, unix:PATH,server=on[,wait=off], tcp:HOST:PORT,server=on[,wait=off])`);
        }
        monitors.push({ mode: 'readline', ...monitorArg(where, () => parseMonitorSocket(arg)) });
        break;
      case 'qmp':
        defaultMonitor = false;
        if (!arg.startsWith('unix:') && !arg.startsWith('tcp:')) {
          throw new CliError(`${where}: '${arg}' is not a supported QMP backend (unix:PATH,server=on[,wait=off], tcp:HOST:PORT,server=on[,wait=off])`);
        }
        monitors.push({ mode: 'control', ...monitorArg(where, () => parseMonitorSocket(arg)) });
        break;
      case 'chardev': {
        const c = parseChardevDef(arg, where);
        if (chardevs.some((d) => d.id === c.id)) throw new CliError(`${where}: attempt to add duplicate property 'id' to object (type 'chardev'): '${c.id}'`);
        chardevs.push(c);
        break;
      }
      case 'mon':
        defaultMonitor = false;
        mons.push(monitorArg(where, () => parseMonOption(arg)));
        break;
      default:
        throw new CliError(`${shown}: option not implemented`);
    }
  }

  if (nographic && defaultMonitor && serial?.kind === 'stdio') {
    throw new CliError('-serial stdio: cannot use stdio by multiple character devices (with -nographic use -serial mon:stdio)');
  }
  if (serialChardev !== undefined) {
    const { id, where } = serialChardev;
    const c = chardevs.find((d) => d.id === id);
    if (c === undefined) throw new CliError(`${where}: no -chardev with id '${id}'`);
    if (mons.some((m) => m.chardev === id)) throw new CliError(`${where}: chardev '${id}' is already used by -mon (a chardev serves one frontend; mux=on is not supported)`);
    if (!c.server) throw new CliError(`${c.where}: connecting to a server (server=off, QEMU's default) is not supported yet: add server=on,wait=off`);
    serial = { kind: 'socket', address: c.address, wait: c.wait, option: c.where };
  }
  // A monitor's chardev is checked as a monitor address (server=on, loopback only).
  const monitorChardevs = chardevs.filter((c) => mons.some((m) => m.chardev === c.id))
    .map((c): ChardevSocket => monitorArg(c.where, () => parseChardevSocket(c.text)));
  monitors.push(...monitorArg('-mon', () => resolveMonitors(monitorChardevs, mons)));
  for (const c of chardevs) {
    if (!mons.some((m) => m.chardev === c.id) && serialChardev?.id !== c.id) {
      throw new CliError(`-chardev socket,id=${c.id}: not used by any -mon or -serial chardev:${c.id}`);
    }
  }
  const addressKey = (a: MonitorAddress): string => (a.kind === 'unix' ? `unix:${a.path}` : `tcp:${a.host}:${a.port}`);
  const seen = new Set<string>();
  for (const m of monitors) {
    const key = addressKey(m.address);
    if (seen.has(key) && !(m.address.kind === 'tcp' && m.address.port === 0)) {
      throw new CliError(`${m.mode === 'control' ? '-qmp' : '-monitor'} ${key}: the address is used by another monitor`);
    }
    seen.add(key);
  }
  if (serial?.kind === 'socket' && seen.has(addressKey(serial.address)) && !(serial.address.kind === 'tcp' && serial.address.port === 0)) {
    throw new CliError(`${serial.option}: the address is used by a monitor`);
  }
  // QEMU's defaults (vl.c): with -nographic the serial port is mon:stdio while the default
  // monitor exists, plain stdio otherwise, and the default monitor takes stdio when the serial
  // port is elsewhere. Without a display we put the serial port on stdio as with -nographic.
  let console: SerialSpec;
  if (serial !== undefined) console = serial;
  else if (monitorStdio && !nographic) console = { kind: 'null' };
  else console = nographic && !defaultMonitor ? { kind: 'stdio' } : { kind: 'mon-stdio' };
  const stdioUser = console.kind === 'stdio' || console.kind === 'mon-stdio';
  if (monitorStdio && stdioUser) {
    throw new CliError(`-monitor stdio: cannot use stdio by multiple character devices (the serial port is on stdio${serial === undefined ? ' with -nographic' : ''}; use -serial null or file:PATH, or the console's Ctrl-A c)`);
  }
  const stdioMonitor: StdioMonitor = monitorStdio || (nographic && defaultMonitor && !stdioUser) ? 'stdio'
    : console.kind === 'mon-stdio' ? 'mux' : 'none';
  if (initrd !== undefined && kernel === undefined) throw new CliError('-initrd: requires -kernel');
  if (append !== undefined && kernel === undefined) throw new CliError('-append: requires -kernel');

  // With -icount and no clock named, the RTC follows the virtual clock (QEMU would use the host
  // clock): an -icount run then reads no host time at all, which keeps it deterministic.
  if (icount !== undefined && !rtcClockGiven) rtc = { ...(rtc ?? { base: { kind: 'utc' } }), clock: 'vm' };
  if (rtc?.driftfix === 'slew') throw new CliError('-rtc driftfix=slew: not supported (no x86 RTC here)');
  const { devices: virtio, warnings } = resolveDevices(drives, devices, netdevs, objects, snapshot);
  return {
    kind: 'run',
    options: {
      virtio, warnings, argv: machineArgv, ...(rr !== undefined ? { rr } : {}),
      dumpDtb, ramSize, smp, bios, kernel, initrd, append, dtb, nographic, displayNone, serial, noReboot, name,
      trace: { ...trace }, logFile, icount, rtc, console, stdioMonitor, monitors, startPaused,
    },
  };
}
