"""Every string the window shows has a Chinese translation, and the compiled .qm is current."""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TS = ROOT / "resources" / "translations" / "fieldapp_zh_CN.ts"
QM = TS.with_suffix(".qm")


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(ts).getroot()
    return {(c.findtext("name"), m.findtext("source")): m for c in root.iter("context") for m in c.iter("message")}


def _tool(name: str) -> str:
    found = shutil.which(f"pyside6-{name}", path=str(Path(sys.executable).parent)) or shutil.which(f"pyside6-{name}")
    if not found:
        pytest.fail(f"pyside6-{name} is part of PySide6 and must be installed")
    return found


def test_every_ui_string_is_in_the_ts_and_translated(tmp_path):
    fresh = tmp_path / "fresh.ts"
    sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "ui").glob("*.py"))
    subprocess.run([_tool("lupdate"), "-silent", "-locations", "none", *sources, "-ts", str(fresh)],
                   cwd=ROOT, check=True)
    wanted = set(_messages(fresh))
    committed = _messages(TS)
    missing = wanted - set(committed)
    assert not missing, f"run scripts/i18n.py and translate: {sorted(missing)[:5]}"
    untranslated = [key for key in wanted
                    if committed[key].find("translation").get("type") in ("unfinished", "vanished", "obsolete")
                    or not "".join(committed[key].find("translation").itertext()).strip()]
    assert not untranslated, f"not translated: {untranslated[:5]}"


def test_compiled_qm_matches_the_ts(tmp_path):
    rebuilt = tmp_path / "fieldapp_zh_CN.qm"
    subprocess.run([_tool("lrelease"), "-silent", str(TS), "-qm", str(rebuilt)], check=True)
    assert rebuilt.read_bytes() == QM.read_bytes(), "run scripts/i18n.py to recompile the .qm"


def test_qm_translates_in_qt(qapp):
    from PySide6.QtCore import QTranslator

    t = QTranslator()
    assert t.load(str(QM))
    assert t.translate("TaskTableModel", "Overdue") == "逾期"
    assert t.translate("FilterBar", "Tasks: %1") == "共 %1 项任务"
