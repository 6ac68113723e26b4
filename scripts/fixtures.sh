#!/usr/bin/env bash
# Fetches the real Debian packages the tests use (U-Boot builds, kernels, busybox) with
# `apt-get download` — never installed — and unpacks each with dpkg-deb into an ignored cache:
#   .cache/debs/<name>_<arch>.deb      the package as downloaded (stable name)
#   .cache/fixtures/<name>_<arch>/     its unpacked contents
# Kernel flavour metapackages are empty, so the versioned kernel they depend on is resolved first.
# Idempotent: what is already unpacked is kept. Needs root once, to enable armhf and arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${CARDSMITH_FIXTURES:-$PWD/.cache}"
mkdir -p "$CACHE/debs" "$CACHE/fixtures"

PACKAGES=(
  u-boot-sunxi:armhf u-boot-sunxi:arm64 u-boot-rockchip:arm64 u-boot-rockchip:armhf u-boot-imx:armhf u-boot-omap:armhf
  u-boot-rpi:arm64 u-boot-rpi:armhf u-boot-exynos:armhf u-boot-amlogic:arm64 u-boot-tegra:armhf
  u-boot-qemu:all busybox-static:armhf busybox-static:arm64
  linux-image-armmp:armhf linux-image-arm64:arm64
)

need_arch() {
  if ! dpkg --print-foreign-architectures | grep -qx "$1"; then
    if [ "$(id -u)" -ne 0 ]; then echo "fixtures: run once as root to enable the $1 architecture" >&2; exit 1; fi
    dpkg --add-architecture "$1"
    NEED_UPDATE=1
  fi
}
NEED_UPDATE=0
need_arch armhf
need_arch arm64
if [ "$NEED_UPDATE" = 1 ] || [ -z "$(apt-cache policy u-boot-sunxi:armhf 2>/dev/null | grep Candidate)" ]; then
  apt-get update -qq || apt-get update -qq || echo "fixtures: apt-get update reported errors; continuing with the lists it has" >&2
fi

# linux-image-armmp:armhf -> linux-image-6.1.0-NN-armmp:armhf (the metapackage's kernel)
resolve() {
  local name="${1%%:*}" arch="${1##*:}"
  case "$name" in
    linux-image-armmp|linux-image-arm64)
      local dep
      dep=$(apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
      [ -n "$dep" ] || { echo "fixtures: cannot resolve the kernel behind $1" >&2; exit 1; }
      echo "${dep%%:*}:$arch" ;;
    *) echo "$1" ;;
  esac
}

download() { # $1 = package[:arch] to fetch, $2 = stable file name
  local tries=0
  local tmp; tmp=$(mktemp -d); chmod 777 "$tmp"
  until (cd "$tmp" && apt-get download -qq "$1" 2>/dev/null); do
    tries=$((tries + 1)); [ $tries -lt 5 ] || { echo "fixtures: apt-get download $1 failed" >&2; exit 1; }
    sleep 3
  done
  mv "$tmp"/*.deb "$2.part" && mv "$2.part" "$2"
  rm -rf "$tmp"
}

for spec in "${PACKAGES[@]}"; do
  stable="${spec/:/_}"
  deb="$CACHE/debs/$stable.deb"
  dir="$CACHE/fixtures/$stable"
  [ -f "$dir/.complete" ] && continue
  [ -f "$deb" ] || download "$(resolve "$spec")" "$deb"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  dpkg-deb -x "$deb" "$dir.tmp"
  dpkg-deb -f "$deb" Package Version Architecture > "$dir.tmp/.complete"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  echo "fixtures: $stable $(sed -n 2p "$dir/.complete")"
done

# Debian kernel packages ship no modules.dep; generate it so an initramfs can load modules in order.
for k in "$CACHE"/fixtures/linux-image-*; do
  for moddir in "$k"/lib/modules/*; do
    [ -d "$moddir" ] || continue
    [ -f "$moddir/modules.dep" ] || /sbin/depmod -b "$k" "$(basename "$moddir")"
  done
done
echo "fixtures: ready in $CACHE"
