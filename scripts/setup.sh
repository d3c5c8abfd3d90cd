#!/usr/bin/env bash
# Set up a Debian/Ubuntu machine for the app and its tests: the system libraries Qt needs, then
# .venv with the project (editable) and its test tools. Safe to run again. CI runs it too.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi
# Python's venv, then what Qt needs to draw at all (offscreen, as in the tests), then the
# X11/xcb libraries for a real window, then what Qt WebEngine (the page view) needs.
"${as_root[@]}" apt-get update
asound=libasound2  # Ubuntu 24.04 renamed it
if apt-cache show libasound2t64 >/dev/null 2>&1; then
    asound=libasound2t64
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    python3-venv \
    libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0 libxkbcommon0 \
    libx11-xcb1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
    libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 \
    libnss3 libnspr4 "$asound" libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxkbfile1 \
    libgbm1 libdrm2 libxcb-dri3-0 libxfixes3 libxrender1 libxext6

python3 -m venv .venv
.venv/bin/python -m pip install --disable-pip-version-check -e '.[test]'
