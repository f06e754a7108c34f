"""The layer rules of DESIGN.md: the core imports no Qt, no ui, no sync."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / ("lint-imports.exe" if os.name == "nt" else "lint-imports")


def run_lint(cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(cwd))
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True,
                          encoding="utf-8", env=env, timeout=300)


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")
def test_import_contracts_kept():
    out = run_lint(REPO)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
    assert "Core knows nothing of Qt, ui or sync KEPT" in out.stdout


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter not installed")
def test_import_contracts_catch_a_violation(tmp_path):
    """The contracts bite: a copy of the code whose core imports Qt fails the lint."""
    for pkg in ("fieldapp", "ui", "sync"):
        shutil.copytree(REPO / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    domain = tmp_path / "fieldapp" / "domain.py"
    domain.write_text(domain.read_text(encoding="utf-8") + "\nfrom PySide6 import QtCore  # noqa\n",
                      encoding="utf-8")
    out = run_lint(tmp_path)
    assert out.returncode != 0, out.stdout
    assert "Core knows nothing of Qt, ui or sync BROKEN" in out.stdout
    assert "fieldapp.domain -> PySide6" in out.stdout


CHILD = textwrap.dedent("""
    import contextlib, io, json, sys
    from fieldapp.cli import main

    data_dir = sys.argv[1]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc_stats = main(["stats", "--json", "--data-dir", data_dir])
        rc_verify = main(["verify", "--data-dir", data_dir])
    qt = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6", "ui", "sync"))
    print(json.dumps({"stats": rc_stats, "verify": rc_verify, "qt": qt,
                      "out": buf.getvalue()}, ensure_ascii=False))
""")


def test_command_line_never_loads_qt(tmp_path):
    data_dir = tmp_path / "data"
    out = subprocess.run([sys.executable, "-c", CHILD, str(data_dir)], capture_output=True,
                         text=True, encoding="utf-8", timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["stats"] == 0 and result["verify"] == 0
    assert '"tables"' in result["out"]  # the commands really ran
    assert result["qt"] == []


def test_core_modules_import_without_qt():
    code = textwrap.dedent("""
        import sys, pkgutil, importlib, fieldapp
        for m in pkgutil.walk_packages(fieldapp.__path__, "fieldapp."):
            if m.name in ("fieldapp.__main__", "fieldapp.migrations.env") or ".versions." in m.name:
                continue
            importlib.import_module(m.name)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "ui", "sync")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
