#!/usr/bin/env bash
# CLI start-up cost: `tsdock --version` and `tsdock images` on an empty store against the `node -e 0` floor.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
n=${1:-30}
t() { local s e; s=$(date +%s%N); for ((i = 0; i < n; i++)); do "$@" >/dev/null; done; e=$(date +%s%N); echo $(((e - s) / n / 1000000)); }
floor=$(t node -e 0)
ver=$(t bin/tsdock --version)
imgs=$(t bin/tsdock --root "$root" images)
echo "node -e 0:          ${floor} ms"
echo "tsdock --version:   ${ver} ms ($(awk "BEGIN{printf \"%.2f\", $ver/$floor}")x)"
echo "tsdock images:      ${imgs} ms ($(awk "BEGIN{printf \"%.2f\", $imgs/$floor}")x)"
