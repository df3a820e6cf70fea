/**
 * The board's configuration from a run's configuration: reads every image it names (a gzip
 * image decompressed) and resolves `-rtc`'s start.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { BootImage, MachineConfig, MachineRtc } from '../../../board/machine-api.js';
import { errnoText } from '../errno-text.js';
import type { RunConfig } from './config.js';
import { RunnerError } from './errors.js';

/** Largest decompressed image (more than any RAM size the board takes). */
const MAX_IMAGE_BYTES = 2 ** 31;

/** Reads a file named by `option`, or throws a RunnerError naming both. */
export function readImage(option: string, path: string): BootImage {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new RunnerError(`${option} ${path}: could not read file: ${errnoText(e)}`);
  }
  // A gzip-compressed image (the bundled kernel is shipped as Image.gz) is loaded decompressed.
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_IMAGE_BYTES });
    } catch (e) {
      throw new RunnerError(`${option} ${path}: not a valid gzip file: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { path, data: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
}

/** Builds the machine configuration, reading every file the configuration names. */
export function buildMachineConfig(o: RunConfig): MachineConfig {
  return {
    ramSize: o.ramSize,
    smp: o.smp,
    bios: o.bios.kind === 'file' ? { kind: 'file', image: readImage('-bios', o.bios.path) } : o.bios,
    kernel: o.kernel === undefined ? undefined : readImage('-kernel', o.kernel),
    initrd: o.initrd === undefined ? undefined : readImage('-initrd', o.initrd),
    append: o.append,
    dtb: o.dtb === undefined ? undefined : readImage('-dtb', o.dtb),
    icount: o.icount,
    rtc: machineRtc(o.rtc),
    noReboot: o.noReboot,
  };
}

/**
 * The RTC for `-rtc`: its start (undefined for utc: the board reads the host's wall time; the
 * host's local time for localtime; the given date for DATE) and clock.
 */
function machineRtc(rtc: RunConfig['rtc']): MachineRtc | undefined {
  if (rtc === undefined) return undefined;
  const clock = rtc.clock;
  if (rtc.base.kind === 'utc') return { clock };
  if (rtc.base.kind === 'date') return { clock, startNs: rtc.base.epochMs * 1e6 };
  const nowMs = Date.now();
  return { clock, startNs: (nowMs - new Date(nowMs).getTimezoneOffset() * 60_000) * 1e6 };
}
