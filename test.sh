#!/usr/bin/env bash
# Run every test; on first use, create .venv and install FieldApp with its test tools.
# Extra arguments go to pytest (e.g. ./test.sh -k photos). Raise soak rounds with
# FIELDAPP_KILL_ROUNDS=200 or FIELDAPP_FUZZ_EXAMPLES=20000.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv "[test]"
export QT_QPA_PLATFORM=offscreen
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
