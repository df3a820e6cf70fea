#!/bin/sh
# Builds every bare-metal program into guest/baremetal/build/*.elf and writes build/SHA256SUMS.
# Deterministic: no debug info, no build-id, source paths mapped away, fixed link order.
# Usage: guest/baremetal/build.sh     (run from anywhere)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-riscv64-unknown-elf-gcc}
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "build.sh: $CC missing, installing gcc-riscv64-unknown-elf" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update && $SUDO apt-get install -y gcc-riscv64-unknown-elf
fi
cd "$HERE"
mkdir -p build
CFLAGS="-march=rv32imac_zicsr_zifencei -mabi=ilp32 -mcmodel=medany -O2 -g0 -Wall -Wextra \
  -nostdlib -nostartfiles -ffreestanding -fno-builtin -fno-common -fno-pic \
  -ffile-prefix-map=$HERE=. -fdebug-prefix-map=$HERE=. -fmacro-prefix-map=$HERE=. -Isrc"
LDFLAGS="-static -T link.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments"
RT="src/crt0.S src/rt.c"

build() { # name sources...
  name=$1; shift
  # Compile to fixed object names (a temporary object name would end up in the symbol table).
  obj="build/obj"
  rm -rf "$obj"; mkdir -p "$obj"
  objs=""
  for src in $RT "$@"; do
    o="$obj/$(basename "$src").o"
    # shellcheck disable=SC2086
    $CC $CFLAGS -c -o "$o" "$src"
    objs="$objs $o"
  done
  # shellcheck disable=SC2086
  $CC $CFLAGS $LDFLAGS -o "build/$name.elf" $objs -lgcc
  rm -rf "$obj"
  echo "built build/$name.elf"
}

for name in demo fail-exit nop rv32i rv32m rv32a rv32c csr traps vm pmp interrupts devices; do
  extra=""
  [ -f "src/$name.S" ] && extra="src/$name.S"
  build "$name" "src/$name.c" $extra
done
# shellcheck disable=SC2046
build bench $(ls src/bench-*.c | LC_ALL=C sort)
CFLAGS="$CFLAGS -DROUNDS=60"
# shellcheck disable=SC2046
build bench-quick $(ls src/bench-*.c | LC_ALL=C sort)

cd build
LC_ALL=C sha256sum $(ls *.elf | LC_ALL=C sort) > SHA256SUMS
cat SHA256SUMS
