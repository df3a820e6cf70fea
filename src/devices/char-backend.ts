/**
 * The character backend a serial device talks to: the device writes bytes out through it;
 * the host pushes input bytes into the device (e.g. `Uart16550.receive`). Console input is
 * non-deterministic and will be recorded at this boundary, never inside the device.
 */
export interface CharBackend {
  /** Called with bytes the guest transmitted. Must not block. */
  write(bytes: Uint8Array): void;
}

/** A backend that discards output (`-serial null`). */
export const NULL_CHAR_BACKEND: CharBackend = { write: () => {} };
