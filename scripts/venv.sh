# Shared by run.sh and test.sh: create .venv and (re)install when pyproject.toml changes.
ensure_venv() {
    local extras="$1"
    local python="${PYTHON:-python3}"
    local stamp=".venv/.installed${extras}"
    if [ ! -x .venv/bin/python ]; then
        echo "Creating .venv (first run, takes a minute)…" >&2
        "$python" -m venv .venv
    fi
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --upgrade pip >&2
        .venv/bin/python -m pip install --quiet -e ".${extras}" >&2
        touch "$stamp"
    fi
}
