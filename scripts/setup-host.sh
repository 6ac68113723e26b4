#!/usr/bin/env bash
# Installs the host tools the tests use as real parts or as oracles (QEMU, Chromium, e2fsprogs,
# dosfstools, mtools, sfdisk, bmaptool, FUSE, compressors) when any is missing, then fetches the
# Debian fixtures. Idempotent and quick when everything is there. Needs root to install.
set -euo pipefail
cd "$(dirname "$0")/.."
APT_PACKAGES=(
  chromium qemu-system-arm qemu-utils e2fsprogs dosfstools mtools fdisk bmap-tools xz-utils zstd
  bzip2 gzip tar zip u-boot-tools fuse3 libfuse3-dev pkg-config kmod attr util-linux gcc make g++ python3
  shellcheck cloud-init
)
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-host: missing packages (${missing[*]}); run as root to install them" >&2
  else
    echo "setup-host: installing ${missing[*]}"
    for try in 1 2 3; do apt-get update -qq && break; echo "apt-get update failed (try $try); using the lists it has" >&2; sleep 5; done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/tmp/cardsmith-apt.log 2>&1 \
      || { tail -20 /tmp/cardsmith-apt.log >&2; exit 1; }
  fi
fi
bash scripts/fixtures.sh
