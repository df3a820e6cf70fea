/**
 * The host side of the virtio devices: opens each device's backend (disk image, entropy source,
 * network) before the machine is built, and hands the machine wrapped backends whose
 * completions arrive as bottom halves of the main loop, so device state is only touched under
 * the locks (QEMU completes AIO through bottom halves too). This is also the one place through
 * which block data, entropy and packets enter the machine: record/replay wraps it.
 */
import type { Machine } from '../../board/machine-api.js';
import type { BlockBackend, EntropyBackend, NetBackend, NetReceiver, VirtioBackend, VirtioDeviceSpec } from '../../devices/virtio/index.js';
import type { VirtioDevicePlan } from './virtio-plan.js';
import type { MainLoop } from '../../main-loop/main-loop.js';
import type { ReplayDevices } from '../../replay/index.js';
// The block stack (formats, probing, locks: ~50 ms to load) is imported when a drive is opened,
// so a run without one does not pay for it at start-up.
import type { ClosableBlockBackend, OverlayBlockBackend } from './block/open.js';
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

/**
 * How completions, entropy and received frames reach the devices (under the locks): directly,
 * or through the recorder, which logs each one (the Recorder has these methods).
 */
export interface VirtioInputTap {
  /** A block request completed: `apply` delivers it to the device. */
  blockComplete(slot: number, request: number, error: string | undefined, data: Uint8Array | undefined, apply: () => void): void;
  /** Entropy for a request: `apply` delivers it. */
  entropy(slot: number, request: number, bytes: Uint8Array, apply: () => void): void;
  /** A frame for the device: `deliver` offers it; returns whether the device took it. */
  netReceive(slot: number, frame: Uint8Array, deliver: () => boolean): boolean;
}

/** Straight to the devices (no recording). */
const DIRECT_INPUT: VirtioInputTap = {
  blockComplete: (_slot, _request, _error, _data, apply) => apply(),
  entropy: (_slot, _request, _bytes, apply) => apply(),
  netReceive: (_slot, _frame, deliver) => deliver(),
};

/** The tap the wrapped backends use (set once the machine and its recorder exist). */
interface Taps {
  input: VirtioInputTap;
}

/**
 * A host block backend whose completions arrive as bottom halves; when recording, each is
 * logged with the request's number (the order in which the device issued requests).
 */
function wrapBlock(slot: number, b: BlockBackend, d: Deliverer, taps: Taps): BlockBackend {
  let seq = 0;
  const complete = (request: number, err: string | undefined, data: Uint8Array | undefined, apply: () => void): void => {
    d.deliver(() => taps.input.blockComplete(slot, request, err, data, apply));
  };
  return {
    byteLength: b.byteLength,
    readOnly: b.readOnly,
    read: (offset, length, done) => {
      const request = seq++;
      b.read(offset, length, (err, data) => complete(request, err, data, () => done(err, data)));
    },
    write: (offset, data, done) => {
      const request = seq++;
      b.write(offset, data, (err) => complete(request, err, undefined, () => done(err)));
    },
    flush: (done) => {
      const request = seq++;
      b.flush((err) => complete(request, err, undefined, () => done(err)));
    },
  };
}

function wrapEntropy(slot: number, b: EntropyBackend, d: Deliverer, taps: Taps): EntropyBackend {
  let seq = 0;
  return {
    read: (length, done) => {
      const request = seq++;
      b.read(length, (bytes) => d.deliver(() => taps.input.entropy(slot, request, bytes, () => done(bytes))));
    },
  };
}

/**
 * Frames from the network are queued here and offered to the device under the locks; frames the
 * device has no room for stay queued until it reports rx space (bounded: the oldest are dropped,
 * as a full NIC queue drops).
 */
function wrapNet(slot: number, b: NetBackend, d: Deliverer, taps: Taps): NetBackend {
  const MAX_QUEUED = 256;
  const queue: Uint8Array[] = [];
  let receiver: NetReceiver | undefined;
  let scheduled = false;
  const offer = (frame: Uint8Array): boolean => {
    const r = receiver!;
    return taps.input.netReceive(slot, frame, () => r(frame));
  };
  const flush = (): void => {
    scheduled = false;
    while (receiver !== undefined && queue.length > 0) {
      if (!offer(queue[0]!)) return;
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
    // Called by the device under the locks, inside its queue work: offer the queue in a bottom
    // half of its own, so every delivered frame is an event of its own (record/replay).
    rxSpaceAvailable: () => schedule(),
  };
}

/**
 * Replay: a backend of any kind that never completes by itself. Requests are numbered in the
 * order the device issues them (as when recording) and complete when the log says; received
 * frames come from the log; sent frames go nowhere.
 */
class ReplayBackend {
  private seq = 0;
  private readonly pending = new Map<number, (err: string | undefined, data: Uint8Array | undefined) => void>();
  private receiver: NetReceiver | undefined;
  /** Sectors written by completed writes (the replay's disk overlay). */
  readonly written = new Map<number, Uint8Array>();

  private wait(done: (err: string | undefined, data: Uint8Array | undefined) => void): void {
    this.pending.set(this.seq++, done);
  }

  /** A block backend: reads complete with the logged data; completed writes go to `written`. */
  block(byteLength: number, readOnly: boolean): BlockBackend {
    return {
      byteLength,
      readOnly,
      read: (_offset, _length, done) => this.wait((err, data) => done(err, data ?? new Uint8Array(0))),
      write: (offset, data, done) => this.wait((err) => {
        // A write that completed without error reached the recording's overlay: so it does here.
        if (err === undefined) {
          for (let at = 0; at + 512 <= data.length; at += 512) this.written.set((offset + at) / 512, data.slice(at, at + 512));
        }
        done(err);
      }),
      flush: (done) => this.wait((err) => done(err)),
    };
  }

  /** An entropy backend: each read completes with the logged bytes. */
  entropy(): EntropyBackend {
    return { read: (_length, done) => this.wait((_err, data) => done(data ?? new Uint8Array(0))) };
  }

  /** A network backend: sent frames go nowhere; received ones come from `receive`. */
  net(): NetBackend {
    return {
      send: () => {},
      setReceiver: (r) => {
        this.receiver = r;
      },
      rxSpaceAvailable: () => {},
    };
  }

  /** Completes request `request`; false if it is not in flight. */
  complete(request: number, err: string | undefined, data: Uint8Array | undefined): boolean {
    const done = this.pending.get(request);
    if (done === undefined) return false;
    this.pending.delete(request);
    done(err, data);
    return true;
  }

  /** Delivers a recorded frame; false if the device did not take it. */
  receive(frame: Uint8Array): boolean {
    return this.receiver?.(frame) ?? false;
  }
}

/** The opened backends of all virtio devices. */
export class VirtioHost {
  /** The wrapped backends by slot, for MachineHost.virtioBackends. */
  readonly backends = new Map<number, VirtioBackend>();
  /** The device specs for MachineConfig.virtio. */
  readonly devices: Array<{ readonly slot: number; readonly spec: VirtioDeviceSpec }> = [];
  private readonly closers: Array<() => Promise<void> | void> = [];
  private readonly deliverer = new Deliverer();
  private readonly taps: Taps = { input: DIRECT_INPUT };
  /** Replay: the backends that complete requests from the log, by slot. */
  private readonly replay = new Map<number, ReplayBackend>();
  /** Block devices opened with a copy-on-write overlay, by slot. */
  private readonly overlays = new Map<number, OverlayBlockBackend>();

  private constructor(private readonly mode: 'live' | 'replay') {}

  /** The disk overlays: for each block device, the sectors written (recording or replay). */
  diskOverlays(): Array<{ readonly slot: number; readonly sectors: Map<number, Uint8Array> }> {
    const out: Array<{ slot: number; sectors: Map<number, Uint8Array> }> = [];
    for (const [slot, b] of this.overlays) out.push({ slot, sectors: new Map(b.exportDirty()) });
    for (const d of this.devices) {
      const r = this.replay.get(d.slot);
      if (d.spec.kind === 'blk' && r !== undefined) out.push({ slot: d.slot, sectors: r.written });
    }
    return out;
  }

  /** Recording: completions, entropy and frames go through `tap` (the recorder) from now on. */
  setInputTap(tap: VirtioInputTap): void {
    this.taps.input = tap;
  }

  /** Replay: the devices' side of the replayer (completions and frames come from the log). */
  replayDevices(): ReplayDevices {
    const get = (slot: number): ReplayBackend | undefined => this.replay.get(slot);
    return {
      blockComplete: (e) => get(e.slot)?.complete(e.request, e.error, e.data) ?? false,
      entropy: (e) => get(e.slot)?.complete(e.request, undefined, e.bytes) ?? false,
      netReceive: (e) => get(e.slot)?.receive(e.frame) ?? false,
    };
  }

  /**
   * Opens every plan's backend. On a failure, closes what was opened and rethrows (the errors of
   * the backends are one-line messages naming the option).
   */
  static async open(plans: readonly VirtioDevicePlan[], openNet: NetBackendOpener | undefined, onError: (line: string) => void, mode: 'live' | 'replay' = 'live'): Promise<VirtioHost> {
    const h = new VirtioHost(mode);
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
    if (this.mode === 'replay') {
      // Nothing outside is touched: requests wait for their completion in the log.
      const r = new ReplayBackend();
      this.replay.set(plan.slot, r);
      if (plan.kind === 'blk') {
        // The disk's size as the recording's guest saw it: a qcow2 image's virtual size.
        const { imageVirtualSize } = await import('./block/open.js');
        const byteLength = await imageVirtualSize(plan.drive);
        this.backends.set(plan.slot, r.block(byteLength, plan.drive.readOnly));
        this.devices.push({ slot: plan.slot, spec: { kind: 'blk', byteLength, readOnly: plan.drive.readOnly, ...(plan.serial !== undefined ? { serial: plan.serial } : {}) } });
      } else if (plan.kind === 'net') {
        this.backends.set(plan.slot, r.net());
        this.devices.push({ slot: plan.slot, spec: { kind: 'net', mac: plan.mac } });
      } else {
        this.backends.set(plan.slot, r.entropy());
        this.devices.push({ slot: plan.slot, spec: { kind: 'rng' } });
      }
      return;
    }
    switch (plan.kind) {
      case 'blk': {
        const { OverlayBlockBackend, openBlockBackend } = await import('./block/open.js');
        const b: ClosableBlockBackend = await openBlockBackend(plan.drive, (text) => onError(`warning: ${text}`));
        this.closers.push(() => b.close());
        if (b instanceof OverlayBlockBackend) this.overlays.set(plan.slot, b);
        this.backends.set(plan.slot, wrapBlock(plan.slot, b, d, this.taps));
        this.devices.push({ slot: plan.slot, spec: { kind: 'blk', byteLength: b.byteLength, readOnly: b.readOnly, ...(plan.serial !== undefined ? { serial: plan.serial } : {}) } });
        return;
      }
      case 'rng': {
        const b: ClosableEntropyBackend = await openEntropyBackend(plan.source, plan.sourceWhere, onError);
        this.closers.push(() => b.close());
        this.backends.set(plan.slot, wrapEntropy(plan.slot, b, d, this.taps));
        this.devices.push({ slot: plan.slot, spec: { kind: 'rng' } });
        return;
      }
      case 'net': {
        if (openNet === undefined) throw new Error(`${plan.where}: network backends are not available`);
        const b = await openNet(plan);
        this.closers.push(() => b.close());
        this.backends.set(plan.slot, wrapNet(plan.slot, b, d, this.taps));
        this.devices.push({ slot: plan.slot, spec: { kind: 'net', mac: plan.mac } });
        return;
      }
    }
  }

  /**
   * Connects the completions to the main loop and returns the bottom half that does the queue
   * work of `machine` (schedule it when a doorbell rings).
   */
  attach(loop: MainLoop, machine: Machine, work: () => void = () => machine.processVirtioQueues()): { schedule(): void } {
    this.deliverer.attach(loop);
    return loop.createBottomHalf(work);
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
