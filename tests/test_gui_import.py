"""Importing an Excel task list through the window: preview, mapping by hand, import."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from fieldapp.models import Task

pytestmark = pytest.mark.gui


def task_list(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "督查任务清单"
    ws.append(["2026年重点工作督查任务清单"])
    ws.append(["序号", "任务编号", "督查事项", "责任单位", "完成时限", "所属区县", "备注"])
    ws.append([1, "RW-001", "推进老旧小区改造 30 个", "市住建局、西湖区政府", "2026年12月底前", "西湖区", ""])
    ws.append([2, "RW-002", "河道保洁长效管理", "市林水局", "长期坚持", "上城区", "重点"])
    ws.append([3, "RW-003", "农贸市场提升改造", "市市场监管局；拱墅区政府", "6月底前", "拱墅区", ""])
    ws.append(["合计", None, "3 项", None, None, None, None])
    wb.save(path)
    return path



def open_import(qtbot, window, path):
    window.import_tasks(path)
    qtbot.waitUntil(lambda: _dialog(window) is not None and _dialog(window).preview is not None, timeout=30000)
    return _dialog(window)


def _dialog(window):
    from ui.import_dialog import ImportDialog

    found = [d for d in window.findChildren(ImportDialog) if d.isVisible()]
    return found[-1] if found else None


def test_preview_remap_and_import(qtbot, store, window, tmp_path):
    path = task_list(tmp_path / "清单.xlsx")
    dialog = open_import(qtbot, window, path)
    assert "第 2 行" in dialog.sheet_info.text()
    rows = dialog.rows.rows
    assert [r.status for r in rows if r.status == "new"] == ["new"] * 3
    assert any(r.status == "skipped" for r in rows)  # the title and 合计 rows, with a reason
    summary = dialog.summary.text()
    assert "新增 3" in summary
    # The "所属区县" column feeds region; take it out by hand and the preview follows.
    region_row = next(i for i in range(dialog.columns.rowCount()) if dialog.columns.item(i, 1).text() == "所属区县")
    combo = dialog.columns.cellWidget(region_row, 2)
    assert combo.currentData() == "region"
    combo.setCurrentIndex(combo.findData(None))
    qtbot.waitUntil(lambda: dialog.preview.sheet("督查任务清单").mapping.get("region") is None, timeout=10000)
    assert all(not r.values.get("region") for r in dialog.rows.rows if r.status == "new")
    # … and back
    combo = dialog.columns.cellWidget(region_row, 2)
    combo.setCurrentIndex(combo.findData("region"))
    qtbot.waitUntil(lambda: dialog.preview.sheet("督查任务清单").mapping.get("region") is not None, timeout=10000)
    assert dialog.import_button.isEnabled()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=20000)
    assert "3" in window.statusBar().currentMessage()
    with store.session() as s:
        t = s.query(Task).filter_by(code="RW-002").one()
        assert t.deadline_kind == "open_ended" and t.deadline is None
    # the same file again: nothing to import
    dialog = open_import(qtbot, window, path)
    assert dialog.preview.counts()["unchanged"] == 3
    assert not dialog.import_button.isEnabled()
    dialog.reject()


def test_a_file_that_is_not_a_spreadsheet_is_refused_with_a_message(qtbot, store, window, tmp_path):
    bad = tmp_path / "清单.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a workbook at all" * 50)
    window.import_tasks(bad)
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets()),
                    timeout=30000)
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
    assert "清单.xlsx" in box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    assert _dialog(window) is None
    with store.session() as s:
        assert s.query(Task).count() == 0


def test_export_the_filtered_ledger_and_the_template(qtbot, store, window, tmp_path, monkeypatch):
    from fieldapp.demo import make_demo

    make_demo(store, tasks=40, seed=7)
    window.refresh()
    bar = window.filter_bar
    with qtbot.waitSignal(window.model.loaded, timeout=10000):  # filters answer from a reader thread
        bar.overdue.setChecked(True)
    shown = window.model.rowCount()
    assert 0 < shown < 40
    out = tmp_path / "台账.xlsx"
    monkeypatch.setattr("ui.main_window.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    window.export_actions["tasks"].trigger()
    qtbot.waitUntil(lambda: out.exists() and window.runner.idle(), timeout=30000)
    assert str(out) in window.statusBar().currentMessage()
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    codes = [c.value for c in ws["B"] if isinstance(c.value, str) and c.value.startswith("DC-")]
    assert len(codes) == shown  # the ledger lists what the table shows

    template = tmp_path / "模板"
    monkeypatch.setattr("ui.main_window.QFileDialog.getSaveFileName", lambda *a, **k: (str(template), ""))
    window.template_action.trigger()
    qtbot.waitUntil(lambda: template.with_suffix(".xlsx").exists() and window.runner.idle(), timeout=30000)
    assert openpyxl.load_workbook(template.with_suffix(".xlsx")).worksheets


def test_a_mapping_set_by_hand_is_kept_for_the_next_import(qtbot, store, window, tmp_path):
    path = task_list(tmp_path / "清单.xlsx")
    dialog = open_import(qtbot, window, path)
    units_row = next(i for i in range(dialog.columns.rowCount()) if dialog.columns.item(i, 1).text() == "责任单位")
    combo = dialog.columns.cellWidget(units_row, 2)
    combo.setCurrentIndex(combo.findData("lead_unit"))
    qtbot.waitUntil(lambda: dialog.preview.sheet("督查任务清单").mapping.get("lead_unit") is not None, timeout=10000)
    dialog.import_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=20000)
    with store.session() as s:
        assert s.query(Task).filter_by(code="RW-001").one().lead_unit == "市住建局、西湖区政府"
    # next time the same list comes in, the hand-made mapping holds: nothing would be wiped
    again = open_import(qtbot, window, path)
    assert again.preview.sheet("督查任务清单").mapping.get("lead_unit") == 3
    assert again.preview.counts()["unchanged"] == 3 and again.preview.counts()["changed"] == 0
    again.reject()


def test_rows_read_with_warnings_stand_out(qtbot, store, window, tmp_path):
    from ui.import_dialog import WARNING_COLOUR

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["任务编号", "督查事项", "责任单位", "完成时限"])
    ws.append(["Q-1", "季度调度会", "市发改委", "每季度"])
    ws.append(["Q-2", "年底完成改造", "市住建局", "2026年12月底前"])
    path = tmp_path / "季度.xlsx"
    wb.save(path)
    dialog = open_import(qtbot, window, path)
    assert "1 行有警告" in dialog.summary.text()
    colours = {}
    for i, r in enumerate(dialog.rows.rows):
        if r.status == "new":
            brush = dialog.rows.data(dialog.rows.index(i, 0), Qt.ItemDataRole.BackgroundRole)
            colours[r.values["code"]] = brush.color().name()
    assert colours["Q-1"] == WARNING_COLOUR and colours["Q-2"] != WARNING_COLOUR
    dialog.reject()
