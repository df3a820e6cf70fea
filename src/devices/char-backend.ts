/**
 * The character backend a serial device talks to: the device writes bytes out through it;
 * the host pushes input bytes into the device (e.g. `Uart16550.receive`). Console input is
 * non-deterministic and will be recorded at this boundary, never inside the device.
 */
export interface CharBackend {
  /** Called with bytes the guest transmitted. Must not block. */
  write(bytes: Uint8Array): void;
  /**
   * The device took input out of its receiver and can accept more (QEMU's
   * qemu_chr_fe_accept_input): input the host holds back for lack of room can go in now.
   */
  acceptInput?(): void;
}

/** A backend that discards output (`-serial null`). */
export const NULL_CHAR_BACKEND: CharBackend = { write: () => {} };
