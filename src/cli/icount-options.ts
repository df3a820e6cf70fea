/**
 * `-icount [shift=]N|auto[,align=on|off][,sleep=on|off][,rr=record|replay,rrfile=PATH[,rrsnapshot=NAME]]`,
 * parsed as QEMU does (qemu-options.hx, icount_configure, replay_configure), with QEMU's messages
 * after the usual `-icount TEXT: ` prefix.
 */
import type { IcountConfig } from '../main-loop/icount.js';
import { icountConfigProblem } from '../main-loop/icount.js';
import { CliError, parseCInteger, parseKeyValues, parseQemuBool } from './option-syntax.js';

/** Record/replay mode (`rr=`). */
export type RrMode = 'record' | 'replay';

/** A parsed `-icount`: the clock settings plus, if given, record/replay (rejected by the caller for now). */
export type IcountOption = IcountConfig & {
  readonly rr?: RrMode;
  readonly rrfile?: string;
};

const KEYS = new Set(['shift', 'align', 'sleep', 'rr', 'rrfile', 'rrsnapshot']);

/**
 * Parses the argument of `-icount`. Returns undefined when no shift is given: like QEMU, icount
 * then stays off (`-icount sleep=off` does nothing). Throws CliError with QEMU's message for
 * invalid input.
 * @param option the option name used in messages.
 */
export function parseIcountOption(text: string, option = '-icount'): IcountOption | undefined {
  const fail = (message: string): never => {
    throw new CliError(`${option} ${text}: ${message}`);
  };
  const values = new Map<string, string>();
  for (const { key, value } of parseKeyValues(text, 'shift', option)) {
    if (!KEYS.has(key)) fail(`Invalid parameter '${key}'`);
    values.set(key, value);
  }
  const bool = (key: string, dflt: boolean): boolean => {
    const value = values.get(key);
    if (value === undefined) return dflt;
    return parseQemuBool(value) ?? fail(`Parameter '${key}' expects 'on' or 'off'`);
  };
  const align = bool('align', false);
  const sleep = bool('sleep', true);
  const shiftText = values.get('shift');
  const rrText = values.get('rr');
  if (shiftText === undefined) {
    if (values.has('align')) fail('Please specify shift option when using align');
    if (rrText !== undefined) fail('Please enable icount to use record/replay');
    return undefined;
  }
  let shift: number | 'auto';
  if (shiftText === 'auto') {
    shift = 'auto';
  } else {
    const n = parseCInteger(shiftText);
    shift = n === undefined ? -1 : n;
  }
  const problem = icountConfigProblem({ shift, align, sleep });
  if (problem !== undefined) fail(problem);
  const config: IcountConfig = { shift, align, sleep };
  if (rrText === undefined) return config;
  if (rrText !== 'record' && rrText !== 'replay') return fail(`Invalid icount rr option: ${rrText}`);
  const rrfile = values.get('rrfile');
  if (rrfile === undefined) return fail('File name not specified for replay');
  if (values.has('rrsnapshot')) fail('rrsnapshot is not supported yet');
  return { ...config, rr: rrText, rrfile };
}
