"""Real, messy task-list workbooks written in code, for the Excel tests.

Every fixture is a real file on disk: .xlsx through openpyxl, .xls through xlwt (test-only),
.ods written here as the zip of XML the OpenDocument standard describes (no library needed:
it is a few lines), .csv in UTF-8 and GBK. The same logical table is written in every format
so the tests can check that each reads the same.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

TITLE = "2024年全市重点督查任务清单"
HEADER = ["序号", "任务编号", "督查事项", "督查类别", "牵头单位", "配合单位", "所属区县", "完成时限", "工作目标", "备注"]

# The plain table (one header row) every format holds: title, subtitle, header, data, blank,
# section heading, total and notes. Deadlines are text here; the xlsx fixture adds date cells.
PLAIN_ROWS: list[list[object]] = [
    [TITLE],
    ["（截至2024年3月）"],
    HEADER,
    [1, "DC-001", "推进老旧小区改造", "民生实事", "市住建局", "西湖区政府、上城区政府", "西湖区", "2024年12月底前", "完成3个小区", ""],
    [2, "ＤＣ－００２", "  加快 河道 整治 ", "生态环保", "市水利局", "市环保局；市城管局", "上城区", "2025.6", "", ""],
    [],
    ["一、经济发展"],
    [3, "DC-003", "优化营商环境", "重大政策", "市发改委", "市市场监管局\n市税务局", "拱墅区", "6月底前", "", ""],
    ["4", "DC-004", "推进垃圾分类", "其他", "市城管局", "", "滨江区", "长期坚持", "", ""],
    [5, "DC-005", "整治违法建设", "领导批示", "市城管局", "", "萧山区", "立行立改", "", ""],
    [6, "DC-006", "安全生产检查", "重点督查督办", "市应急局", "", "余杭区", "每季度", "", ""],
    [7, "DC-007", "建设口袋公园", "民生实事", "市园林文物局", "", "临平区", "2024年6月30日", "", ""],
    ["合计", "", "7项", "", "", "", "", "", "", ""],
    ["注：1. 本表由市督查室汇总。"],
    ["2. 完成时限以文件为准。"],
]

# What the plain table must import as: code → (title, deadline JSON, deadline_text, warned).
EXPECTED = {
    "DC-001": ("推进老旧小区改造", "2024-12-31", "2024年12月底前", False),
    "DC-002": ("加快河道整治", "2025-06-30", "2025.6", False),
    "DC-003": ("优化营商环境", "2024-06-30", "6月底前", False),
    "DC-004": ("推进垃圾分类", "open-ended", "长期坚持", False),
    "DC-005": ("整治违法建设", None, "立行立改", True),
    "DC-006": ("安全生产检查", None, "每季度", True),
    "DC-007": ("建设口袋公园", "2024-06-30", "2024年6月30日", False),
}
EXPECTED_SKIPPED = {1: "title", 2: "title", 3: "header", 6: "blank", 7: "section", 13: "total", 14: "note", 15: "note"}


def write_xlsx(path: Path, rows: list[list[object]] = PLAIN_ROWS, sheet: str = "任务清单") -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def write_messy_xlsx(path: Path) -> Path:
    """The real thing: merged title, a two-row header (责任单位 over 牵头单位 / 配合单位),
    date cells, a hidden row and a hidden column, a unit merged down two tasks, a formula-free
    total row, notes under a merged cell, a second sheet without codes, a hidden sheet."""
    wb = Workbook()
    ws = wb.active
    ws.title = "2024年任务"
    ws.append([TITLE])
    ws.merge_cells("A1:J1")
    ws.append(["序号", "任务编号", "督查事项", "督查类别", "责任单位", None, "所属区县", "完成时限", "内部备注", "备注"])
    ws.append([None, None, None, None, "牵头单位", "配合单位"])
    for col in "ABCDGHIJ":
        ws.merge_cells(f"{col}2:{col}3")
    ws.merge_cells("E2:F2")
    ws.column_dimensions["I"].hidden = True
    data = [
        [1, "DC-101", "推进老旧小区改造", "民生实事", "市住建局", "西湖区政府、上城区政府", "西湖区", dt.date(2024, 12, 31), "x", ""],
        [2, "DC-102", "加快河道整治", "生态环保", "市水利局", "市环保局", "上城区", "2024年12月底前", "", ""],
        [3, "DC-103", "优化营商环境", "重大政策", "市发改委", "市税务局", "拱墅区", "6月底前", "", ""],
        [4, "DC-104", "隐藏的任务", "其他", "市城管局", "", "滨江区", dt.datetime(2024, 9, 30, 0, 0), "", ""],
        [5, "DC-105", "整治违法建设", "领导批示", "市城管局", "", "萧山区", "长期坚持", "", ""],
        [6, "DC-106", "建设口袋公园", "民生实事", None, "", "临平区", "2024年10月", "", ""],
    ]
    for r in data:
        ws.append(r)
    ws.row_dimensions[7].hidden = True  # DC-104
    ws.merge_cells("E8:E9")  # 市城管局 leads DC-105 and DC-106
    ws.append([])
    ws.append(["合计", None, "6项"])
    ws.append(["注：隐藏列“内部备注”不导入。"])
    ws.merge_cells("A12:J12")
    ws2 = wb.create_sheet("专项督查")
    ws2.append(["任务名称", "责任单位", "整改时限"])
    ws2.append(["清理河道垃圾", "市城管局（牵头）、市水利局", "2024年11月"])
    ws2.append(["整治油烟污染", "市环保局", "年底前"])
    hidden = wb.create_sheet("隐藏表")
    hidden.sheet_state = "hidden"
    hidden.append(["任务名称"])
    hidden.append(["不应导入"])
    wb.save(path)
    return path


# BIFF error codes (xlwt's own table has #VALUE! as #NUM!'s code and no #N/A).
XLS_ERROR_CODES = {"#NULL!": 0x00, "#DIV/0!": 0x07, "#VALUE!": 0x0F, "#REF!": 0x17, "#NAME?": 0x1D,
                   "#NUM!": 0x24, "#N/A": 0x2A}


def write_xls(path: Path, rows: list[list[object]] = PLAIN_ROWS, sheet: str = "任务清单", *,
              spans: dict[tuple[int, int], tuple[int, int]] | None = None, hidden_rows: set[int] = frozenset(),
              hidden_cols: set[int] = frozenset(), errors: dict[tuple[int, int], str] | None = None) -> Path:
    """A BIFF8 workbook. `spans`, `hidden_rows`, `hidden_cols` as for `write_ods` (0-based);
    `errors`: (row, col) → "#REF!"…, error cells as Excel stores them (not text)."""
    import xlwt  # test-only dependency: the one pure-Python writer of the .xls format

    spans = spans or {}
    errors = errors or {}
    covered = {(r + i, c + j) for (r, c), (rs, cs) in spans.items() for i in range(rs) for j in range(cs)}
    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    default = xlwt.Style.default_style

    def value(v: object) -> tuple[object, object]:
        return (v, date_style) if isinstance(v, dt.date) else ("" if v is None else v, default)

    for (r, c), (rs, cs) in spans.items():
        ws.write_merge(r, r + rs - 1, c, c + cs - 1, *value(rows[r][c] if c < len(rows[r]) else None))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            if (i, j) not in covered and (i, j) not in errors and v is not None and v != "":
                ws.write(i, j, *value(v))
    for (i, j), text in errors.items():
        ws.row(i).set_cell_error(j, XLS_ERROR_CODES[text])
    for i in hidden_rows:
        ws.row(i).hidden = True
    for j in hidden_cols:
        ws.col(j).hidden = True
    book.save(str(path))
    return path


_ODS_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
           'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
           'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def _ods_cell(v: object) -> str:
    if v is None or v == "":
        return "<table:table-cell/>"
    if isinstance(v, dt.date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{v.isoformat()}">'
                f"<text:p>{v.isoformat()}</text:p></table:table-cell>")
    if isinstance(v, (int, float)):
        return f'<table:table-cell office:value-type="float" office:value="{v}"><text:p>{v}</text:p></table:table-cell>'
    paras = "".join(f"<text:p>{escape(line)}</text:p>" for line in str(v).split("\n"))
    return f'<table:table-cell office:value-type="string">{paras}</table:table-cell>'


def write_ods(path: Path, sheets: dict[str, list[list[object]]] | None = None, *,
              spans: dict[tuple[int, int], tuple[int, int]] | None = None, hidden_rows: set[int] = frozenset(),
              hidden_cols: set[int] = frozenset()) -> Path:
    """An OpenDocument spreadsheet: a zip whose first member is the uncompressed mimetype.
    `spans`: (row, col) → (rows, cols) merged from that cell (0-based, first sheet);
    `hidden_rows` / `hidden_cols`: 0-based, collapsed."""
    sheets = sheets or {"任务清单": PLAIN_ROWS}
    spans = spans or {}
    covered = {(r + i, c + j) for (r, c), (rs, cs) in spans.items() for i in range(rs) for j in range(cs)} - set(spans)
    tables = []
    for n, (name, rows) in enumerate(sheets.items()):
        width = max((len(r) for r in rows), default=1)
        cols = "".join('<table:table-column table:visibility="collapse"/>' if (n == 0 and c in hidden_cols)
                       else "<table:table-column/>" for c in range(width))
        body = []
        for i, r in enumerate(rows):
            cells = []
            for j in range(max(len(r), 1)):
                v = r[j] if j < len(r) else None
                if n == 0 and (i, j) in covered:
                    cells.append("<table:covered-table-cell/>")
                    continue
                cell = _ods_cell(v)
                if n == 0 and (i, j) in spans:
                    rs, cs = spans[(i, j)]
                    cell = cell.replace("<table:table-cell",
                                        f'<table:table-cell table:number-rows-spanned="{rs}" '
                                        f'table:number-columns-spanned="{cs}"', 1)
                cells.append(cell)
            hidden = ' table:visibility="collapse"' if n == 0 and i in hidden_rows else ""
            body.append(f"<table:table-row{hidden}>" + "".join(cells) + "</table:table-row>")
        tables.append(f'<table:table table:name="{escape(name)}">{cols}{"".join(body)}</table:table>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} office:version="1.2">'
               f"<office:body><office:spreadsheet>{''.join(tables)}</office:spreadsheet></office:body>"
               "</office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_csv(path: Path, rows: list[list[object]] = PLAIN_ROWS, encoding: str = "utf-8") -> Path:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        writer.writerow(["" if v is None else v for v in r])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def big_task_rows(n: int, *, year: int = 2025, seed: int = 7) -> list[list[object]]:
    """`n` realistic rows of a 12-column task list (the benchmark's shape)."""
    import random

    rnd = random.Random(seed)
    units = ["省发展改革委", "省财政厅", "省生态环境厅", "省住房城乡建设厅", "省交通运输厅", "省农业农村厅",
             "杭州市人民政府", "宁波市人民政府", "温州市人民政府", "省水利厅", "省自然资源厅", "省商务厅"]
    regions = ["西湖区", "上城区", "拱墅区", "滨江区", "萧山区", "余杭区", "鄞州区", "海曙区", "鹿城区", "瓯海区"]
    cats = ["政府工作报告", "民生实事", "领导批示", "重点督查督办", "重大政策", "生态环保"]
    verbs = ["推进", "加快", "完善", "深化", "落实", "开展", "实施", "强化"]
    things = ["老旧小区改造", "河道综合整治", "营商环境优化", "垃圾分类", "农村公路建设", "数字政府建设",
              "安全生产专项整治", "未来社区建设", "共同富裕示范区建设", "高标准农田建设"]
    rows: list[list[object]] = []
    for i in range(n):
        lead = rnd.choice(units)
        coop = "、".join(rnd.sample([u for u in units if u != lead], rnd.randint(0, 3)))
        r = rnd.random()
        deadline: object
        if r < 0.5:
            deadline = dt.date(year, rnd.randint(1, 12), rnd.randint(1, 28))
        elif r < 0.8:
            deadline = f"{year}年{rnd.randint(1, 12)}月底前"
        elif r < 0.9:
            deadline = "长期坚持"
        else:
            deadline = "持续推进"
        rows.append([
            i + 1, f"ZJ{year}-{i + 1:06d}", f"{rnd.choice(verbs)}{rnd.choice(things)}第{i + 1}项任务", rnd.choice(cats),
            lead, coop, rnd.choice(regions), f"{rnd.choice(regions)}某街道{rnd.randint(1, 999)}号", deadline,
            f"完成年度目标任务的{rnd.randint(60, 100)}%", "张三、李四", "",
        ])
    return rows


BIG_HEADER = ["序号", "任务编号", "任务名称", "督查类别", "牵头单位", "配合单位", "所属区县", "地址", "完成时限",
              "工作目标", "督查人员", "备注"]


def write_big_xlsx(path: Path, n: int, *, year: int = 2025) -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("任务清单")
    ws.append([f"{year}年全省重点督查任务清单"])
    ws.append(BIG_HEADER)
    for r in big_task_rows(n, year=year):
        ws.append(r)
    wb.save(path)
    return path


def db_snapshot(store) -> tuple[list, list]:
    """Everything an import could touch: every task row and the change log's chain."""
    from sqlalchemy import text

    with store.session() as s:
        tasks = [tuple(r) for r in s.execute(text("SELECT * FROM tasks ORDER BY id"))]
        log = [tuple(r) for r in s.execute(text("SELECT seq, hash FROM change_log ORDER BY seq"))]
    return tasks, log


def records_by_code(preview) -> dict:
    return {r.values.get("code") or r.values["title"]: r for r in preview.rows if r.is_record}
