#!/bin/sh
# Builds replayvm-sbi, our M-mode SBI firmware, into
#   guest/firmware/build/replayvm-sbi.elf   (for debugging: symbols, no debug info)
#   guest/firmware/build/replayvm-sbi.bin   (flat image for `-bios FILE`, loaded at 0x80000000)
#   guest/firmware/build/sbi-test.elf       (S-mode SBI exerciser: -kernel build/sbi-test.elf)
# and writes build/SHA256SUMS. Deterministic: no debug info, no build-id, fixed object names and
# link order, source paths mapped away. Installs gcc-riscv64-unknown-elf with apt-get if missing.
# Usage: guest/firmware/build.sh     (run from anywhere)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CROSS=${CROSS:-riscv64-unknown-elf-}
CC=${CROSS}gcc
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "build.sh: $CC missing, installing gcc-riscv64-unknown-elf" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update && $SUDO apt-get install -y gcc-riscv64-unknown-elf
fi
cd "$HERE"
mkdir -p build
# -mno-relax: the firmware runs with S-mode's gp in the register file, so no gp-relative code.
CFLAGS="-march=rv32imac_zicsr_zifencei -mabi=ilp32 -mcmodel=medany -mno-relax -Os -g0 -Wall -Wextra \
  -nostdlib -nostartfiles -ffreestanding -fno-builtin -fno-common -fno-pic -fno-stack-protector \
  -fno-asynchronous-unwind-tables -fno-ident -ffunction-sections \
  -ffile-prefix-map=$HERE=. -fmacro-prefix-map=$HERE=."
LDFLAGS="-static -T link.ld -Wl,--build-id=none -Wl,--no-relax -Wl,--no-warn-rwx-segments -Wl,--gc-sections"
obj=build/obj
rm -rf "$obj"; mkdir -p "$obj"
objs=""
for src in start.S sbi.c fdt.c lib.c; do
  o="$obj/$src.o"
  # shellcheck disable=SC2086
  $CC $CFLAGS -c -o "$o" "$src"
  objs="$objs $o"
done
# shellcheck disable=SC2086
$CC $CFLAGS $LDFLAGS -o build/replayvm-sbi.elf $objs
rm -rf "$obj"
${CROSS}objcopy -O binary build/replayvm-sbi.elf build/replayvm-sbi.bin
# The S-mode SBI exerciser (test/sbi-test.c), loaded with -kernel.
mkdir -p "$obj"
# shellcheck disable=SC2086
$CC $CFLAGS -c -o "$obj/entry.S.o" test/entry.S
# shellcheck disable=SC2086
$CC $CFLAGS -c -o "$obj/sbi-test.c.o" test/sbi-test.c
# shellcheck disable=SC2086
$CC $CFLAGS -static -T test/link.ld -Wl,--build-id=none -Wl,--no-relax -Wl,--no-warn-rwx-segments \
  -o build/sbi-test.elf "$obj/entry.S.o" "$obj/sbi-test.c.o"
rm -rf "$obj"
${CROSS}size build/replayvm-sbi.elf build/sbi-test.elf
cd build
LC_ALL=C sha256sum replayvm-sbi.bin replayvm-sbi.elf sbi-test.elf > SHA256SUMS
cat SHA256SUMS
