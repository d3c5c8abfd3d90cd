#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it; extra arguments go to pytest (e.g. -k drop).
set -euo pipefail
cd "$(dirname "$0")/.."
QT_QPA_PLATFORM=offscreen exec .venv/bin/python -m pytest -q "$@"
