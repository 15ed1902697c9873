#!/usr/bin/env bash
# Make sure a headless-capable Chromium is on PATH for the HTML report test
# (tests/test_postprocess_report.py). Safe to re-run: does nothing when one is already there.
# Installs Debian's `chromium` package with apt-get when missing (needs root or sudo).
set -euo pipefail

for candidate in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$candidate" >/dev/null 2>&1; then
        echo "chromium: using $(command -v "$candidate")"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: not found and apt-get is unavailable; install Chromium by hand" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo_cmd=()
elif command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
else
    echo "chromium: not found; run 'apt-get install -y chromium' as root" >&2
    exit 1
fi

echo "chromium: installing Debian package 'chromium'"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
