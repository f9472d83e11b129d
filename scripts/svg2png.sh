#!/usr/bin/env bash
# svg2png.sh IN.svg OUT.png [SCALE] — render a Textual SVG screenshot with headless Chromium.
set -euo pipefail
in=$(readlink -f "$1"); out=$(readlink -m "$2"); scale=${3:-1}
read -r W H < <(grep -o 'viewBox="[^"]*"' "$in" | head -1 | tr -d '"' \
    | awk '{printf "%d %d\n", $3+0.999, $4+0.999}')
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --force-device-scale-factor="$scale" \
    --window-size="$W,$H" --screenshot="$out" "file://$in" >/dev/null 2>&1
