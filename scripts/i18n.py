"""Refresh the translation sources and compile them: `python scripts/i18n.py`.

lupdate collects every tr() string of ui/ into resources/translations/fieldapp_zh_CN.ts
(keeping the translations already there); translate new entries with Qt Linguist
(`pyside6-linguist`), then run this again to compile the .qm files the app loads.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TS_DIR = ROOT / "resources" / "translations"
LANGS = ["zh_CN"]


def tool(name: str) -> str:
    found = shutil.which(f"pyside6-{name}", path=str(Path(sys.executable).parent)) or shutil.which(f"pyside6-{name}")
    if not found:
        raise SystemExit(f"pyside6-{name} not found: install PySide6 in this environment")
    return found


def main() -> None:
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.py"))
    for lang in LANGS:
        ts = TS_DIR / f"fieldapp_{lang}.ts"
        subprocess.run([tool("lupdate"), "-no-obsolete", "-locations", "none", *sources, "-ts", str(ts)],
                       cwd=ROOT, check=True)
        subprocess.run([tool("lrelease"), str(ts), "-qm", str(ts.with_suffix(".qm"))], cwd=ROOT, check=True)


if __name__ == "__main__":
    main()
