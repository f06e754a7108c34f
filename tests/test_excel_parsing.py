"""The pure readers of a task list: deadlines, units, cleaning, headers (no files, no database)."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from fieldapp.domain import DeadlineKind
from fieldapp.excel import deadlines, header, normalize, units

D = dt.date


@pytest.mark.parametrize("value, year, kind, date", [
    (D(2024, 12, 31), None, "date", D(2024, 12, 31)),
    ("2024-12-31", None, "date", D(2024, 12, 31)),  # a date cell as the reader hands it over
    ("2024-12-31T00:00:00", None, "date", D(2024, 12, 31)),
    ("2024年12月底前", None, "date", D(2024, 12, 31)),
    ("2024年12月31日前完成", None, "date", D(2024, 12, 31)),
    ("力争2024年底前完成", None, "date", D(2024, 12, 31)),
    ("2025.6", None, "date", D(2025, 6, 30)),
    (2025.6, None, "date", D(2025, 6, 30)),  # a number cell
    ("2025.10", None, "date", D(2025, 10, 31)),
    ("2024年6月30日", None, "date", D(2024, 6, 30)),
    ("2024/6/30", None, "date", D(2024, 6, 30)),
    ("20240630", None, "date", D(2024, 6, 30)),
    ("２０２４年１２月底前", None, "date", D(2024, 12, 31)),  # full-width digits
    (" 2024年 12月 底前 ", None, "date", D(2024, 12, 31)),  # stray spaces
    ("6月底前", 2024, "date", D(2024, 6, 30)),  # year from the sheet's title
    ("年底前", 2024, "date", D(2024, 12, 31)),
    ("2024年上半年", None, "date", D(2024, 6, 30)),
    ("2024年第三季度", None, "date", D(2024, 9, 30)),
    ("2024年6月上旬", None, "date", D(2024, 6, 10)),
    ("2024年2月底", None, "date", D(2024, 2, 29)),  # a leap year
    ("长期坚持", None, "open_ended", None),
    ("持续推进", None, "open_ended", None),
    ("常态化", None, "open_ended", None),
    ("立行立改", None, "unread", None),
    ("每季度", None, "unread", None),
    ("每月底前", None, "unread", None),
    ("6月底前", None, "unread", None),  # no year anywhere: never guessed
    ("2024年2月30日", None, "unread", None),  # no such day
    ("2024年6月底前完成一期，12月底前全部完成", None, "unread", None),
    ("2024年12月底前，长期坚持", None, "unread", None),
    ("按省定节点推进", None, "unread", None),
    (2025.1, None, "unread", None),  # January, or October that lost its 0?
    (45657, None, "unread", None),  # an Excel day number shown as a number
    ("1900-01-01", None, "unread", None),  # an implausible year
    (None, None, "none", None),
    ("   ", None, "none", None),
])
def test_deadline_is_read_exactly_or_kept_as_written(value, year, kind, date):
    d = deadlines.parse(value, year)
    assert d.kind == kind
    assert d.date == date
    if kind == "unread":
        assert d.warning is not None and d.text  # kept as written, with a reason
        assert d.text in d.warning("zh_CN") and d.text in d.warning("en")
    elif kind != "none":
        assert d.warning is None and d.text
    if kind == "date":
        assert isinstance(d.date, dt.date)


def test_deadline_text_is_what_was_written():
    assert deadlines.parse("2024年12月底前").text == "2024年12月底前"
    assert deadlines.parse(D(2024, 6, 30)).text == "2024-06-30"
    assert deadlines.parse("立行立改").kind == DeadlineKind.UNREAD


@pytest.mark.parametrize("texts, year", [
    (("2024年全市重点督查任务清单",), 2024),
    (("", "关于印发2025年度督查计划的通知"), 2025),
    (("督查任务清单", "Sheet1", "2023年任务.xlsx"), 2023),
    (("督查任务清单",), None),
])
def test_year_of_title(texts, year):
    assert deadlines.year_of(*texts) == year


@pytest.mark.parametrize("cell, expected, lead", [
    ("省发展改革委、省财政厅，省生态环境厅;省交通运输厅\n省农业农村厅",
     ["省发展改革委", "省财政厅", "省生态环境厅", "省交通运输厅", "省农业农村厅"], []),
    ("市住建局（牵头） 市财政局", ["市住建局", "市财政局"], ["市住建局"]),
    ("杭州市人民政府（牵头）；省住建厅（配合）", ["杭州市人民政府", "省住建厅"], ["杭州市人民政府"]),
    ("各县（市、区）政府、市财政局", ["各县（市、区）政府", "市财政局"], []),
    ("市财政局、市财政局", ["市财政局"], []),
    ("市 财政局", ["市财政局"], []),
    ("/", [], []),
    ("无", [], []),
    (None, [], []),
    ("ＡＢＣ公司／市城管局", ["ABC公司", "市城管局"], []),
])
def test_units_are_split_on_every_separator(cell, expected, lead):
    parsed = units.parse(cell)
    assert parsed.units == expected
    assert parsed.lead == lead
    assert units.split(units.join(expected)) == expected  # what FieldApp writes, it reads back


@pytest.mark.parametrize("raw, text", [
    ("  加快 河道 整治 ", "加快河道整治"),
    ("ＡＢＣ１２３", "ABC123"),
    ("推进“最多跑一次”改革（第二批）", "推进“最多跑一次”改革（第二批）"),  # Chinese punctuation stays
    ("Smart  City  项目", "Smart City 项目"),
    ("推进老旧\n小区改造", "推进老旧小区改造"),  # a line break typed inside a title
    ("Smart\nCity", "Smart City"),
    ("零宽\u200b字符", "零宽字符"),
    (12.0, "12"),
    (None, ""),
])
def test_normalize_text(raw, text):
    assert normalize.text(raw) == text


def test_normalize_key_ignores_width_blanks_and_case():
    assert normalize.key("完成时限（年月日）") == normalize.key("完成时限(年月日)")
    assert normalize.key(" DC－001 ") == normalize.key("dc-001")


@pytest.mark.parametrize("cell, field", [
    ("任务名称", "title"), ("督查事项", "title"), ("整改任务", "title"), ("问题描述", "title"),
    ("责任单位", "responsible_units"), ("牵头单位", "lead_unit"), ("配合单位", "cooperating_units"),
    ("牵头责任单位", "lead_unit"), ("责任单位（牵头）", "responsible_units"),
    ("完成时限", "deadline"), ("整改时限", "deadline"), ("办结时限", "deadline"),
    ("完成时限（年月日）", "deadline"), ("完 成 时 限", "deadline"),
    ("所属区县", "region"), ("地区", "region"), ("县（市、区）", "region"),
    ("任务编号", "code"), ("序号", "seq"), ("备注", "other"),
    # names a user trial met in real lists from other offices' systems
    ("交办事项", "title"), ("承办处室", "responsible_units"), ("最终节点", "deadline"),
    ("协办单位", "cooperating_units"), ("督办类型", "category"),
])
def test_header_synonyms(cell, field):
    m = header.match(cell)
    assert m is not None and m.field == field


def test_header_cells_that_are_data_do_not_match():
    assert header.match("推进老旧小区改造，确保年底前完成全部改造任务并通过验收") is None
    assert header.match("2024年12月底前") is None


def test_header_detection_skips_title_rows_and_reads_two_row_headers():
    rows = [
        ["2024年重点督查任务清单", None, None, None, None],
        ["序号", "督查事项", "责任单位", None, "完成时限"],
        [None, None, "牵头单位", "配合单位", None],
        [1, "推进老旧小区改造", "市住建局", "市财政局", "2024年底"],
    ]
    h = header.detect(rows)
    assert h is not None
    assert h.rows == (1, 2)
    assert h.mapping == {"title": 1, "lead_unit": 2, "cooperating_units": 3, "deadline": 4}


def test_header_detection_needs_a_title_column():
    assert header.detect([["序号", "责任单位", "完成时限"], [1, "市住建局", "2024年底"]]) is None
    assert header.detect([]) is None


def test_a_single_cell_containing_a_title_word_is_not_a_header():
    """A ledger's 汇总 sheet: a unit named 市重点工作领导小组办公室 contains 重点工作 (a title name)."""
    rows = [["责任单位", "任务总数", "已办结"], ["市重点工作领导小组办公室", 5, 3], ["市住建局", 2, 1]]
    assert header.detect(rows) is None
    assert header.detect([["重点工作", "备注"], ["a", "b"]]).mapping == {"title": 0}  # an exact name still is


def test_header_prefers_visible_columns():
    rows = [["任务名称", "任务名称", "责任单位"], ["a", "b", "c"]]
    assert header.detect(rows, hidden_cols={0}).mapping["title"] == 1
    assert header.detect(rows).mapping["title"] == 0


def test_a_hidden_column_gives_way_to_a_visible_one_that_names_it_less_exactly():
    """A hidden 完成时限 beside a visible 调整后完成时限: the visible one holds the deadlines now."""
    rows = [["任务名称", "完成时限", "调整后完成时限"], ["a", "2024年底", "2025年6月底前"]]
    assert header.detect(rows, hidden_cols={1}).mapping["deadline"] == 2
    assert header.detect(rows).mapping["deadline"] == 1
    assert header.detect([["任务名称", "完成时限"], ["a", "2024年底"]], hidden_cols={1}).mapping["deadline"] == 1


def test_remap_moves_a_field_and_frees_its_old_column():
    h = header.detect([["任务名称", "责任单位", "备注"], ["a", "b", "c"]])
    moved = header.remap(h, {"responsible_units": 2, "title": 0})
    assert moved.mapping == {"title": 0, "responsible_units": 2}
    dropped = header.remap(h, {"responsible_units": None})
    assert dropped.mapping == {"title": 0}
    with pytest.raises(ValueError):
        header.remap(h, {"no_such_field": 1})


def test_blank_cells_far_to_the_right_do_not_widen_the_sheet(tmp_path):
    """A cell holding "" (a formula's cached empty text) in column Z: rows keep their own width."""
    from openpyxl import Workbook

    from fieldapp.excel.reader import read_workbook

    wb = Workbook()
    ws = wb.active
    for r in (["任务名称", "责任单位", "完成时限"], ["修路", "市交通局", "2024年底"]):
        ws.append(r)
    ws["Z2"] = "STRAY"
    wb.save(tmp_path / "src.xlsx")
    path = tmp_path / "wide.xlsx"
    with zipfile.ZipFile(tmp_path / "src.xlsx") as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():  # openpyxl writes no empty text cell: empty the one written
            data = src.read(item.filename)
            dst.writestr(item, data.replace(b"<t>STRAY</t>", b"<t></t>"))
    sheet = read_workbook(path).sheets[0]
    assert sheet.width == 3, sheet.rows
