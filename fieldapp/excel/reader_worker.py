"""The child process that reads a workbook, so that no file can take down the window.

Run as ``python -m fieldapp.excel.reader_worker`` (or ``fieldapp excel-worker`` in a frozen
build) by `fieldapp.excel.reader`. It reads one JSON request on stdin, limits its own memory
(RLIMIT_AS) and CPU time, reads the file with python-calamine (or the csv module), and writes
JSON lines to stdout:

    {"t": "book", "format": "xlsx", "sheets": [{"name", "index", "visible", "kind"}...]}
    {"t": "sheet", "index": 0, "name": "…", "height": 123, "width": 12}
    {"t": "rows", "index": 0, "start": 0, "rows": [[…], …]}      cells: null or "" (blank), str, int, float, bool
    {"t": "extra", "index": 0, "hidden_rows": […], "hidden_cols": […], "merged": […], "errors": {…}}
    {"t": "progress", "done": n, "total": m}
    {"t": "error", "code": "encrypted" | "damaged" | "too_many_rows" | …, "detail": "…"}
    {"t": "done"}

Dates become ISO strings ("2024-12-31", "2024-12-31T10:00:00"). python-calamine reports neither
hidden rows and columns nor formula errors (#REF! reads as blank), so for .xlsx the sheet's XML
is scanned for them, for .ods content.xml, and for .xls xlrd reads them, each in a thread while
calamine parses; a scan that fails loses only those extras. Everything, a Rust panic included
(a BaseException), ends as an "error" line; only the kernel (memory limit, kill) ends it
otherwise, and the parent reports that too.

This module imports nothing from FieldApp, so the child starts fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import queue
import re
import sys
import threading
import time
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

CHUNK_ROWS = 4000


class Refused(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def emit(obj: dict[str, Any]) -> None:
    out = sys.stdout
    # default: a cell JSON has no type for (a date, a time) becomes text as `_cell` writes it
    out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_cell))
    out.write("\n")


def set_limits(memory_mib: int, cpu_seconds: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows: the parent's time limit still holds
        return
    if memory_mib:
        limit = memory_mib * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    if cpu_seconds:
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        cap = cpu_seconds if hard == resource.RLIM_INFINITY else min(cpu_seconds, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (cap, hard))


# ---------------------------------------------------------------- cells


def _cell(v: Any) -> Any:
    if v == "" or v is None:
        return None
    t = type(v)
    if t is str or t is float or t is int or t is bool:
        return v
    if t is dt.datetime:
        if v.hour == v.minute == v.second == v.microsecond == 0:
            return v.date().isoformat()
        return v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return str(v)


def _row(values: list[Any]) -> list[Any]:
    out = [_cell(v) for v in values]
    while out and out[-1] is None:
        out.pop()
    return out


# ---------------------------------------------------------------- xlsx sheet XML scan

_NS = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW_HIDDEN = re.compile(rb"<" + _NS + rb"row\b[^>]*?\bhidden=\"(?:1|true)\"[^>]*>")
_COL = re.compile(rb"<" + _NS + rb"col\b[^>]*>")
_ERR_CELL = re.compile(rb"<" + _NS + rb"c\b[^>]*?\bt=\"e\"[^>]*>.*?</" + _NS + rb"c>", re.S)
_ATTR_R = re.compile(rb"\br=\"([A-Z]{1,3})?(\d+)\"")
_ATTR = re.compile(rb"\b(min|max|hidden)=\"([^\"]*)\"")
_V = re.compile(rb"<" + _NS + rb"v>([^<]*)</")


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → part name inside the .xlsx, from workbook.xml and its relationships."""
    wb = zf.read("xl/workbook.xml")
    rels = zf.read("xl/_rels/workbook.xml.rels")
    targets = {}
    for m in re.finditer(rb"<(?:\w+:)?Relationship\b([^>]*)>", rels):
        attrs = dict(re.findall(rb"\b(Id|Target)=\"([^\"]*)\"", m[1]))
        if b"Id" in attrs and b"Target" in attrs:
            t = attrs[b"Target"].decode("utf-8", "replace")
            t = t.lstrip("/") if t.startswith("/") else "xl/" + t
            targets[attrs[b"Id"]] = os.path.normpath(t).replace("\\", "/")
    out = {}
    for m in re.finditer(rb"<(?:\w+:)?sheet\b([^>]*)>", wb):
        name = re.search(rb"\bname=\"([^\"]*)\"", m[1])
        rid = re.search(rb"\b(?:\w+:)?id=\"([^\"]*)\"", m[1])
        if name and rid and rid[1] in targets:
            out[_xml_unescape(name[1].decode("utf-8", "replace"))] = targets[rid[1]]
    return out


def _xml_unescape(s: str) -> str:
    return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def scan_xlsx_sheet(zf: zipfile.ZipFile, part: str, max_bytes: int) -> dict[str, Any]:
    """Hidden rows (1-based), hidden columns (0-based) and formula-error cells of one sheet."""
    hidden_rows: list[int] = []
    hidden_cols: set[int] = set()
    errors: dict[str, str] = {}
    seen = 0
    carry = b""
    in_cols = True
    with zf.open(part) as fh:
        while True:
            chunk = fh.read(1 << 20)
            seen += len(chunk)
            if seen > max_bytes:
                raise Refused("too_large", f"sheet XML larger than {max_bytes} bytes")
            buf = carry + chunk
            if chunk:
                cut = buf.rfind(b"</c>")
                cut = buf.rfind(b">") + 1 if cut < 0 else cut + 4
                if cut <= 0:
                    carry = buf
                    continue
                body, carry = buf[:cut], buf[cut:]
            else:
                body, carry = buf, b""
            if in_cols:
                for m in _COL.finditer(body):
                    attrs = dict(_ATTR.findall(m[0]))
                    if attrs.get(b"hidden") in (b"1", b"true"):
                        lo = int(attrs.get(b"min", b"1") or 1)
                        hi = min(int(attrs.get(b"max", lo) or lo), lo + 16384)
                        hidden_cols.update(range(lo - 1, hi))
                if b"sheetData" in body:
                    in_cols = False
            for m in _ROW_HIDDEN.finditer(body):
                r = _ATTR_R.search(m[0])
                if r:
                    hidden_rows.append(int(r[2]))
            if b't="e"' in body:
                for m in _ERR_CELL.finditer(body):
                    r = _ATTR_R.search(m[0])
                    v = _V.search(m[0])
                    if r and r[1]:
                        ref = f"{int(r[2]) - 1},{_col_index(r[1])}"
                        errors[ref] = v[1].decode("utf-8", "replace") if v else "#ERROR"
            if not chunk:
                break
    return {"hidden_rows": hidden_rows, "hidden_cols": sorted(hidden_cols), "errors": errors}


_DIMENSION = re.compile(rb"<" + _NS + rb"dimension\b[^>]*\bref=\"[A-Z]{1,3}\d+:([A-Z]{1,3})(\d+)\"")


def _precheck_xlsx_sheet(zf: zipfile.ZipFile, part: str, name: str, req: dict[str, Any]) -> None:
    """Refuse a sheet whose own header says it is huge, before calamine spends memory on it."""
    try:
        info = zf.getinfo(part)
        if info.file_size > req["max_unzipped_bytes"]:
            raise Refused("too_large", f"{name}: {info.file_size} bytes of XML")
        with zf.open(part) as fh:
            head = fh.read(1 << 16)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # calamine will say what is wrong
    m = _DIMENSION.search(head)
    if m:
        rows, cols = int(m[2]), _col_index(m[1]) + 1
        if rows > req["max_rows"]:
            raise Refused("too_many_rows", f"{name}: dimension says {rows} rows")
        if rows * cols > req["max_cells"]:
            raise Refused("too_many_cells", f"{name}: dimension says {rows} x {cols}")


# ---------------------------------------------------------------- ods content.xml scan

_T = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"


def scan_ods(path: str, max_bytes: int, max_rows: int) -> dict[str, dict[str, Any]]:
    """Per sheet of an .ods: merged ranges, hidden (collapsed or filtered) rows and columns."""
    import xml.etree.ElementTree as ET

    out: dict[str, dict[str, Any]] = {}
    with zipfile.ZipFile(path) as zf:
        if zf.getinfo("content.xml").file_size > max_bytes:
            return out
        with zf.open("content.xml") as fh:
            sheet = None
            row = col = 0
            for event, el in ET.iterparse(fh, events=("start", "end")):
                tag = el.tag
                if event == "start":
                    if tag == _T + "table":
                        sheet = {"merged": [], "hidden_rows": [], "hidden_cols": []}
                        out[el.get(_T + "name", "")] = sheet
                        row = col = 0
                    elif sheet is None:
                        continue
                    elif tag == _T + "table-column":
                        n = min(int(el.get(_T + "number-columns-repeated", "1")), 16384)
                        if el.get(_T + "visibility", "visible") != "visible":
                            sheet["hidden_cols"].extend(range(col, col + n))
                        col += n
                    elif tag == _T + "table-row":
                        col = 0
                    elif tag in (_T + "table-cell", _T + "covered-table-cell"):
                        cs = int(el.get(_T + "number-columns-spanned", "1"))
                        rs = int(el.get(_T + "number-rows-spanned", "1"))
                        if tag == _T + "table-cell" and (cs > 1 or rs > 1):
                            sheet["merged"].append([row, col, row + rs - 1, col + cs - 1])
                    continue
                if sheet is None:
                    continue
                if tag in (_T + "table-cell", _T + "covered-table-cell"):
                    col += min(int(el.get(_T + "number-columns-repeated", "1")), 16384)
                elif tag == _T + "table-row":
                    n = int(el.get(_T + "number-rows-repeated", "1"))
                    if el.get(_T + "visibility", "visible") != "visible" and row < max_rows:
                        sheet["hidden_rows"].extend(range(row + 1, min(row + n, max_rows) + 1))
                    row += n
                elif tag == _T + "table":
                    sheet = None
                el.clear()
    return out


# ---------------------------------------------------------------- xls (BIFF) scan by xlrd

XLS_SCAN_MAX_CELLS = 2_000_000  # xlrd keeps ~80 bytes a cell: ~160 MiB beside calamine's copy
XLS_SCAN_WAIT = 30.0  # seconds to wait for one sheet's answer (xlrd reads 600,000 cells in ~1)


def scan_xls(path: str, names: Iterable[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """For each sheet name of `names`, as it comes: (name, the sheet's hidden rows (1-based),
    hidden columns (0-based) and formula-error cells), read by xlrd; {} for what xlrd cannot
    read. Never raises: calamine's cells stand whatever xlrd makes of the file."""
    sink = open(os.devnull, "w")  # xlrd's warnings go to stdout by default: the JSON channel
    book = xlrd = None
    try:
        import xlrd  # here: only .xls needs it, and the child starts fast

        # on_demand: one sheet in memory at a time; formatting_info: row and column records.
        book = xlrd.open_workbook(path, formatting_info=True, on_demand=True, ragged_rows=True,
                                  logfile=sink)
    except Exception:  # noqa: BLE001 - every name below is answered {}
        pass
    try:
        for name in names:
            found: dict[str, Any] = {}
            if book is not None:
                try:
                    found = _scan_xls_sheet(xlrd, book, name)
                except Exception:  # noqa: BLE001 - MemoryError included: only the extras are lost
                    pass
                try:
                    book.unload_sheet(name)
                except Exception:  # noqa: BLE001 - not loaded, or not there
                    pass
            yield name, found
    finally:
        try:
            if book is not None:
                book.release_resources()
        finally:
            sink.close()


def _scan_xls_sheet(xlrd, book, name: str) -> dict[str, Any]:
    sheet = book.sheet_by_name(name)
    hidden_rows = sorted(r + 1 for r, info in sheet.rowinfo_map.items() if info.hidden)
    hidden_cols = sorted(c for c, info in sheet.colinfo_map.items() if info.hidden)
    errors: dict[str, str] = {}
    for r in range(sheet.nrows):
        types = sheet.row_types(r)
        if xlrd.XL_CELL_ERROR in types:  # a formula's error result or a typed-in #REF!
            for c, typ in enumerate(types):
                if typ == xlrd.XL_CELL_ERROR:
                    errors[f"{r},{c}"] = xlrd.error_text_from_code.get(sheet.cell_value(r, c), "#ERROR")
    return {"hidden_rows": hidden_rows, "hidden_cols": hidden_cols, "errors": errors}


class XlsScan:
    """`scan_xls` in a thread, asked for one sheet at a time: it opens the workbook while
    calamine parses, but loads a sheet only once calamine has sized it and found it within
    XLS_SCAN_MAX_CELLS, so the two never hold an over-large sheet at once."""

    def __init__(self, path: str) -> None:
        self._asks: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._gone = False
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: str) -> None:
        try:
            for answer in scan_xls(path, iter(self._asks.get, None)):
                self._answers.put(answer)
        except BaseException:  # noqa: BLE001 - answer() sees the thread gone
            pass

    def ask(self, name: str) -> None:
        if not self._gone:
            self._asks.put(name)

    def answer(self, name: str) -> dict[str, Any]:
        """What xlrd found in sheet `name`, asked for last; {} if xlrd died or is stuck (then it
        is asked no more: a slow .xls must not time the whole read out)."""
        deadline = time.monotonic() + XLS_SCAN_WAIT
        while not self._gone:
            try:
                asked, found = self._answers.get(timeout=0.05)
            except queue.Empty:
                dead = not self._thread.is_alive() and self._answers.empty()
                self._gone = dead or time.monotonic() > deadline
                continue
            if asked == name:
                return found
        return {}

    def close(self) -> None:
        self._asks.put(None)


# ---------------------------------------------------------------- csv


def _decode_csv(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK and GB2312
    except UnicodeDecodeError as exc:
        raise Refused("encoding", str(exc)) from None


def read_csv(path: str, req: dict[str, Any]) -> None:
    with open(path, "rb") as fh:
        data = fh.read(req["max_file_bytes"] + 1)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Refused("not_spreadsheet", "binary data in a .csv file")
    text = _decode_csv(data)
    del data
    sample = text[:65536]
    delimiter = ","
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
    except csv.Error:
        pass
    name = os.path.splitext(os.path.basename(path))[0]
    emit({"t": "book", "format": "csv", "sheets": [{"name": name, "index": 0, "visible": True, "kind": "sheet"}]})
    csv.field_size_limit(1 << 20)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    emit({"t": "sheet", "index": 0, "name": name, "height": -1, "width": -1})
    batch: list[list[Any]] = []
    start = 0
    n = 0
    for record in reader:
        n += 1
        if n > req["max_rows"]:
            raise Refused("too_many_rows", f"more than {req['max_rows']} rows")
        batch.append(_row(record))
        if len(batch) >= CHUNK_ROWS:
            emit({"t": "rows", "index": 0, "start": start, "rows": batch})
            start += len(batch)
            batch = []
    if batch or not start:
        emit({"t": "rows", "index": 0, "start": start, "rows": batch})
    emit({"t": "extra", "index": 0, "hidden_rows": [], "hidden_cols": [], "merged": [], "errors": {}})


# ---------------------------------------------------------------- calamine


def read_book(path: str, req: dict[str, Any]) -> None:
    import python_calamine as pc

    fmt = req["format"]
    # calamine reports neither hidden rows nor error cells of .xls: xlrd opens it meanwhile.
    xls = XlsScan(path) if fmt == "xls" else None
    try:
        book = pc.CalamineWorkbook.from_path(path)
    except pc.PasswordError as exc:
        raise Refused("encrypted", str(exc)) from None
    metas = book.sheets_metadata
    sheets = []
    for i, meta in enumerate(metas):
        kind = "sheet" if str(meta.typ).endswith("WorkSheet") else "other"
        sheets.append({"name": meta.name, "index": i, "visible": str(meta.visible).endswith(".Visible"), "kind": kind})
    emit({"t": "book", "format": fmt, "sheets": sheets})
    wanted = req.get("sheets")
    zf = None
    parts: dict[str, str] = {}
    if fmt in ("xlsx", "xlsm"):
        try:
            zf = zipfile.ZipFile(path)
            parts = _sheet_parts(zf)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError):
            zf = None
    ods: dict[str, dict[str, Any]] = {}
    ods_thread = None
    if fmt == "ods":  # calamine reports neither merges nor hidden rows of .ods: read content.xml

        def run_ods() -> None:
            try:
                ods.update(scan_ods(path, req["max_unzipped_bytes"], req["max_rows"]))
            except Exception:  # noqa: BLE001 - the cells still come from calamine
                pass

        ods_thread = threading.Thread(target=run_ods, daemon=True)
        ods_thread.start()
    for info in sheets:
        if info["kind"] != "sheet":
            continue
        if wanted is not None:
            if info["name"] not in wanted:
                continue
        elif not info["visible"]:
            continue
        read_sheet(book, info, zf, parts.get(info["name"]), req, ods_scan=(ods_thread, ods), xls=xls)
    if xls is not None:
        xls.close()


def read_sheet(book, info: dict[str, Any], zf, part: str | None, req: dict[str, Any],
               ods_scan: tuple[threading.Thread | None, dict[str, dict[str, Any]]] = (None, {}),
               xls: XlsScan | None = None) -> None:
    idx = info["index"]
    scan: dict[str, Any] = {}
    scan_error: list[BaseException] = []

    def run_scan() -> None:
        try:
            scan.update(scan_xlsx_sheet(zf, part, req["max_unzipped_bytes"]))
        except BaseException as exc:  # reported after calamine, which says more
            scan_error.append(exc)

    scanner = None
    if zf is not None and part:
        _precheck_xlsx_sheet(zf, part, info["name"], req)
        scanner = threading.Thread(target=run_scan, daemon=True)
        scanner.start()
    sheet = book.get_sheet_by_index(idx)
    height = sheet.height
    end = sheet.end
    total_h = (end[0] + 1) if end else 0
    total_w = (end[1] + 1) if end else 0
    emit({"t": "sheet", "index": idx, "name": info["name"], "height": total_h, "width": total_w})
    if total_h > req["max_rows"] or height > req["max_rows"]:
        raise Refused("too_many_rows", f"{info['name']}: {total_h} rows")
    if total_h * max(total_w, 1) > req["max_cells"]:
        raise Refused("too_many_cells", f"{info['name']}: {total_h} x {total_w}")
    if xls is not None and total_h * max(total_w, 1) <= XLS_SCAN_MAX_CELLS:
        xls.ask(info["name"])  # a sheet calamine has sized and kept: xlrd reads it alongside
    else:
        xls = None
    merged = [list(a) + list(b) for a, b in (sheet.merged_cell_ranges or [])]  # right for .xls too
    data = sheet.to_python(skip_empty_area=False) if total_h else []
    del sheet
    total = len(data)
    for start in range(0, total, CHUNK_ROWS):
        # As calamine gives them (a third of the time of converting every cell here): blank
        # cells are "", dates go through emit's default. Only trailing blanks go, so that a
        # stray "" far to the right does not widen every row.
        chunk = data[start:start + CHUNK_ROWS]
        for row in chunk:
            while row and row[-1] == "":
                row.pop()
        emit({"t": "rows", "index": idx, "start": start, "rows": chunk})
        emit({"t": "progress", "done": min(start + CHUNK_ROWS, total), "total": total})
    if not total:
        emit({"t": "rows", "index": idx, "start": 0, "rows": []})
    del data
    if scanner is not None:
        scanner.join()
        if scan_error:
            exc = scan_error[0]
            if isinstance(exc, Refused):
                raise exc
            scan = {}
    ods_thread, ods = ods_scan
    if ods_thread is not None:
        ods_thread.join()
        scan = ods.get(info["name"], {})
        merged = scan.get("merged", merged)
    if xls is not None:
        scan = xls.answer(info["name"])
    emit({"t": "extra", "index": idx, "merged": merged, "hidden_rows": scan.get("hidden_rows", []),
          "hidden_cols": scan.get("hidden_cols", []), "errors": scan.get("errors", {})})


def _peak_mib() -> float | None:
    """This process's peak resident memory since exec (VmHWM; ru_maxrss would include the
    parent's memory at fork)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def main() -> int:
    try:
        req = json.loads(sys.stdin.readline())
    except BaseException as exc:  # noqa: BLE001 - a broken request is reported like any failure
        emit({"t": "error", "code": "internal", "detail": f"bad request: {exc!r}"})
        return 3
    set_limits(req.get("memory_mib", 0), req.get("cpu_seconds", 0))
    try:
        if req["format"] == "csv":
            read_csv(req["path"], req)
        else:
            read_book(req["path"], req)
        emit({"t": "done", "peak_mib": _peak_mib()})
        sys.stdout.flush()
        return 0
    except Refused as exc:
        emit({"t": "error", "code": exc.code, "detail": exc.detail})
    except MemoryError:
        emit({"t": "error", "code": "memory", "detail": "out of memory"})
    except BaseException as exc:  # noqa: BLE001 - includes pyo3's PanicException
        name = type(exc).__name__
        code = "panic" if "Panic" in name else "damaged"
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            code = "encrypted"
        emit({"t": "error", "code": code, "detail": f"{name}: {str(exc)[:500]}"})
    try:
        sys.stdout.flush()
    except BaseException:  # noqa: BLE001
        pass
    return 2


def run() -> int:
    """The child's entry point; exits the process (no interpreter teardown to hang in)."""
    # Big-buffered UTF-8 stdout; the parent reads JSON lines.
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False)
    code = main()
    try:
        sys.stdout.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    run()
