/**
 * Format probing as QEMU does it when `-drive` names no format: the first sector decides.
 * replayvm opens raw and qcow2; the other formats QEMU would recognise are listed too, because
 * a write that would make a probed raw image look like one of them is refused (QEMU's
 * raw-format.c: a guest must not turn its raw disk into, say, a qcow2 image whose backing file
 * the host then opens on the next boot).
 */
/** How many bytes probing reads (QEMU's BLOCK_PROBE_BUF_SIZE). */
export const PROBE_SIZE = 512;

/** A format recognised by fixed bytes at a fixed offset of the first sector. */
interface Magic {
  readonly format: string;
  readonly offset: number;
  readonly bytes: readonly number[];
}

const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));

/** The magics of QEMU's format drivers (each driver's probe function), qcow2's first. */
const MAGICS: readonly Magic[] = [
  { format: 'qcow2', offset: 0, bytes: [0x51, 0x46, 0x49, 0xfb] }, // "QFI\xfb", version 2 or 3
  { format: 'qed', offset: 0, bytes: [0x51, 0x45, 0x44, 0x00] },
  { format: 'luks', offset: 0, bytes: [...ascii('LUKS'), 0xba, 0xbe] },
  { format: 'vmdk', offset: 0, bytes: ascii('KDMV') },
  { format: 'vmdk', offset: 0, bytes: ascii('COWD') },
  { format: 'vmdk', offset: 0, bytes: ascii('# Disk DescriptorFile') },
  { format: 'vpc', offset: 0, bytes: ascii('conectix') },
  { format: 'vhdx', offset: 0, bytes: ascii('vhdxfile') },
  { format: 'vdi', offset: 0x40, bytes: [0x7f, 0x10, 0xda, 0xbe] },
  { format: 'parallels', offset: 0, bytes: ascii('WithoutFreeSpace') },
  { format: 'parallels', offset: 0, bytes: ascii('WithouFreSpacExt') },
  { format: 'bochs', offset: 0, bytes: ascii('Bochs Virtual HD Image') },
];

/**
 * The format QEMU would guess from the first bytes of an image (`head`, up to PROBE_SIZE
 * bytes): 'raw' when no other format's magic is there.
 */
export function guessFormat(head: Uint8Array): string {
  // "QFI\xfb" version 1 is QEMU's older qcow format, which replayvm does not open.
  if (head.length >= 8 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb
    && head[4] === 0 && head[5] === 0 && head[6] === 0 && head[7] === 1) return 'qcow';
  for (const m of MAGICS) {
    if (head.length >= m.offset + m.bytes.length && m.bytes.every((b, i) => head[m.offset + i] === b)) return m.format;
  }
  return 'raw';
}

