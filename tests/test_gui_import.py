"""Importing an Excel task list through the window: preview, mapping by hand, import."""

from __future__ import annotations

import datetime as dt
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


# --- a re-import of a changed list ------------------------------------------------------------

HEAD = ["序号", "任务编号", "督查事项", "责任单位", "完成时限", "所属区县"]


def _workbook(path: Path, rows: list[list], title_row: str | None = "2025年督查任务清单") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "督查任务清单"
    if title_row:
        ws.append([title_row])
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def _first_list(tmp_path: Path, more: int = 0) -> Path:
    rows = [[1, "DC-001", "推进老旧小区改造 30 个", "市住建局", dt.date(2025, 12, 31), "西湖区"],
            [2, "DC-002", "河道保洁长效管理", "市林水局、上城区政府", dt.date(2025, 6, 30), "上城区"],
            [3, "DC-003", "农贸市场提升改造", "市市场监管局", "长期坚持", "拱墅区"],
            [4, "DC-004", "城市公园绿道建设", "市园文局", dt.date(2025, 10, 31), "滨江区"]]
    rows += [[5 + i, f"DC-{5 + i:03d}", f"背街小巷环境整治第 {i + 1} 批", "市城管局", dt.date(2025, 11, 30), "余杭区"]
             for i in range(more)]
    return _workbook(tmp_path / "2025年督查任务清单.xlsx", [HEAD] + rows)


def _newer_list(tmp_path: Path) -> Path:
    return _workbook(tmp_path / "2025年督查任务清单（调整后）.xlsx", [HEAD] + [
        [1, "DC-001", "推进老旧小区改造 30 个", "市住建局", dt.date(2025, 12, 31), "西湖区"],
        [2, "DC-002", "河道保洁长效管理", "市林水局、上城区政府、拱墅区政府", dt.date(2025, 9, 30), "上城区"],
        [3, "DC-003", "农贸市场提升改造（二期）", "市市场监管局", "持续推进", "西湖区"],
        [5, "DC-101", "新建公共停车位 2000 个", "市交通局", dt.date(2025, 12, 31), "萧山区"],
    ])


def _imported(store, path: Path) -> None:
    from fieldapp.services import task_import

    task_import.apply(store, task_import.preview(store, path))


def _shown_rows(dialog) -> list:
    """The rows the table shows now, through its filter."""
    proxy = dialog.row_view.model()
    return [dialog.rows.rows[proxy.mapToSource(proxy.index(i, 0)).row()] for i in range(proxy.rowCount())]


def _details(dialog, code: str) -> str:
    i = next(i for i, r in enumerate(dialog.rows.rows) if r.values.get("code") == code)
    return dialog.rows.data(dialog.rows.index(i, 5), Qt.ItemDataRole.DisplayRole)


def test_the_show_filter_shows_exactly_the_rows_of_one_outcome(qtbot, store, window, tmp_path):
    _imported(store, _first_list(tmp_path))
    dialog = open_import(qtbot, window, _newer_list(tmp_path))
    counts = dialog.preview.counts()
    assert counts["changed"] == 2 and counts["unchanged"] == 1
    for status in ("changed", "unchanged", "new", "skipped"):
        dialog.show_only.setCurrentIndex(dialog.show_only.findData(status))
        shown = _shown_rows(dialog)
        assert [r.status for r in shown] == [status] * counts[status], status  # 变更 is not 无变化
    dialog.show_only.setCurrentIndex(dialog.show_only.findData(""))
    assert len(_shown_rows(dialog)) == len(dialog.rows.rows)
    dialog.reject()


def test_a_changed_row_names_each_change_once_as_a_person_names_it(qtbot, store, window, tmp_path):
    _imported(store, _first_list(tmp_path))
    dialog = open_import(qtbot, window, _newer_list(tmp_path))
    dc2 = _details(dialog, "DC-002")
    assert dc2.count("完成时限") == 1 and "完成时限：2025-06-30 → 2025-09-30" in dc2
    assert "责任单位：市林水局、上城区政府 → 市林水局、上城区政府、拱墅区政府" in dc2
    dc3 = _details(dialog, "DC-003")  # a new title (its content key follows), region and an open deadline
    assert "任务名称：农贸市场提升改造 → 农贸市场提升改造（二期）" in dc3
    assert dc3.count("所属区县") == 1 and "所属区县：拱墅区 → 西湖区" in dc3
    assert dc3.count("完成时限") == 1 and "完成时限：长期坚持 → 持续推进" in dc3
    for details in (dc2, dc3):
        for internal in ("deadline", "region", "import_key", "_kind", "_text", "_code", "_name"):
            assert internal not in details, details
    dialog.reject()


def test_tasks_missing_from_the_newer_file_are_named(qtbot, store, window, tmp_path):
    _imported(store, _first_list(tmp_path))
    dialog = open_import(qtbot, window, _newer_list(tmp_path))
    text = dialog.missing_label.text()
    assert dialog.missing_label.isVisible()
    assert "以下 1 个以前从同一清单导入的任务不在本文件中" in text and "DC-004 城市公园绿道建设" in text
    assert "不会删除" in text
    dialog.reject()


def test_many_missing_tasks_are_named_by_the_first_few(qtbot, store, window, tmp_path):
    _imported(store, _first_list(tmp_path, more=8))
    dialog = open_import(qtbot, window, _newer_list(tmp_path))
    text = dialog.missing_label.text()
    assert "以下 9 个" in text and "DC-004 城市公园绿道建设" in text and "等 9 个" in text
    assert "DC-012" not in text  # not all nine: the first few, the rest in the tooltip
    assert "DC-012" in dialog.missing_label.toolTip()
    dialog.reject()


# --- a sheet whose header is not recognised ---------------------------------------------------

def _choose(qtbot, dialog, column: int, field: str) -> None:
    """Choose `field` for `column` as a person does, and wait for the preview to follow."""
    combo = dialog.columns.cellWidget(column, 2)
    combo.setCurrentIndex(combo.findData(field))
    qtbot.waitUntil(dialog.runner.idle, timeout=10000)
    assert dialog.columns.cellWidget(column, 2).currentData() == field  # the table keeps the choice


@pytest.mark.parametrize("title_row", [None, "2026年交办清单"])
def test_a_sheet_without_a_recognisable_header_is_mapped_by_hand(qtbot, store, window, tmp_path, title_row):
    path = _workbook(tmp_path / "交办.xlsx", [["事情", "谁来办", "哪天"], ["修复破损路面", "市交通局", "2026-06-30"],
                                                ["河道清淤", "市林水局", "长期坚持"]], title_row=title_row)
    dialog = open_import(qtbot, window, path)  # no error box: the dialog opens for the mapping
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    banner = dialog.problem_banner
    assert banner.isVisible() and "找不到表头" in banner.text() and "“任务名称”" in banner.text()
    assert "事情" in dialog.columns.item(0, 1).text()  # what the column holds, to choose by
    assert not dialog.import_button.isEnabled()
    _choose(qtbot, dialog, 1, "responsible_units")  # not yet the title: still nothing to import
    assert banner.isVisible() and not dialog.import_button.isEnabled()
    _choose(qtbot, dialog, 0, "title")
    header_row = 1 if title_row is None else 2
    assert f"第 {header_row} 行" in dialog.sheet_info.text()  # the header row is found now
    assert not banner.isVisible()
    assert dialog.import_button.isEnabled()
    assert dialog.preview.sheet("督查任务清单").mapping == {"title": 0, "responsible_units": 1}  # kept
    assert dialog.columns.item(2, 1).text() == "哪天"
    _choose(qtbot, dialog, 2, "deadline")
    assert dialog.preview.counts()["new"] == 2
    dialog.import_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=20000)
    with store.session() as s:
        t = s.query(Task).filter_by(title="修复破损路面").one()
        assert t.responsible_units == ["市交通局"] and t.deadline == dt.date(2026, 6, 30)


def test_columns_not_imported_and_fields_not_found_are_named(qtbot, store, window, tmp_path):
    path = _workbook(tmp_path / "清单.xlsx", [["序号", "任务编号", "督查事项", "备注", "联系人", "办理日期"],
                                               [1, "Q-1", "季度调度会", "", "张三", "2026-06-30"]], title_row=None)
    dialog = open_import(qtbot, window, path)
    notes = dialog.column_notes.text()
    assert "未导入的列：" in notes and "备注" in notes and "联系人" in notes and "办理日期" in notes
    assert "序号" not in notes  # a running number is no content to miss
    assert "未找到：完成时限、责任单位" in notes
    _choose(qtbot, dialog, 5, "deadline")
    notes = dialog.column_notes.text()
    assert "办理日期" not in notes and "未找到：责任单位" in notes
    dialog.reject()
