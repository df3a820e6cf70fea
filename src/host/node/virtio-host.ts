/**
 * The host side of the virtio devices: opens each device's backend (disk image, entropy source,
 * network) before the machine is built, and hands the machine wrapped backends whose
 * completions arrive as bottom halves of the main loop, so device state is only touched under
 * the locks (QEMU completes AIO through bottom halves too). This is also the one place through
 * which block data, entropy and packets enter the machine: record/replay wraps it.
 */
import type { Machine } from '../../board/machine-api.js';
import type { BlockBackend, EntropyBackend, NetBackend, NetReceiver, VirtioBackend, VirtioDeviceSpec } from '../../devices/virtio/index.js';
import type { VirtioDevicePlan } from '../../cli/device-options.js';
import type { MainLoop } from '../../main-loop/main-loop.js';
import { openBlockBackend, type ClosableBlockBackend } from './block/open.js';
import { openEntropyBackend, type ClosableEntropyBackend } from './rng/entropy-backend.js';

/** A network backend the host opened (user or socket netdev), before wrapping. */
export interface HostNetBackend extends NetBackend {
  close(): Promise<void> | void;
}

/** Opens a network backend for a `-netdev` (supplied by the caller: src/host/node/net). */
export type NetBackendOpener = (plan: Extract<VirtioDevicePlan, { kind: 'net' }>) => Promise<HostNetBackend>;

/** Runs a completion under the locks (the main loop's runSoon), queued until the loop exists. */
class Deliverer {
  private loop: MainLoop | undefined;
  private early: Array<() => void> = [];

  attach(loop: MainLoop): void {
    this.loop = loop;
    for (const fn of this.early) loop.runSoon(fn);
    this.early = [];
  }

  deliver(fn: () => void): void {
    if (this.loop !== undefined) this.loop.runSoon(fn);
    else this.early.push(fn);
  }
}

function wrapBlock(b: BlockBackend, d: Deliverer): BlockBackend {
  return {
    byteLength: b.byteLength,
    readOnly: b.readOnly,
    read: (offset, length, done) => b.read(offset, length, (err, data) => d.deliver(() => done(err, data))),
    write: (offset, data, done) => b.write(offset, data, (err) => d.deliver(() => done(err))),
    flush: (done) => b.flush((err) => d.deliver(() => done(err))),
  };
}

function wrapEntropy(b: EntropyBackend, d: Deliverer): EntropyBackend {
  return { read: (length, done) => b.read(length, (bytes) => d.deliver(() => done(bytes))) };
}

/**
 * Frames from the network are queued here and offered to the device under the locks; frames the
 * device has no room for stay queued until it reports rx space (bounded: the oldest are dropped,
 * as a full NIC queue drops).
 */
function wrapNet(b: NetBackend, d: Deliverer): NetBackend {
  const MAX_QUEUED = 256;
  const queue: Uint8Array[] = [];
  let receiver: NetReceiver | undefined;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    while (receiver !== undefined && queue.length > 0) {
      if (!receiver(queue[0]!)) return;
      queue.shift();
    }
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    d.deliver(flush);
  };
  b.setReceiver((frame) => {
    if (queue.length >= MAX_QUEUED) queue.shift();
    queue.push(frame);
    schedule();
    return true;
  });
  return {
    send: (frame) => b.send(frame),
    setReceiver: (r) => {
      receiver = r;
      schedule();
    },
    // Called by the device under the locks: offer the queue now.
    rxSpaceAvailable: () => flush(),
  };
}

/** The opened backends of all virtio devices. */
export class VirtioHost {
  /** The wrapped backends by slot, for MachineHost.virtioBackends. */
  readonly backends = new Map<number, VirtioBackend>();
  /** The device specs for MachineConfig.virtio. */
  readonly devices: Array<{ readonly slot: number; readonly spec: VirtioDeviceSpec }> = [];
  private readonly closers: Array<() => Promise<void> | void> = [];
  private readonly deliverer = new Deliverer();

  private constructor() {}

  /**
   * Opens every plan's backend. On a failure, closes what was opened and rethrows (the errors of
   * the backends are one-line messages naming the option).
   */
  static async open(plans: readonly VirtioDevicePlan[], openNet: NetBackendOpener | undefined, onError: (line: string) => void): Promise<VirtioHost> {
    const h = new VirtioHost();
    try {
      for (const plan of plans) await h.openOne(plan, openNet, onError);
    } catch (e) {
      await h.close();
      throw e;
    }
    return h;
  }

  private async openOne(plan: VirtioDevicePlan, openNet: NetBackendOpener | undefined, onError: (line: string) => void): Promise<void> {
    const d = this.deliverer;
    switch (plan.kind) {
      case 'blk': {
        const b: ClosableBlockBackend = await openBlockBackend(plan.drive);
        this.closers.push(() => b.close());
        this.backends.set(plan.slot, wrapBlock(b, d));
        this.devices.push({ slot: plan.slot, spec: { kind: 'blk', byteLength: b.byteLength, readOnly: b.readOnly, ...(plan.serial !== undefined ? { serial: plan.serial } : {}) } });
        return;
      }
      case 'rng': {
        const b: ClosableEntropyBackend = await openEntropyBackend(plan.source, plan.sourceWhere, onError);
        this.closers.push(() => b.close());
        this.backends.set(plan.slot, wrapEntropy(b, d));
        this.devices.push({ slot: plan.slot, spec: { kind: 'rng' } });
        return;
      }
      case 'net': {
        if (openNet === undefined) throw new Error(`${plan.where}: network backends are not available`);
        const b = await openNet(plan);
        this.closers.push(() => b.close());
        this.backends.set(plan.slot, wrapNet(b, d));
        this.devices.push({ slot: plan.slot, spec: { kind: 'net', mac: plan.mac } });
        return;
      }
    }
  }

  /**
   * Connects the completions to the main loop and returns the bottom half that does the queue
   * work of `machine` (schedule it when a doorbell rings).
   */
  attach(loop: MainLoop, machine: Machine): { schedule(): void } {
    this.deliverer.attach(loop);
    return loop.createBottomHalf(() => machine.processVirtioQueues());
  }

  /** Closes every backend (images, sockets). */
  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch {
        // closing is best effort at exit
      }
    }
  }
}
