/**
 * What a run of the machine is configured with: the command line's options once parsed
 * (src/cli builds this value; nothing here parses text). The runner reads the named files,
 * opens the host's backends and runs the machine from it.
 */
import type { TraceFlags } from '../../../board/machine-api.js';
import type { IcountConfig } from '../../../main-loop/icount.js';
import type { RtcConfig } from '../../../main-loop/rtc-clock.js';
import type { MonitorAddress, MonitorPlan } from '../../../monitor/server.js';
import type { VirtioDevicePlan } from '../virtio-plan.js';

/** Where UART0 is connected (`-serial`). */
export type SerialSpec =
  | { readonly kind: 'stdio' }
  /** `mon:stdio`: stdio with QEMU's Ctrl-A escape keys. */
  | { readonly kind: 'mon-stdio' }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'null' }
  /**
   * A listening socket (`tcp:HOST:PORT,server=on[,wait=off]`, `unix:PATH,...`, or `chardev:ID`
   * naming a `-chardev socket`): one client at a time is the console. `wait`: start only once a
   * client is connected (QEMU's default for a server socket). `option` is the option that
   * defines it, as given, for messages.
   */
  | { readonly kind: 'socket'; readonly address: MonitorAddress; readonly wait: boolean; readonly option: string };

/** `-bios`. */
export type BiosSpec =
  | { readonly kind: 'none' }
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly path: string };

/**
 * Where a human monitor talks over stdio: `mux` behind the console's Ctrl-A c (mon:stdio),
 * `stdio` owning stdin/stdout (`-monitor stdio`, or QEMU's default monitor with -nographic when
 * the serial port is elsewhere), or `none`.
 */
export type StdioMonitor = 'mux' | 'stdio' | 'none';

/** The configuration of a run of the machine. */
export interface RunConfig {
  /** `-M virt,dumpdtb=FILE`. */
  readonly dumpDtb?: string | undefined;
  /** RAM size in bytes. */
  readonly ramSize: number;
  readonly smp: number;
  readonly bios: BiosSpec;
  readonly kernel?: string | undefined;
  readonly initrd?: string | undefined;
  readonly append?: string | undefined;
  readonly dtb?: string | undefined;
  readonly nographic: boolean;
  /** `-display none` was given. */
  readonly displayNone: boolean;
  /** `-serial`, when given. */
  readonly serial?: SerialSpec | undefined;
  readonly noReboot: boolean;
  readonly name?: string | undefined;
  readonly trace: TraceFlags;
  /** `-D FILE`: where `-d` output goes (default stderr). */
  readonly logFile?: string | undefined;
  /** `-icount`: instruction-counted virtual time. */
  readonly icount?: IcountConfig | undefined;
  /** `-rtc`: the RTC's start (`base`) and clock. */
  readonly rtc?: RtcConfig | undefined;
  /**
   * Where UART0 is connected after QEMU's defaults are applied: `serial` when given; else
   * mon:stdio (plain stdio with -nographic when a -monitor/-qmp/-mon option replaced the
   * default monitor), or null when `-monitor stdio` took stdio without -nographic.
   */
  readonly console: SerialSpec;
  /** The human monitor on stdio, if any. */
  readonly stdioMonitor: StdioMonitor;
  /** Socket monitors (`-qmp`, `-monitor unix:/tcp:`, `-chardev socket` + `-mon`), in order. */
  readonly monitors: readonly MonitorPlan[];
  /** `-S`: do not start the vCPUs until `cont`. */
  readonly startPaused: boolean;
  /** `-icount ...,rr=record|replay,rrfile=FILE`: record or replay this run. */
  readonly rr?: RrOption | undefined;
  /** The machine options as given, without the record/replay part (a recording's header keeps them). */
  readonly argv: readonly string[];
  /** The virtio devices (`-drive`, `-device`, `-netdev`, `-object`, `-snapshot`), slots assigned. */
  readonly virtio: readonly VirtioDevicePlan[];
  /** QEMU's warnings about them (a netdev without a device), printed at start. */
  readonly warnings: readonly string[];
}

/** Record or replay (`-icount ...,rr=`, or the `record`/`replay` subcommands). */
export interface RrOption {
  readonly mode: 'record' | 'replay';
  readonly file: string;
}

