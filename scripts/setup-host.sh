#!/usr/bin/env bash
# Installs the Debian packages of scripts/host-needs.tsv (the host tools the tests use as real parts
# or as oracles, and those the engine runs) when any is missing, then fetches the Debian fixtures.
# Idempotent and quick when everything is there. Needs root to install.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t APT_PACKAGES < <(grep -v '^#' scripts/host-needs.tsv | cut -f2 | sort -u)
missing=()
# Installed means "install ok installed": `dpkg -s` also succeeds for a package removed but not
# purged (its config files left), which would then never be installed again.
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
for p in "${APT_PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
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
