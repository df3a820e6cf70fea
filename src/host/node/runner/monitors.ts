/** The monitors of a run: the human monitor on stdio and the socket monitors (QMP, HMP). */
import type { StdioMonitorFactory } from '../console.js';
import { HMP_PROMPT, HmpConnection } from '../../../monitor/hmp/connection.js';
import type { MonitorServerHandle } from '../../../monitor/server.js';
import type { VmControl } from '../../../monitor/vm-control.js';
import type { RunConfig } from './config.js';
import { SIGNALS, type RunnerEnv } from './env.js';
import { RunnerError } from './errors.js';

/** The human monitor on stdio: banner on the first focus, then a prompt each time. */
export function stdioMonitor(vm: VmControl): StdioMonitorFactory {
  return (write) => {
    const conn = new HmpConnection(vm, write);
    let shown = false;
    return {
      receive: (bytes) => conn.receive(bytes),
      focus: () => {
        if (shown) {
          write(HMP_PROMPT);
        } else {
          shown = true;
          conn.start();
        }
      },
    };
  };
}

/**
 * Starts the socket monitors in order; on a failure, closes those already started. A monitor
 * with wait=on (QEMU's default) is waited for, in order, before the next: the machine does not
 * run before its client connects (a signal meanwhile ends the program, as in QEMU).
 */
export async function startMonitors(o: RunConfig, vm: VmControl, env: RunnerEnv): Promise<MonitorServerHandle[]> {
  if (o.monitors.length === 0) return [];
  // The servers (and QMP) are loaded only by a run that has a socket monitor: start-up time.
  const { MonitorServerError, startHmpServer, startQmpServer } = await import('../../../monitor/server.js');
  const handles: MonitorServerHandle[] = [];
  const option = (m: RunConfig['monitors'][number] | undefined): string => (m?.mode === 'control' ? '-qmp' : '-monitor');
  try {
    for (const m of o.monitors) {
      const handle = m.mode === 'control' ? await startQmpServer(m.address, vm) : await startHmpServer(m.address, vm);
      handles.push(handle);
      if (!m.wait) continue;
      env.stderr(`${env.program}: ${option(m)}: info: QEMU waiting for connection on: ${handle.label}\n`);
      const signal = await handle.waitForClient();
      if (signal === 'closed') throw new RunnerError(`${option(m)}: closed while waiting for a connection`);
      if (signal !== undefined) {
        throw new RunnerError(`terminating on signal ${SIGNALS.find(([name]) => name === signal)?.[1] ?? 0} (${signal}) while waiting for a connection on ${option(m)}`);
      }
    }
  } catch (e) {
    await Promise.all(handles.map((h) => h.close()));
    if (e instanceof MonitorServerError) throw new RunnerError(`${option(o.monitors[handles.length])}: ${e.message}`);
    throw e;
  }
  return handles;
}

/** Closes the monitors after pending replies and events had a turn to reach the sockets. */
export async function closeMonitors(handles: readonly MonitorServerHandle[]): Promise<void> {
  if (handles.length === 0) return;
  await new Promise<void>((resolve) => setTimeout(resolve, 20));
  await Promise.all(handles.map((h) => h.close()));
}
