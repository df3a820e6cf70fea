import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../board/machine-api.js';
import { Clocks } from '../../main-loop/clocks.js';
import { FakeHostTime } from '../../../test/support/main-loop/fake-host-time.js';
import { icountConfig } from '../../main-loop/icount.js';
import {
  VCPU_EVENT_CLOCK_READ_HOST, VCPU_EVENT_CLOCK_READ_REALTIME, VCPU_EVENT_CLOCK_WARP, VCPU_EVENT_MONITOR_RESET, VCPU_EVENT_UNEXPECTED_CLOCK_READ,
  VcpuEventMailbox,
} from '../../threads/vcpu/event-mailbox.js';
import type { ReplayEvent } from '../log/events.js';
import type { StateDigester } from './digest.js';
import { ReplayDivergence, Replayer, type EventSource, type ReplayDevices } from './replayer.js';
import { ReplayVcpuChannel, drainVcpuEvents } from './vcpu-channel.js';

/** The parts of a machine the replayer touches for clock events. */
function fakeMachine(shift: number | 'auto'): { machine: Machine; setSteps(n: number): void } {
  let steps = 0;
  const clocks = new Clocks(new FakeHostTime(), icountConfig(shift), () => steps);
  const machine = { get totalSteps() { return steps; }, clocks } as unknown as Machine;
  return { machine, setSteps: (n) => { steps = n; } };
}

function source(events: ReplayEvent[]): EventSource {
  let i = 0;
  return { peek: () => events[i], next: () => events[i++] };
}

const noDevices: ReplayDevices = { blockComplete: () => false, entropy: () => false, netReceive: () => false };
const noDigests = {} as StateDigester;

function channel(): { vcpu: ReplayVcpuChannel; reports: VcpuEventMailbox; inputs: VcpuEventMailbox } {
  const reports = VcpuEventMailbox.create(16);
  const inputs = VcpuEventMailbox.create(4);
  return { vcpu: new ReplayVcpuChannel(reports, inputs), reports, inputs };
}

test('recording: the vCPU mailbox becomes clock-warp and clock-read events, in order', () => {
  const m = VcpuEventMailbox.create(8);
  m.append(10, VCPU_EVENT_CLOCK_WARP, 500);
  m.append(12, VCPU_EVENT_CLOCK_READ_HOST, 1.5e9);
  m.append(12, VCPU_EVENT_CLOCK_READ_REALTIME, 7);
  assert.deepEqual(drainVcpuEvents(m), [
    { kind: 'clock-warp', icount: 10, ns: 500 },
    { kind: 'clock-read', icount: 12, clock: 'host', value: 1.5e9 },
    { kind: 'clock-read', icount: 12, clock: 'realtime', value: 7 },
  ]);
  assert.equal(m.size, 0);
});

test('replaying: clock-read events are queued for the vCPU thread in order; an unread value is a divergence at the next event', () => {
  const { machine, setSteps } = fakeMachine(4);
  const { vcpu, inputs } = channel();
  const r = new Replayer(machine, source([
    { kind: 'clock-read', icount: 100, clock: 'host', value: 11 },
    { kind: 'clock-read', icount: 100, clock: 'realtime', value: 22 },
    { kind: 'clock-read', icount: 200, clock: 'host', value: 33 },
    { kind: 'end', icount: 300, reason: 'shutdown', exitCode: 0 },
  ]), noDigests, noDevices, vcpu);
  setSteps(100);
  r.applyDue();
  assert.equal(vcpu.pendingClockReads, 2);
  assert.deepEqual(inputs.takeFirst(), { icount: 100, kind: VCPU_EVENT_CLOCK_READ_HOST, value: 11 });
  assert.deepEqual(inputs.takeFirst(), { icount: 100, kind: VCPU_EVENT_CLOCK_READ_REALTIME, value: 22 });
  setSteps(200);
  r.applyDue(); // queues 33; the guest never reads it
  setSteps(300);
  assert.throws(() => r.applyDue(), (e: unknown) => e instanceof ReplayDivergence && e.icount === 300
    && /1 more read\(s\) of a host clock/.test(e.expected) && /did not read the clock/.test(e.found));
});

test('replaying: a clock read the log did not have, reported by the vCPU thread, is a divergence naming it', () => {
  const { machine, setSteps } = fakeMachine(4);
  const { vcpu, reports } = channel();
  const r = new Replayer(machine, source([{ kind: 'end', icount: 500, reason: 'shutdown', exitCode: 0 }]), noDigests, noDevices, vcpu);
  setSteps(120);
  r.checkVcpu(); // nothing reported
  reports.append(120, VCPU_EVENT_UNEXPECTED_CLOCK_READ, VCPU_EVENT_CLOCK_READ_REALTIME);
  assert.equal(vcpu.reportsWaiting, true);
  assert.throws(() => r.checkVcpu(), (e: unknown) => e instanceof ReplayDivergence
    && /read the realtime clock at instruction 120/.test(e.found) && /end of recording/.test(e.expected));
});

test('replaying: a timer event sets the shift=auto shift; with a fixed shift it is a divergence', () => {
  const auto = fakeMachine('auto');
  auto.setSteps(1000);
  new Replayer(auto.machine, source([{ kind: 'timer', icount: 1000, id: 1, shift: 6 }]), noDigests, noDevices).applyDue();
  assert.equal(auto.machine.clocks.shift, 6);
  const fixed = fakeMachine(4);
  fixed.setSteps(1000);
  assert.throws(() => new Replayer(fixed.machine, source([{ kind: 'timer', icount: 1000, id: 1, shift: 6 }]), noDigests, noDevices).applyDue(),
    (e: unknown) => e instanceof ReplayDivergence && /without icount shift=auto/.test(e.found));
  assert.throws(() => new Replayer(auto.machine, source([{ kind: 'timer', icount: 1000, id: 1, shift: 12 }]), noDigests, noDevices).applyDue(),
    (e: unknown) => e instanceof ReplayDivergence && /beyond the largest/.test(e.found));
});

test('replaying: more clock values at one instruction than the queue holds is a divergence, not a crash', () => {
  const { machine, setSteps } = fakeMachine(4);
  const { vcpu } = channel();
  const events: ReplayEvent[] = [];
  for (let i = 0; i < 5; i++) events.push({ kind: 'clock-read', icount: 10, clock: 'host', value: i });
  setSteps(10);
  assert.throws(() => new Replayer(machine, source(events), noDigests, noDevices, vcpu).applyDue(),
    (e: unknown) => e instanceof ReplayDivergence && /more clock reads at one instruction/.test(e.found));
});

test('replaying: applyDue stops at a logged system reset; the rest of the events at that count come after it', () => {
  const { machine, setSteps } = fakeMachine(4);
  const events: ReplayEvent[] = [
    { kind: 'request', icount: 50, what: 'reset', cause: 'host-qmp-system-reset' },
    { kind: 'timer', icount: 50, id: 0, shift: 3 },
    { kind: 'end', icount: 50, reason: 'shutdown', exitCode: 0 },
  ];
  const r = new Replayer(machine, source(events), noDigests, noDevices);
  setSteps(50);
  assert.equal(r.applyDue(), undefined);
  assert.equal(r.takeResetRequest(), true);
  assert.equal(r.takeResetRequest(), false, 'reading clears it');
  assert.equal(r.nextIcount(), 50);
  assert.throws(() => r.applyDue(), (e: unknown) => e instanceof ReplayDivergence && /without icount shift=auto/.test(e.found));
  const other = new Replayer(machine, source([{ kind: 'request', icount: 50, what: 'shutdown', cause: 'guest' }]), noDigests, noDevices);
  assert.throws(() => other.applyDue(), (e: unknown) => e instanceof ReplayDivergence && /request kind/.test(e.found));
});

test('recording: a monitor reset done by the vCPU thread becomes a request event with its cause', () => {
  const m = VcpuEventMailbox.create(4);
  m.append(77, VCPU_EVENT_MONITOR_RESET, 0);
  assert.deepEqual(drainVcpuEvents(m), [{ kind: 'request', icount: 77, what: 'reset', cause: 'host-qmp-system-reset' }]);
});
