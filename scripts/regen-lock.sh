#!/usr/bin/env bash
# Regenerates package-lock.json from package.json alone (no node_modules), so optional
# platform packages are all recorded and `npm ci` works on a clean clone. Run after adding a
# dependency. (The registry mirror here lags for some platform builds; see the overrides and the
# @swc/core pin in package.json.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
cp "$root/package.json" "$tmp/"
(cd "$tmp" && npm install --package-lock-only --no-audit --no-fund >/dev/null)
cp "$tmp/package-lock.json" "$root/package-lock.json"
rm -rf "$tmp"
echo "package-lock.json regenerated"
