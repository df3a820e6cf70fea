/** The console of a run: UART0's host side (-serial) and the stdio monitor sharing it. */
import type { HostConsole } from '../console.js';
import { fileConsole, nullConsole, stdioConsole, withStdioMonitor } from '../console.js';
import { errnoText } from '../errno-text.js';
import { openSocketConsole, SocketConsoleError, type SocketConsole } from '../socket-console.js';
import type { RunConfig, SerialSpec } from './config.js';
import { SIGNALS, type RunnerEnv } from './env.js';
import { RunnerError } from './errors.js';

/**
 * The console for UART0 (`o.console`: -serial, or QEMU's default as the command line resolved
 * it). Without -serial, QEMU uses a graphical virtual console unless -nographic; we have no
 * display, so the serial port goes to stdio (with a notice). With `-monitor stdio` the human
 * monitor owns stdin and stdout. `staged`: a file's output replaces the file only once
 * committed (a replay's, once it completes).
 */
export async function openConsole(o: RunConfig, env: RunnerEnv, staged: boolean): Promise<HostConsole> {
  const serial = o.console;
  if (o.serial === undefined && !o.nographic && !o.displayNone) {
    env.stderr(serial.kind === 'null'
      ? `${env.program}: no graphical display and -monitor stdio: the serial port is not connected (use -serial file:PATH)\n`
      : `${env.program}: no graphical display: using -serial mon:stdio (Ctrl-A x quits; -nographic hides this notice)\n`);
  }
  const chardev = serial.kind === 'socket' ? await openSocketSerial(serial, env) : openSerial(serial, staged);
  return o.stdioMonitor === 'stdio' ? withStdioMonitor(chardev) : chardev;
}

/**
 * A socket for the serial port: listens, and with wait=on (QEMU's default) returns only once a
 * client is connected, so the machine does not run before it (a signal meanwhile ends the program).
 */
async function openSocketSerial(serial: Extract<SerialSpec, { kind: 'socket' }>, env: RunnerEnv): Promise<HostConsole> {
  let chardev: SocketConsole;
  try {
    chardev = await openSocketConsole(serial.address, { warn: (line) => env.stderr(`${env.program}: ${serial.option}: ${line}\n`) });
  } catch (e) {
    if (e instanceof SocketConsoleError) throw new RunnerError(`${serial.option}: ${e.message}`);
    throw e;
  }
  if (serial.wait) {
    env.stderr(`${env.program}: ${serial.option}: info: QEMU waiting for connection on: ${chardev.label}\n`);
    const signal = await chardev.waitForClient();
    if (signal === 'closed') throw new RunnerError(`${serial.option}: closed while waiting for a connection`);
    if (signal !== undefined) {
      chardev.close();
      throw new RunnerError(`terminating on signal ${SIGNALS.find(([name]) => name === signal)?.[1] ?? 0} (${signal}) while waiting for a connection on ${serial.option}`);
    }
  }
  return chardev;
}

function openSerial(serial: Exclude<SerialSpec, { kind: 'socket' }>, staged: boolean): HostConsole {
  switch (serial.kind) {
    case 'null': return nullConsole();
    case 'stdio': return stdioConsole(false);
    case 'mon-stdio': return stdioConsole(true);
    case 'file':
      try {
        return fileConsole(serial.path, { staged });
      } catch (e) {
        throw new RunnerError(`-serial file:${serial.path}: could not open file: ${errnoText(e)}`);
      }
  }
}
