#!/usr/bin/env bash
# Installs what turning screenshots/*.svg into faithful PNGs needs (Debian packages):
# headless Chromium plus the fonts the SVGs ask for (Fira Code, colour emoji, symbols).
set -euo pipefail
if command -v chromium >/dev/null && fc-list | grep -qi "fira code"; then
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q chromium fonts-firacode fonts-noto-color-emoji fonts-symbola fonts-noto-cjk fontconfig
