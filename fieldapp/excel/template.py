"""The blank import template: `fieldapp template OUT.xlsx`.

A sheet 督查任务 with a title row, the columns the importer expects (named as the importer
recognises them), a drop-down list of categories, an example row (marked 示例, which the
importer skips) and room to fill in; a sheet 发现问题 laid out for findings with drop-down
lists of categories and severities (the task import leaves it alone); and 填表说明, which
explains what each column accepts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl.utils import get_column_letter
from openpyxl import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from fieldapp.domain import CATEGORIES, Severity
from fieldapp.excel import sheetstyle as st

TASK_COLUMNS = [  # (header, width, example)
    ("序号", 6, "示例"),
    ("任务编号", 14, "DC-2025-001"),
    ("任务名称", 36, "老旧小区改造进度督查"),
    ("督查类别", 14, "民生实事"),
    ("责任单位", 22, "市住建局、西湖区人民政府"),
    ("牵头单位", 14, "市住建局"),
    ("配合单位", 18, "西湖区人民政府"),
    ("所属区县", 10, "西湖区"),
    ("地址", 24, "杭州市西湖区文三路 90 号"),
    ("完成时限", 14, dt.date(2025, 12, 31)),
    ("工作目标", 30, "年底前完成 3 个小区改造并通过验收"),
    ("督查人员", 12, "张三、李四"),
    ("备注", 16, "示例行，导入时自动跳过"),
]
FINDING_COLUMNS = [
    ("序号", 6, "示例"),
    ("任务编号", 14, "DC-2025-001"),
    ("问题描述", 36, "3 号楼外墙脚手架未设置安全网"),
    ("问题类别", 14, "民生实事"),
    ("严重程度", 10, Severity.SERIOUS.label("zh_CN")),
    ("责任单位", 18, "西湖区人民政府"),
    ("整改要求", 30, "立即整改，设置安全网并复查"),
    ("整改时限", 14, dt.date(2025, 6, 30)),
    ("备注", 16, "示例行"),
]
BLANK_ROWS = 200  # rows prepared with borders and drop-downs

INSTRUCTIONS = [
    "填表说明",
    "1. “督查任务”表每行一个任务；第 2 行为表头，请勿修改列名，可删除不需要的列（“任务名称”必填）。",
    "2. 任务编号：有编号的任务按编号更新；没有编号时按“任务名称 + 所属区县”识别，重复导入不会产生重复任务。",
    "3. 督查类别：从下拉列表选择，也可填写其他类别。",
    "4. 责任单位、配合单位、督查人员：多个单位或人员用顿号“、”、逗号、分号或换行分隔；可在单位后注明（牵头）。",
    "5. 完成时限：可填日期（2025-12-31），或“2025年12月底前”“2025.6”“6月底前”（年份取自标题）“长期坚持”“持续推进”；"
    "无法换算为具体日期的内容（如“每季度”“立行立改”）按原文保存并提示。",
    "6. 标题行、空行、合计行和表格下方以“注：”开头的说明会被自动跳过；序号为“示例”的行不会导入。",
    "7. 支持 .xlsx、.xlsm、.xls、.ods 和 UTF-8 / GBK 编码的 .csv 文件。",
]


def _sheet(wb: Workbook, title: str, columns, heading: str, validations: dict[str, list[str]]):
    ws = wb.create_sheet(title)
    headers = [c[0] for c in columns]
    last = len(columns)
    for i, (_h, width, _e) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    ws.row_dimensions[1].height = 30
    ws.row_dimensions[2].height = 22
    ws.merged_cells.add(f"A1:{get_column_letter(last)}1")
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    for name, options in validations.items():
        col = headers.index(name) + 1
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True,
                            showDropDown=False, showErrorMessage=True, errorStyle="information",
                            errorTitle=name, error=f"建议从列表中选择{name}。", promptTitle=name,
                            prompt=f"从列表中选择{name}", showInputMessage=True)
        dv.add(f"{get_column_letter(col)}3:{get_column_letter(col)}{BLANK_ROWS + 3}")
        ws.data_validations.append(dv)
    ws.append([st.cell(ws, heading, font=st.TITLE_FONT, alignment=st.CENTER, border=False)])
    ws.append([st.cell(ws, h, font=st.HEADER_FONT, alignment=st.CENTER, fill=st.HEADER_FILL) for h in headers])
    ws.append([st.cell(ws, e, alignment=st.WRAP, fill=st.EXAMPLE_FILL, font=st.NOTE_FONT) for _h, _w, e in columns])
    for _ in range(BLANK_ROWS):
        ws.append([st.cell(ws, None, alignment=st.WRAP) for _c in columns])
    return ws


def write_template(out: Path | str) -> Path:
    """Write the blank import template to `out` (.xlsx) and return its path."""
    out = Path(out)
    wb = Workbook(write_only=True)
    year = dt.date.today().year
    _sheet(wb, "督查任务", TASK_COLUMNS, f"{year}年督查任务清单", {"督查类别": list(CATEGORIES)})
    severities = [s.label("zh_CN") for s in Severity]
    _sheet(wb, "发现问题", FINDING_COLUMNS, "发现问题清单", {"问题类别": list(CATEGORIES), "严重程度": severities})
    ws = wb.create_sheet("填表说明")
    ws.column_dimensions["A"].width = 110
    for i, line in enumerate(INSTRUCTIONS):
        ws.append([st.cell(ws, line, font=st.HEADER_FONT if i == 0 else st.BODY_FONT, alignment=st.WRAP, border=False)])
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
