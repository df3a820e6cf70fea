/** The bundled Linux guest as the issue-5 and issue-6 benchmarks use it. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { REPO_ROOT } from '../test/helpers/run-vm.js';

/** The shell's prompt (guest/linux/userland/init.c), at the start of a line. */
export const PROMPT = '\n# ';
/** The committed kernel (replayvm loads it compressed). */
export const IMAGE_GZ = join(REPO_ROOT, 'guest', 'linux', 'build', 'Image.gz');
/** Our C SBI firmware, for QEMU (Debian ships no rv32 OpenSBI). */
export const FIRMWARE = join(REPO_ROOT, 'guest', 'firmware', 'build', 'replayvm-sbi.bin');

/** The kernel decompressed. */
export function kernelImage(): Uint8Array {
  return new Uint8Array(gunzipSync(readFileSync(IMAGE_GZ)));
}

/** Writes the decompressed kernel to `dir/Image` (QEMU 7.2 does not load gzip) and returns the path. */
export function writeKernelImage(dir: string): string {
  const path = join(dir, 'Image');
  writeFileSync(path, kernelImage());
  return path;
}
