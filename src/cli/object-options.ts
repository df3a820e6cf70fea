/**
 * `-object rng-random,id=ID[,filename=PATH]`, `-object rng-builtin,id=ID` and
 * `-object filter-replay,id=ID,netdev=NETDEV[,queue=all|rx|tx][,status=on|off]`, parsed as
 * QEMU's user_creatable_add does, with QEMU's messages after the usual `-object TEXT: ` prefix.
 * filter-replay is accepted and returned typed: record/replay will act on it.
 */
import type { FilterReplaySpec } from '../host/node/virtio-plan.js';
import { CliError, checkQemuId, parseQemuOpts, qemuBoolValue } from './option-syntax.js';

/** A `-object`. */
export type ObjectSpec =
  | {
    readonly type: 'rng-random';
    /** The option as given, `-object TEXT`, for messages. */
    readonly where: string;
    readonly id: string;
    /** The file to read entropy from; QEMU's default is /dev/urandom. */
    readonly filename: string;
  }
  | { readonly type: 'rng-builtin'; readonly where: string; readonly id: string }
  | FilterReplaySpec;

/** The default `filename` of rng-random, as QEMU's. */
export const RNG_RANDOM_DEFAULT_FILE = '/dev/urandom';

/** Object types QEMU has that we do not implement. */
const OTHER_QEMU_TYPES = new Set(['rng-egd', 'memory-backend-ram', 'memory-backend-file', 'memory-backend-memfd',
  'memory-backend-epc', 'filter-buffer', 'filter-dump', 'filter-mirror', 'filter-redirector', 'filter-rewriter',
  'colo-compare', 'secret', 'secret_keyring', 'tls-creds-anon', 'tls-creds-psk', 'tls-creds-x509', 'tls-cipher-suites',
  'iothread', 'main-loop', 'throttle-group', 'input-barrier', 'input-linux', 'authz-simple', 'authz-list',
  'authz-listfile', 'authz-pam', 'can-bus', 'can-host-socketcan', 'cryptodev-backend-builtin', 'cryptodev-vhost-user',
  'dbus-vmstate', 'pr-manager-helper', 'qtest', 'x-remote-object', 'x-vfio-user-server', 'sev-guest', 'thread-context']);

/**
 * Parses the argument of `-object`. Throws CliError with QEMU's message for invalid input.
 * @param option the option name used in messages.
 */
export function parseObjectOption(text: string, option = '-object'): ObjectSpec {
  const where = `${option} ${text}`;
  const fail = (message: string): never => {
    throw new CliError(`${where}: ${message}`);
  };
  const opts = parseQemuOpts(text, 'qom-type', option);
  const type = opts.find((o) => o.key === 'qom-type')?.value;
  if (type === undefined || type === '') return fail("Parameter 'qom-type' is missing");
  if (type !== 'rng-random' && type !== 'rng-builtin' && type !== 'filter-replay') {
    if (OTHER_QEMU_TYPES.has(type)) return fail(`object type '${type}' is not supported (rng-random, rng-builtin, filter-replay)`);
    return fail(`invalid object type: ${type}`);
  }
  let id: string | undefined;
  let filename = RNG_RANDOM_DEFAULT_FILE;
  let netdev: string | undefined;
  let queue: 'all' | 'rx' | 'tx' = 'all';
  let status = true;
  for (const { key, value } of opts) {
    if (key === 'qom-type') continue;
    if (key === 'id') id = checkQemuId(value, where);
    else if (type === 'rng-random' && key === 'filename') filename = value;
    else if (type === 'filter-replay' && key === 'netdev') netdev = value;
    else if (type === 'filter-replay' && key === 'queue') {
      if (value !== 'all' && value !== 'rx' && value !== 'tx') fail(`Parameter 'queue' does not accept value '${value}'`);
      queue = value as 'all' | 'rx' | 'tx';
    } else if (type === 'filter-replay' && key === 'status') {
      status = qemuBoolValue(key, value, where);
    } else if (type === 'filter-replay' && (key === 'position' || key === 'insert')) {
      fail(`'${key}' is not supported`);
    } else {
      fail(`Property '${type}.${key}' not found`);
    }
  }
  if (id === undefined) return fail("Parameter 'id' is missing");
  if (type === 'rng-builtin') return { type, where, id };
  if (type === 'rng-random') {
    if (filename === '') return fail("Parameter 'filename' expects a file name");
    return { type, where, id, filename };
  }
  if (netdev === undefined) return fail("Parameter 'netdev' is missing");
  return { type, where, id, netdev, queue, status };
}
