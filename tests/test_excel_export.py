"""The import template and the ledgers (台账): what a 督查处 prints, and what comes back in."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import zipfile

import openpyxl
import pytest

from excel_fixtures import db_snapshot, write_messy_xlsx
from fieldapp.domain import CATEGORIES
from fieldapp.excel.errors import NothingToImport
from fieldapp.excel.ledger import LedgerFilter, export_ledger
from fieldapp.excel.template import write_template
from fieldapp.models import Task
from fieldapp.services import task_import as ti
from fieldapp.services.findings import add_photos, record_check, record_finding, start_rectification, submit_for_check
from fieldapp.services.tasks import complete_task, create_task

TODAY = dt.date.today()


def _validations(ws) -> dict[str, str]:
    """Column letter → the list a data validation offers there."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in dv.sqref.ranges:
            out[rng.coord.rstrip("0123456789").split(":")[0].rstrip("0123456789")] = dv.formula1.strip('"')
    return out


def test_template_has_the_columns_lists_and_an_example(tmp_path):
    path = write_template(tmp_path / "模板.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["督查任务", "发现问题", "填表说明"]
    ws = wb["督查任务"]
    headers = [c.value for c in ws[2]]
    assert headers[:3] == ["序号", "任务编号", "任务名称"] and "完成时限" in headers and "责任单位" in headers
    assert ws.freeze_panes == "A3"
    lists = _validations(ws)
    category_col = openpyxl.utils.get_column_letter(headers.index("督查类别") + 1)
    assert lists[category_col].split(",") == list(CATEGORIES)
    assert ws["A3"].value == "示例" and ws["C3"].value
    findings = wb["发现问题"]
    f_headers = [c.value for c in findings[2]]
    f_lists = _validations(findings)
    assert f_lists[openpyxl.utils.get_column_letter(f_headers.index("严重程度") + 1)] == "一般,较重,严重"
    assert isinstance(ws.cell(row=3, column=headers.index("完成时限") + 1).value, dt.datetime)


def test_the_blank_template_imports_nothing_and_a_filled_one_imports_its_rows(store, tmp_path):
    path = write_template(tmp_path / "模板.xlsx")
    with pytest.raises(NothingToImport) as info:
        ti.preview(store, path)
    assert "没有任务行" in info.value.message("zh_CN")
    wb = openpyxl.load_workbook(path)
    ws = wb["督查任务"]
    headers = [c.value for c in ws[2]]
    col = {h: i + 1 for i, h in enumerate(headers)}
    for r, (title, units, deadline) in enumerate([("推进河道整治", "市水利局、市环保局", "2025年6月底前"),
                                                  ("建设口袋公园", "市园林局", dt.date(2025, 9, 30))], start=4):
        ws.cell(row=r, column=col["序号"], value=r - 3)
        ws.cell(row=r, column=col["任务名称"], value=title)
        ws.cell(row=r, column=col["责任单位"], value=units)
        ws.cell(row=r, column=col["完成时限"], value=deadline)
        ws.cell(row=r, column=col["督查类别"], value="民生实事")
    wb.save(path)
    p = ti.preview(store, path)
    assert [r.values["title"] for r in p.records] == ["推进河道整治", "建设口袋公园"]
    assert p.records[0].values["responsible_units"] == ["市水利局", "市环保局"]
    assert p.records[0].values["deadline"] == dt.date(2025, 6, 30)
    assert any(r.row == 3 and "example" in r.reason("en") for r in p.rows if r.status == ti.SKIPPED)
    assert {s.name: s.problem is None for s in p.sheets} == {"督查任务": True, "发现问题": False, "填表说明": False}
    assert ti.apply(store, p).created == 2


@pytest.fixture
def ledger_data(store, tmp_path, make_jpeg):
    """Two tasks, three findings in different states, photos and a passing check."""
    ids = {}
    for code, title, units, deadline in (("T-1", "=HYPERLINK(\"http://evil\",\"点我\")", ["市住建局"], TODAY - dt.timedelta(days=10)),
                                         ("T-2", "推进河道整治", ["市水利局", "市环保局"], TODAY + dt.timedelta(days=30))):
        (ids[code],) = create_task(store, code=code, title=title, category="民生实事", responsible_units=units,
                                   region_code="330106", region_name="西湖区", deadline=deadline).tasks
    (overdue,) = record_finding(store, ids["T-1"], description="+外墙脚手架未设安全网", severity="serious",
                                responsible_unit="市住建局", due_date=TODAY - dt.timedelta(days=3)).findings
    (closed,) = record_finding(store, ids["T-1"], description="@施工围挡破损", responsible_unit="市住建局",
                               due_date=TODAY - dt.timedelta(days=1)).findings
    (open_,) = record_finding(store, ids["T-2"], description="-河道漂浮物未清理", responsible_unit="市水利局",
                              due_date=TODAY + dt.timedelta(days=5)).findings
    add_photos(store, overdue, [make_jpeg(tmp_path / "a.jpg", color="red")], "site")
    add_photos(store, closed, [make_jpeg(tmp_path / "b.jpg", color="blue")], "before")
    start_rectification(store, closed)
    submit_for_check(store, closed)
    record_check(store, closed, result="rectified", photos=[(make_jpeg(tmp_path / "c.jpg", color="green"), "after")])
    return ids


def test_tasks_ledger_looks_like_a_ledger(store, tmp_path, ledger_data):
    out = tmp_path / "任务台账.xlsx"
    summary = export_ledger(store, out, kind="tasks")
    assert summary["rows"] == 2
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["督查任务台账", "汇总"]
    ws = wb["督查任务台账"]
    assert ws["A1"].value == "督查任务台账" and "A1" in {str(r).split(":")[0] for r in ws.merged_cells.ranges}
    assert "导出时间" in ws["A2"].value
    headers = [c.value for c in ws[3]]
    assert headers[:3] == ["序号", "任务编号", "任务名称"]
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref.startswith("A3:")
    col = {h: openpyxl.utils.get_column_letter(i + 1) for i, h in enumerate(headers)}
    assert ws.column_dimensions[col["记录ID"]].hidden
    assert ws.column_dimensions[col["任务名称"]].width >= ws.column_dimensions[col["序号"]].width + 10
    deadline = ws[f"{col['完成时限']}4"]
    assert deadline.is_date and deadline.value.date() == TODAY - dt.timedelta(days=10)
    assert ws[f"{col['是否逾期']}4"].value == "是" and ws[f"{col['是否逾期']}5"].value in (None, "")
    assert ws.print_title_rows == "$3:$3"


def test_summary_by_responsible_unit(store, tmp_path, ledger_data):
    out = tmp_path / "问题台账.xlsx"
    export_ledger(store, out, kind="findings")
    ws = openpyxl.load_workbook(out)["汇总"]
    assert [c.value for c in ws[3]] == ["责任单位", "问题总数", "已整改（销号）", "未销号", "逾期", "整改率"]
    rows = {r[0]: r[1:] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["市住建局"] == (2, 1, 1, 1, 0.5)
    assert rows["市水利局"] == (1, 0, 1, 0, 0)
    assert rows["合计"] == (3, 1, 2, 1, pytest.approx(1 / 3))
    assert ws["F4"].number_format == "0.0%"


def test_findings_ledger_embeds_photo_thumbnails(store, tmp_path, ledger_data):
    out = tmp_path / "问题台账.xlsx"
    export_ledger(store, out, kind="findings")
    with zipfile.ZipFile(out) as z:
        media = [n for n in z.namelist() if n.startswith("xl/media/")]
        drawing = [n for n in z.namelist() if n.startswith("xl/drawings/drawing")]
    assert len(media) == 3  # site photo of one finding; before and after photos of the closed one
    assert drawing
    ws = openpyxl.load_workbook(out)["发现问题台账"]
    headers = [c.value for c in ws[3]]
    assert "现场照片" in headers and "整改后照片" in headers
    assert ws.row_dimensions[4].height and ws.row_dimensions[4].height > 40
    no_photos = tmp_path / "无照片.xlsx"
    export_ledger(store, no_photos, kind="findings", photos=False)
    with zipfile.ZipFile(no_photos) as z:
        assert not [n for n in z.namelist() if n.startswith("xl/media/")]


def test_text_never_becomes_a_formula(store, tmp_path, ledger_data):
    for kind in ("tasks", "findings", "checks"):
        out = tmp_path / f"{kind}.xlsx"
        export_ledger(store, out, kind=kind)
        with zipfile.ZipFile(out) as z:
            for name in z.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), (kind, name)
        values = [c.value for row in openpyxl.load_workbook(out).worksheets[0].iter_rows() for c in row]
        if kind == "tasks":
            assert "=HYPERLINK(\"http://evil\",\"点我\")" in values
        if kind == "findings":
            assert {"+外墙脚手架未设安全网", "@施工围挡破损", "-河道漂浮物未清理"} <= set(values)


def test_checks_ledger(store, tmp_path, ledger_data):
    out = tmp_path / "核查台账.xlsx"
    assert export_ledger(store, out, kind="checks")["rows"] == 1
    ws = openpyxl.load_workbook(out)["整改核查台账"]
    headers = [c.value for c in ws[3]]
    row = dict(zip(headers, [c.value for c in ws[4]]))
    assert row["核查结果"] == "已整改" and isinstance(row["核查时间"], dt.datetime) and row["照片数"] == 1


def test_ledger_filters(store, tmp_path, ledger_data):
    def rows(kind, **kw):
        return export_ledger(store, tmp_path / "f.xlsx", kind=kind, flt=LedgerFilter(**kw))["rows"]

    assert rows("tasks", overdue_only=True) == 1
    assert rows("tasks", unit="环保") == 1
    assert rows("tasks", search="河道") == 1
    assert rows("findings", statuses=("已销号",)) == 1
    assert rows("findings", statuses=("open",)) == 2
    assert rows("findings", overdue_only=True) == 1
    assert rows("tasks", region_prefix="3301") == 2 and rows("tasks", region_prefix="3302") == 0
    assert rows("tasks", since=TODAY + dt.timedelta(days=1)) == 0


def test_an_exported_tasks_ledger_imports_back_with_nothing_changed(store, tmp_path, ledger_data):
    ti.apply(store, ti.preview(store, write_messy_xlsx(tmp_path / "messy.xlsx")))
    create_task(store, title="没有编号的任务", responsible_units=["市城管局"], deadline_kind="unread",
                deadline_text="每季度")
    create_task(store, title="长期任务", deadline_kind="open_ended", deadline_text="长期坚持")
    out = tmp_path / "台账.xlsx"
    export_ledger(store, out, kind="tasks")
    before = db_snapshot(store)
    p = ti.preview(store, out)
    assert p.counts()[ti.NEW] == 0 and p.counts()[ti.CHANGED] == 0 and p.counts()[ti.ERROR] == 0
    with store.session() as s:
        assert p.counts()[ti.UNCHANGED] == s.query(Task).count() == 12
    result = ti.apply(store, p)
    assert (result.created, result.updated) == (0, 0)
    assert db_snapshot(store) == before


def test_command_line_template_and_ledger(store, tmp_path, ledger_data):
    data = store.data_dir
    store.close()  # the command opens the data dir itself
    tpl = tmp_path / "模板.xlsx"
    run = subprocess.run([sys.executable, "-m", "fieldapp", "template", str(tpl)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0 and tpl.exists()
    out = tmp_path / "台账.xlsx"
    run = subprocess.run([sys.executable, "-m", "fieldapp", "--data-dir", str(data), "export-ledger", str(out),
                          "--kind", "findings", "--status", "待整改"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["rows"] == 2
    assert openpyxl.load_workbook(out).sheetnames == ["发现问题台账", "汇总"]


def test_ledger_region_filter_takes_the_county_alone(store, tmp_path):
    """330110 (余杭区) must not also take 330111 (富阳区) and the rest of 33011x."""
    import openpyxl

    from fieldapp.excel.ledger import LedgerFilter, export_ledger
    from fieldapp.services.tasks import create_task

    create_task(store, code="YH-1", title="余杭任务", region_code="330110", region_name="余杭区")
    create_task(store, code="FY-1", title="富阳任务", region_code="330111", region_name="富阳区")
    out = tmp_path / "yh.xlsx"
    export_ledger(store, out, kind="tasks", flt=LedgerFilter(region_prefix="330110"))
    codes = {c.value for c in openpyxl.load_workbook(out).worksheets[0]["B"]}
    assert "YH-1" in codes and "FY-1" not in codes


def test_findings_ledger_dates_a_finding_by_its_visit(store, tmp_path):
    """An inspector who types findings in at the office later: 发现时间 is the visit's time."""
    from fieldapp.services.visits import record_visit

    (tid,) = create_task(store, code="V-1", title="河道巡查").tasks
    when = dt.datetime(2026, 5, 14, 13, 4)
    (vid,) = record_visit(store, tid, visited_at=when, place="河边").visits
    record_finding(store, tid, description="漂浮垃圾", visit_id=vid)
    out = tmp_path / "f.xlsx"
    export_ledger(store, out, kind="findings", photos=False)
    ws = openpyxl.load_workbook(out).worksheets[0]
    header = [c.value for c in ws[3]]
    row = [c.value for c in ws[4]]
    assert row[header.index("发现时间")] == when


def _summary_rows(path) -> dict[str, tuple]:
    """The 汇总 sheet's rows by unit (合计 included), below its one- or two-row header."""
    ws = openpyxl.load_workbook(path)["汇总"]
    rows = {}
    for r in ws.iter_rows(min_row=4, values_only=True):
        if r[0] is None or str(r[0]).startswith("注"):
            continue  # the lower row of a two-row header; the note under the table
        rows[r[0]] = r[1:]
    return rows


@pytest.fixture
def two_regions(store, tmp_path, make_jpeg):
    """Tasks in 杭州 (3301) and 宁波 (3302); 市住建局 is a responsible unit in both.

    杭州: H-1 市住建局+市城管局, overdue, one overdue finding each (市城管局's closed after a failed
    check); H-2 市住建局+市发改委, completed, no findings; H-3 市水利局, a finding without a unit.
    宁波: N-1 市住建局, overdue, two findings (one overdue); N-2 宁波市生态环境局, one finding."""
    past, future = TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=30)
    ids = {}
    for code, units, region, deadline in (("H-1", ["市住建局", "市城管局"], ("330106", "西湖区"), past),
                                          ("H-2", ["市住建局", "市发改委"], ("330106", "西湖区"), past),
                                          ("H-3", ["市水利局"], ("330106", "西湖区"), future),
                                          ("N-1", ["市住建局"], ("330203", "海曙区"), past),
                                          ("N-2", ["宁波市生态环境局"], ("330203", "海曙区"), future)):
        (ids[code],) = create_task(store, code=code, title=f"任务{code}", responsible_units=units,
                                   region_code=region[0], region_name=region[1], deadline=deadline).tasks
    complete_task(store, ids["H-2"])
    overdue_due = TODAY - dt.timedelta(days=2)
    record_finding(store, ids["H-1"], description="杭州住建问题", responsible_unit="市住建局", due_date=overdue_due)
    (checked,) = record_finding(store, ids["H-1"], description="杭州城管问题", responsible_unit="市城管局",
                                due_date=overdue_due).findings
    record_finding(store, ids["H-3"], description="没有写责任单位的问题", due_date=TODAY + dt.timedelta(days=5))
    record_finding(store, ids["N-1"], description="宁波住建问题一", responsible_unit="市住建局", due_date=overdue_due)
    record_finding(store, ids["N-1"], description="宁波住建问题二", responsible_unit="市住建局")
    record_finding(store, ids["N-2"], description="宁波环保问题", responsible_unit="宁波市生态环境局")
    start_rectification(store, checked)
    submit_for_check(store, checked)
    record_check(store, checked, result="not_rectified")
    submit_for_check(store, checked)
    record_check(store, checked, result="rectified", photos=[(make_jpeg(tmp_path / "after.jpg"), "after")])
    return ids


def test_a_filtered_ledgers_summary_counts_only_what_the_ledger_lists(store, tmp_path, two_regions):
    hz = LedgerFilter(region_prefix="3301")
    out = tmp_path / "问题.xlsx"
    assert export_ledger(store, out, kind="findings", flt=hz)["rows"] == 3
    rows = _summary_rows(out)
    assert rows["合计"] == (3, 1, 2, 1, pytest.approx(1 / 3))  # not the 6 findings of both regions
    assert rows["市住建局"] == (1, 0, 1, 1, 0)  # 宁波's 市住建局 findings are not in this ledger
    assert rows["市水利局"] == (1, 0, 1, 0, 0)  # a finding without a unit: its task's, as the ledger shows it
    assert set(rows) == {"市住建局", "市城管局", "市水利局", "合计"}
    assert "本台账所列 3 个问题" in openpyxl.load_workbook(out)["汇总"]["A2"].value

    export_ledger(store, out, kind="findings", flt=LedgerFilter(region_prefix="3301", statuses=("已销号",)))
    assert _summary_rows(out) == {"市城管局": (1, 1, 0, 0, 1), "合计": (1, 1, 0, 0, 1)}

    export_ledger(store, out, kind="tasks", flt=hz)
    ledger = openpyxl.load_workbook(out).worksheets[0]
    headers = [c.value for c in ledger[3]]
    listed_findings = sum(r[headers.index("问题数")] for r in ledger.iter_rows(min_row=4, values_only=True))
    rows = _summary_rows(out)
    assert rows["合计"][3] == listed_findings == 3  # 问题总数 of the summary = the 问题数 column
    assert rows["市住建局"][3:] == (1, 0, 1, 1, 0)
    assert "宁波市生态环境局" not in rows

    export_ledger(store, out, kind="tasks", flt=LedgerFilter(overdue_only=True))  # H-1 and N-1
    rows = _summary_rows(out)
    assert rows["合计"][:5] == (2, 0, 2, 4, 1) and "市水利局" not in rows and "市发改委" not in rows

    # checks: the findings the listed checks verified, each once, as it stands now
    assert export_ledger(store, out, kind="checks", flt=hz)["rows"] == 2
    assert _summary_rows(out) == {"市城管局": (1, 1, 0, 0, 1), "合计": (1, 1, 0, 0, 1)}
    export_ledger(store, out, kind="checks", flt=LedgerFilter(region_prefix="3302"))
    assert _summary_rows(out) == {"合计": (0, 0, 0, 0, "—")}

    export_ledger(store, out, kind="findings")  # unfiltered: everything
    assert _summary_rows(out)["合计"] == (6, 1, 5, 2, pytest.approx(1 / 6))


def test_tasks_summary_counts_the_tasks_of_each_unit(store, tmp_path, two_regions):
    out = tmp_path / "任务.xlsx"
    export_ledger(store, out, kind="tasks", flt=LedgerFilter(region_prefix="3301"))
    ws = openpyxl.load_workbook(out)["汇总"]
    assert ws["A1"].value == "任务办理及问题整改情况汇总（按责任单位）"
    assert [c.value for c in ws[3]] == ["责任单位", "任务办理情况", None, None, "问题整改情况", None, None, None, None]
    assert [c.value for c in ws[4]] == [None, "任务总数", "已办结", "逾期",
                                        "问题总数", "已整改（销号）", "未销号", "逾期", "整改率"]
    assert {"A3:A4", "B3:D3", "E3:I3"} <= {str(r) for r in ws.merged_cells.ranges}
    assert ws.freeze_panes == "A5" and ws.print_title_rows == "$3:$4" and ws.auto_filter.ref.startswith("A4:")
    rows = _summary_rows(out)
    #                  tasks, 已办结, overdue | findings, closed, open, overdue, rate
    assert rows["市住建局"] == (2, 1, 1, 1, 0, 1, 1, 0)
    assert rows["市城管局"] == (1, 0, 1, 1, 1, 0, 0, 1)
    assert rows["市发改委"] == (1, 1, 0, 0, 0, 0, 0, "—")  # no findings: no rate, not 0 %
    assert rows["市水利局"] == (1, 0, 0, 1, 0, 1, 0, 0)
    # a task with two responsible units counts for each, and once in the total
    assert rows["合计"] == (3, 1, 1, 3, 1, 2, 1, pytest.approx(1 / 3))
    assert list(rows)[-1] == "合计"
    last = ws.max_row
    assert ws.cell(row=last - 1, column=1).value == "合计" and ws.cell(row=last - 1, column=2).font.b
    assert "分别计入各责任单位" in ws.cell(row=last, column=1).value
    assert ws["I5"].number_format == "0.0%" and ws["A5"].border.left.style == "thin"
    assert "本台账所列 3 项任务及其 3 个问题" in ws["A2"].value and "区划：3301" in ws["A2"].value

    export_ledger(store, out, kind="tasks", flt=LedgerFilter(region_prefix="3302"))
    ws = openpyxl.load_workbook(out)["汇总"]
    assert _summary_rows(out) == {"市住建局": (1, 0, 1, 2, 0, 2, 1, 0), "宁波市生态环境局": (1, 0, 0, 1, 0, 1, 0, 0),
                                  "合计": (2, 0, 1, 3, 0, 3, 1, 0)}
    assert not str(ws.cell(row=ws.max_row, column=1).value).startswith("注")  # no shared tasks, no note
