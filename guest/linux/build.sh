#!/bin/sh
# Builds the replayvm Linux guest: an RV32 Linux 6.1 kernel (Debian's linux-source-6.1) with a
# built-in initramfs holding our shell (userland/init.c on the kernel's nolibc), and writes
#   guest/linux/build/Image.gz, System.map.gz, config, SHA256SUMS.
# Run as root (or with sudo available) on Debian bookworm; it apt-get installs what it needs.
#
# Environment:
#   WORK=DIR   work directory (default /tmp/replayvm-linux-build); the source is unpacked once
#              and rebuilt incrementally; CLEAN=1 starts from a fresh unpack.
#   JOBS=N     make -j (default 2)
#   OUT=DIR    where the artifacts go (default guest/linux/build next to this script)
#
# Reproducible: fixed SOURCE_DATE_EPOCH / KBUILD_BUILD_TIMESTAMP / USER / HOST / VERSION, the
# initramfs from a gen_init_cpio list with fixed owners and times, gzip -n.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/tmp/replayvm-linux-build}
JOBS=${JOBS:-2}
OUT=${OUT:-$HERE/build}
KVER=6.1
SRC=$WORK/linux-source-$KVER

# 2024-01-01 00:00:00 UTC: every timestamp that ends up in the image.
SOURCE_DATE_EPOCH=1704067200
KBUILD_BUILD_TIMESTAMP=$(LC_ALL=C date -u -d "@$SOURCE_DATE_EPOCH")
KBUILD_BUILD_USER=replayvm
KBUILD_BUILD_HOST=replayvm
KBUILD_BUILD_VERSION=1
export SOURCE_DATE_EPOCH KBUILD_BUILD_TIMESTAMP KBUILD_BUILD_USER KBUILD_BUILD_HOST KBUILD_BUILD_VERSION
export LC_ALL=C TZ=UTC

KMAKE="make -C $SRC ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- -j$JOBS"
# The userland uses the bare-metal toolchain only because its multilib ships an rv32imac/ilp32
# libgcc (64-bit division helpers); nolibc needs nothing else from a C library.
UCC=riscv64-unknown-elf-gcc

T0=$(date +%s)
STEP_T=""
step() { # name: ends the previous step (printing its time) and starts the next
  now=$(date +%s)
  [ -z "$STEP_T" ] || echo "==> done in $((now - STEP_T)) s"
  STEP_T=$now
  echo "==> $1"
}

step "packages"
PKGS="linux-source-$KVER gcc-riscv64-linux-gnu gcc-riscv64-unknown-elf build-essential bc flex bison cpio xz-utils gzip make libssl-dev rsync"
missing=""
for p in $PKGS; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing:$missing"
  $SUDO apt-get update
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
fi
SRCVER=$(dpkg-query -W -f '${Version}' "linux-source-$KVER")
echo "linux-source-$KVER $SRCVER; $(riscv64-linux-gnu-gcc --version | head -1); $($UCC --version | head -1)"

step "unpack /usr/src/linux-source-$KVER.tar.xz into $WORK"
mkdir -p "$WORK"
if [ "${CLEAN:-0}" = 1 ] || [ "$(cat "$SRC/.replayvm-source" 2>/dev/null)" != "$SRCVER" ]; then
  rm -rf "$SRC"
  tar -C "$WORK" -xf "/usr/src/linux-source-$KVER.tar.xz"
  echo "$SRCVER" > "$SRC/.replayvm-source"
else
  echo "already unpacked ($SRCVER)"
fi

step "kernel UAPI headers for the userland"
$KMAKE -s INSTALL_HDR_PATH="$WORK/uapi" headers_install

step "userland: init (PID 1 shell) with nolibc"
mkdir -p "$WORK/rootfs"
# shellcheck disable=SC2086
$UCC -march=rv32imac -mabi=ilp32 -Os -g0 -Wall -Wextra -static -nostdlib -ffreestanding -fno-builtin \
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-ident \
  -ffile-prefix-map="$HERE"=. -ffile-prefix-map="$SRC"=linux \
  -I "$SRC/tools/include/nolibc" -I "$WORK/uapi/include" \
  -Wl,--build-id=none -s -o "$WORK/rootfs/init" "$HERE/userland/init.c" -lgcc
touch -h -d "@$SOURCE_DATE_EPOCH" "$WORK/rootfs/init"
ls -l "$WORK/rootfs/init"

# gen_init_cpio list: fixed owners; directories and nodes get KBUILD_BUILD_TIMESTAMP, the file its
# mtime (set above).
cat > "$WORK/initramfs.list" <<EOF
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /proc 0755 0 0
dir /sys 0755 0 0
dir /tmp 1777 0 0
file /init $WORK/rootfs/init 0755 0 0
EOF

step "configure: rv32_defconfig + config-fragment"
$KMAKE -s rv32_defconfig
echo "CONFIG_INITRAMFS_SOURCE=\"$WORK/initramfs.list\"" > "$WORK/config-initramfs"
(cd "$SRC" && ARCH=riscv CROSS_COMPILE=riscv64-linux-gnu- \
  scripts/kconfig/merge_config.sh -m .config "$HERE/config-fragment" "$WORK/config-initramfs" >/dev/null)
$KMAKE -s olddefconfig
# Report fragment lines that Kconfig did not keep (dependencies the fragment does not satisfy).
bad=0
while IFS= read -r l; do
  case "$l" in
    CONFIG_*=*) want=$l ;;
    "# CONFIG_"*" is not set") want=$l ;;
    *) continue ;;
  esac
  opt=$(echo "$want" | sed -e 's/^# //' -e 's/[= ].*//')
  have=$(grep -E "^($opt=|# $opt is not set)" "$SRC/.config" || true)
  if [ "$have" != "$want" ]; then
    # An option that does not exist at all counts as "not set".
    case "$want" in "# "*) [ -z "$have" ] && continue ;; esac
    echo "config: wanted '$want', got '${have:-<absent>}'"
    bad=1
  fi
done < "$HERE/config-fragment"
[ $bad = 0 ] && echo "config: every fragment line applied"

step "build Image (make -j$JOBS)"
$KMAKE Image

step "artifacts into $OUT"
mkdir -p "$OUT"
IMG=$SRC/arch/riscv/boot/Image
gzip -9 -n -c "$IMG" > "$OUT/Image.gz"
gzip -9 -n -c "$SRC/System.map" > "$OUT/System.map.gz"
# The committed config names the initramfs list relative to the work directory, so it does not
# depend on WORK (everything else in it, and the Image, never did).
sed "s|^CONFIG_INITRAMFS_SOURCE=\"$WORK/|CONFIG_INITRAMFS_SOURCE=\"\$WORK/|" "$SRC/.config" > "$OUT/config"
(
  cd "$OUT"
  sha256sum Image.gz System.map.gz config
  echo "$(sha256sum < "$IMG" | cut -d' ' -f1)  Image (uncompressed: zcat Image.gz)"
) > "$OUT/SHA256SUMS.tmp"
mv "$OUT/SHA256SUMS.tmp" "$OUT/SHA256SUMS"
ls -l "$OUT" "$IMG"
cat "$OUT/SHA256SUMS"
strings "$IMG" | grep -m1 '^Linux version' || true
step "finished"
echo "total $(( $(date +%s) - T0 )) s"
