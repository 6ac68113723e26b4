#!/usr/bin/env bash
# Prints scripts/host-needs.tsv with where each need was found, and fails naming every need that
# is missing: run after setup-host.sh, so a package left out of the table fails here, before tests.
set -uo pipefail
cd "$(dirname "$0")/.."
PATH="$PATH:/usr/sbin:/sbin:/usr/bin:/bin"
missing=()
printf '%-28s %-18s %s\n' NEED PACKAGE FOUND
while IFS=$'\t' read -r need package; do
  case "$need" in '#'* | '') continue ;; esac
  if [[ "$need" == /* ]]; then found=$([ -e "$need" ] && echo "$need"); else found=$(command -v -- "$need"); fi
  [ -n "$found" ] || { found=MISSING; missing+=("$need ($package)"); }
  printf '%-28s %-18s %s\n' "$need" "$package" "$found"
done < scripts/host-needs.tsv
if [ ${#missing[@]} -gt 0 ]; then
  echo "host needs missing after set-up: ${missing[*]}" >&2
  exit 1
fi
