#!/usr/bin/env bash
# Start FieldApp; on first use, create .venv and install it. Arguments go to `fieldapp`
# (e.g. ./run.sh demo, ./run.sh --data-dir /tmp/fa, ./run.sh --lang en).
set -euo pipefail
cd "$(dirname "$0")"
source scripts/venv.sh
ensure_venv ""
exec .venv/bin/fieldapp "$@"
