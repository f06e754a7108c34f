"""Files that must be refused: each with a clear message in both languages, no crash, and
the database exactly as it was. Reading happens in a child process with limits, so even a
file that exhausts memory or time only costs that child."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from excel_fixtures import PLAIN_ROWS, db_snapshot, write_big_xlsx, write_xls, write_xlsx
from fieldapp.excel import errors as xe
from fieldapp.excel.reader import Limits, read_workbook
from fieldapp.services import task_import as ti
from fieldapp.services.tasks import create_task


def encrypted(tmp: Path) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile  # test-only: real ECMA-376 encryption

    plain = write_xlsx(tmp / "plain.xlsx")
    out = tmp / "加密.xlsx"
    with open(plain, "rb") as src, open(out, "wb") as dst:
        OOXMLFile(src).encrypt("secret", dst)
    return out


def truncated(tmp: Path) -> Path:
    data = write_xlsx(tmp / "whole.xlsx").read_bytes()
    out = tmp / "截断.xlsx"
    out.write_bytes(data[: len(data) // 2])
    return out


def corrupt_xml(tmp: Path) -> Path:
    src = write_xlsx(tmp / "whole.xlsx")
    out = tmp / "损坏.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 3] + b"<row r=\"99\"><c r=\"A99\" t=\"s\"><v>99999</v>"
            zout.writestr(item, data)
    return out


def zip_bomb(tmp: Path) -> Path:
    """A workbook whose sheet inflates from a few KB to 64 MB of nothing."""
    src = write_xlsx(tmp / "whole.xlsx")
    out = tmp / "炸弹.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item))
        with zout.open("xl/media/padding.bin", "w") as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(64):
                fh.write(chunk)
    return out


def png_named_xlsx(tmp: Path) -> Path:
    from PIL import Image

    out = tmp / "照片.xlsx"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, "PNG")
    out.write_bytes(buf.getvalue())
    return out


def text_named_xls(tmp: Path) -> Path:
    out = tmp / "说明.xls"
    out.write_text("这不是表格，只是一段文字。\n", encoding="utf-8")
    return out


def docx(tmp: Path) -> Path:
    out = tmp / "通知.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("word/document.xml", "<w:document/>")
    return out


def empty_file(tmp: Path) -> Path:
    out = tmp / "空文件.xlsx"
    out.write_bytes(b"")
    return out


def empty_sheet(tmp: Path) -> Path:
    out = tmp / "空表.xlsx"
    openpyxl.Workbook().save(out)
    return out


def no_header(tmp: Path) -> Path:
    return write_xlsx(tmp / "无表头.xlsx", [["甲", "乙", "丙"], [1, 2, 3], ["2024-01-01", "x", "y"]])


def million_rows_csv(tmp: Path) -> Path:
    out = tmp / "百万行.csv"
    with open(out, "w", encoding="utf-8") as fh:
        fh.write("任务名称,责任单位\n")
        line = "任务,单位\n"
        for _ in range(100):
            fh.write(line * 10_000)
    return out


def million_rows_xlsx(tmp: Path, *, dimension: bool) -> Path:
    """A sheet of 1,000,001 rows, written as raw XML (openpyxl would take minutes)."""
    out = tmp / f"百万行{'-dim' if dimension else ''}.xlsx"
    src = write_xlsx(tmp / "small.xlsx", [["任务名称"], ["任务"]])
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item))
        with zout.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                fh.write(b'<dimension ref="A1:A1000001"/>')
            fh.write(b"<sheetData>")
            fh.write(b'<row r="1"><c r="A1" t="inlineStr"><is><t>\xe4\xbb\xbb\xe5\x8a\xa1\xe5\x90\x8d\xe7\xa7\xb0</t></is></c></row>')
            for start in range(2, 1_000_002, 10_000):
                fh.write(b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                                  for i in range(start, min(start + 10_000, 1_000_002))))
            fh.write(b"</sheetData></worksheet>")
    return out


BAD_FILES = {
    "encrypted": (encrypted, xe.WorkbookEncrypted, "密码"),
    "truncated": (truncated, xe.WorkbookDamaged, "损坏"),
    "corrupt xml": (corrupt_xml, xe.WorkbookDamaged, "损坏"),
    "zip bomb": (zip_bomb, xe.WorkbookTooLarge, "压缩炸弹"),
    "png named .xlsx": (png_named_xlsx, xe.NotASpreadsheet, "不是电子表格"),
    "text named .xls": (text_named_xls, xe.NotASpreadsheet, "不是电子表格"),
    "a word document": (docx, xe.NotASpreadsheet, "不是电子表格"),
    "empty file": (empty_file, xe.WorkbookDamaged, "损坏"),
    "empty sheet": (empty_sheet, xe.NothingToImport, "空"),
    "no header": (no_header, xe.NothingToImport, "表头"),
    "million-row csv": (million_rows_csv, xe.WorkbookTooLarge, "行"),
    "million-row xlsx": (lambda t: million_rows_xlsx(t, dimension=True), xe.WorkbookTooLarge, "行"),
    "million-row xlsx, no dimension": (lambda t: million_rows_xlsx(t, dimension=False), xe.WorkbookTooLarge, "行"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_refused_clearly_and_changes_nothing(store, tmp_path, case):
    make, error, zh_word = BAD_FILES[case]
    create_task(store, code="OLD-1", title="已有任务")
    path = make(tmp_path)
    before = db_snapshot(store)
    with pytest.raises(error) as info:
        ti.preview(store, path)
    zh, en = info.value.message("zh_CN"), info.value.message("en")
    assert path.name in zh and path.name in en
    assert zh_word in zh
    assert zh != en and en  # both languages present
    assert db_snapshot(store) == before


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_formula_error_cells_are_row_errors_not_crashes(store, tmp_path, fmt):
    kinds = ["#REF!", "#DIV/0!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!"]
    rows = [["任务名称", "责任单位", "完成时限"]] + [[f"任务{i}", err, "2024年底"] for i, err in enumerate(kinds)]
    if fmt == "xls":
        path = write_xls(tmp_path / "公式错误.xls", rows, errors={(i + 1, 1): err for i, err in enumerate(kinds)})
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        for r in rows:
            ws.append(r)
        for i in range(len(kinds)):
            ws.cell(row=i + 2, column=2).data_type = "e"
        path = tmp_path / "公式错误.xlsx"
        wb.save(path)
    before = db_snapshot(store)
    p = ti.preview(store, path)
    assert len(p.errors) == 7 and not p.records
    for r, err in zip(p.errors, kinds):
        assert err in r.reason("zh_CN") and f"B{r.row}" in r.reason("en")
    with pytest.raises(xe.ImportRefused):
        ti.apply(store, p)
    assert db_snapshot(store) == before


def test_a_read_that_takes_too_long_is_stopped(tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 20_000)
    with pytest.raises(xe.WorkbookTimeout) as info:
        read_workbook(path, limits=Limits(seconds=0.05))
    assert "秒" in info.value.message("zh_CN") and "seconds" in info.value.message("en")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX")
def test_a_read_that_needs_too_much_memory_is_stopped(tmp_path):
    path = write_big_xlsx(tmp_path / "big.xlsx", 20_000)
    with pytest.raises(xe.WorkbookTooLarge) as info:
        read_workbook(path, limits=Limits(memory_mib=48))
    assert "内存" in info.value.message("zh_CN") and "memory" in info.value.message("en")
    assert read_workbook(path).sheets[0].rows  # with the normal limit it reads


def test_the_command_line_says_why_in_the_users_language(tmp_path):
    bad = png_named_xlsx(tmp_path)
    data = tmp_path / "data"
    for lang, word in (("zh_CN", "不是电子表格"), ("en", "is not a spreadsheet")):
        run = subprocess.run([sys.executable, "-m", "fieldapp", "--data-dir", str(data), "--lang", lang,
                              "import-tasks", str(bad), "--json"], capture_output=True, text=True, timeout=120)
        assert run.returncode == 2
        assert word in run.stderr and "Traceback" not in run.stderr
        out = json.loads(run.stdout)
        assert out["records"] == [] and word in out["errors"][0]["reason"]
    ok = write_xlsx(tmp_path / "ok.xlsx", PLAIN_ROWS)
    run = subprocess.run([sys.executable, "-m", "fieldapp", "--data-dir", str(data), "import-tasks", str(ok)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
