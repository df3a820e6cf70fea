/**
 * The NIC side of a netdev: `NetBackend` as virtio-net defines it (src/devices/virtio/device-api.ts).
 * Frames go out through `send`; frames come in through the receiver the device installs, which
 * returns false when the guest has no receive buffer (the frame stays queued here until the
 * device calls `rxSpaceAvailable`). Frames are Ethernet frames without FCS or virtio header.
 */
export type { NetBackend, NetReceiver } from '../devices/virtio/device-api.js';

/** Runs a function later on the main loop (a bottom half under the BQL). */
export type Schedule = (fn: () => void) => void;
