"""Reading a workbook in a child process, limited in time and memory.

Parsers of spreadsheet formats meet hostile and broken files: a Rust panic (which Python sees
as a BaseException), an endless loop, a zip bomb that asks for gigabytes. None of that may
take down the window or the machine, so the file is read by `reader_worker` in a separate
process under an address-space limit (RLIMIT_AS on POSIX), a CPU-time limit and a wall-clock
deadline enforced here. Before it starts, the file's first bytes decide its format (the
extension may lie) and a zip's directory is checked for bombs and encryption.

The result is plain data: `WorkbookData` with, per sheet, rows of cells (None or "" when
blank, str, int, float, bool; dates as ISO strings) indexed from A1, so row i is Excel row i + 1, plus hidden
rows and columns, merged ranges and formula-error cells where the format tells them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

from fieldapp.errors import Interrupted, Text
from fieldapp.excel.errors import (
    NotASpreadsheet, SheetNotFound, WorkbookDamaged, WorkbookEncoding, WorkbookEncrypted,
    WorkbookRejected, WorkbookTimeout, WorkbookTooLarge,
)

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Limits:
    """What one read may cost. The defaults fit a 200,000-row task list with room to spare."""

    seconds: float = 120.0
    memory_mib: int = 1536  # address space of the child (a 50,000-row list needs about 200)
    max_rows: int = 200_000  # per sheet
    max_cells: int = 10_000_000  # per sheet, rows × columns
    max_file_mib: int = 256
    max_unzipped_mib: int = 1024
    max_ratio: int = 200  # a zip member inflating more than this (and past 16 MiB) is a bomb


@dataclass
class SheetData:
    name: str
    index: int
    visible: bool = True
    loaded: bool = False  # hidden sheets and sheets not asked for are listed, not read
    rows: list[list[Any]] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)  # Excel row numbers (1-based)
    hidden_cols: set[int] = field(default_factory=set)  # column indexes (0-based)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r0, c0, r1, c1 (0-based, inclusive)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 0-based → "#REF!"

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass
class WorkbookData:
    path: Path
    format: str
    size: int
    sha256: str
    sheets: list[SheetData]
    reader_peak_mib: float | None = None  # the child's peak resident memory, where the OS tells

    @property
    def name(self) -> str:
        return self.path.name

    def sheet(self, name: str) -> SheetData:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(name)


def _reason(zh: str, en: str) -> Text:
    return Text(zh, en)


def sniff(path: Path, limits: Limits) -> str:
    """The file's real format, from its content. Refuses what is not a readable spreadsheet."""
    name = path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except FileNotFoundError:
        raise WorkbookRejected(str(path), name=name, reason=_reason("文件不存在", "the file does not exist")) from None
    except OSError as exc:
        raise WorkbookRejected(str(exc), name=name, reason=_reason("文件无法打开", "the file cannot be opened")) from None
    if size == 0:
        raise WorkbookDamaged("empty file", name=name)
    if size > limits.max_file_mib * 1024 * 1024:
        raise WorkbookTooLarge(f"{size} bytes", name=name, reason=_reason(
            f"文件大小 {size // 1048576} MB，上限 {limits.max_file_mib} MB",
            f"{size // 1048576} MB, the limit is {limits.max_file_mib} MB"))
    ext = path.suffix.lower().lstrip(".")
    if head.startswith(ZIP_MAGICS):
        return _sniff_zip(path, ext, limits)
    if head.startswith(OLE_MAGIC):
        with open(path, "rb") as fh:
            data = fh.read(min(size, 64 * 1024 * 1024))
        if _ENCRYPTION_INFO in data:
            raise WorkbookEncrypted("OLE container with EncryptionInfo", name=name)
        return "xls"
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    raise NotASpreadsheet(f"magic {head[:4]!r}", name=name)


def _sniff_zip(path: Path, ext: str, limits: Limits) -> str:
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            mimetype = zf.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        raise WorkbookDamaged(f"zip: {exc}", name=name) from None
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise WorkbookEncrypted(f"encrypted zip member {info.filename}", name=name)
        total += info.file_size
        if info.file_size > 16 * 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise WorkbookTooLarge(f"zip bomb: {info.filename}", name=name, reason=_reason(
                f"压缩比异常（{info.filename} 解压后 {info.file_size // 1048576} MB），疑似“压缩炸弹”",
                f"an abnormal compression ratio ({info.filename} inflates to {info.file_size // 1048576} MB): "
                "it looks like a zip bomb"))
    if total > limits.max_unzipped_mib * 1024 * 1024:
        raise WorkbookTooLarge(f"{total} bytes unzipped", name=name, reason=_reason(
            f"解压后 {total // 1048576} MB，上限 {limits.max_unzipped_mib} MB",
            f"{total // 1048576} MB unzipped, the limit is {limits.max_unzipped_mib} MB"))
    if mimetype.startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
        return "ods"
    if "xl/workbook.bin" in names:
        return "xlsb"  # Excel's binary workbook: calamine reads it too
    if "xl/workbook.xml" in names:
        macro = "xl/vbaProject.bin" in names or ext == "xlsm"
        return "xlsm" if macro else "xlsx"
    if "[Content_Types].xml" in names and not any(n.startswith("xl/") for n in names):
        raise NotASpreadsheet("an Office file that is not a workbook", name=name)
    if "xl/worksheets/sheet1.xml" in names or any(n.startswith("xl/worksheets/") for n in names):
        raise WorkbookDamaged("xl/workbook.xml missing", name=name)
    raise NotASpreadsheet("a zip archive that is not a workbook", name=name)


def worker_command() -> list[str]:
    """How to start the worker: a module in a checkout, a hidden subcommand in a frozen build."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "excel-worker"]
    return [sys.executable, "-m", "fieldapp.excel.reader_worker"]


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds fieldapp/
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONIOENCODING"] = "utf-8"
    env["MALLOC_ARENA_MAX"] = "2"  # fewer malloc arenas: less address space under RLIMIT_AS
    env["RUST_BACKTRACE"] = "0"  # a backtrace needs memory the child may not have left
    env.pop("PYTHONSTARTUP", None)
    return env


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_workbook(
    path: Path | str, *, sheets: list[str] | None = None, limits: Limits | None = None,
    progress: Progress | None = None, cancel: threading.Event | None = None,
    meanwhile: Callable[[], Any] | None = None,
) -> WorkbookData:
    """Read `path` in a limited child process. `sheets`: only these (by name); default: every
    visible worksheet. `meanwhile`: work for this process while the child parses (called once).
    Raises a `WorkbookRejected` subclass for any file it cannot read, `Interrupted` on cancel."""
    path = Path(path)
    limits = limits or Limits()
    fmt = sniff(path, limits)
    name = path.name
    request = {
        "path": str(path), "format": fmt, "sheets": sheets, "memory_mib": limits.memory_mib,
        "cpu_seconds": int(limits.seconds) + 5, "max_rows": limits.max_rows,
        "max_cells": limits.max_cells, "max_file_bytes": limits.max_file_mib * 1024 * 1024,
        "max_unzipped_bytes": limits.max_unzipped_mib * 1024 * 1024,
    }
    kwargs: dict[str, Any] = {}
    if os.name == "nt":  # pragma: no cover - no console window flashing up from the GUI
        kwargs["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    else:
        kwargs["start_new_session"] = True  # a Ctrl+C meant for us is not the child's business
    started = time.monotonic()
    proc = subprocess.Popen(
        worker_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=_worker_env(), **kwargs,
    )
    lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    stderr_tail = bytearray()

    def pump_out() -> None:
        try:
            for line in proc.stdout:  # type: ignore[union-attr]
                lines.put(line)
        except (OSError, ValueError):
            pass
        lines.put(None)

    def pump_err() -> None:
        try:
            for chunk in iter(lambda: proc.stderr.read(4096), b""):  # type: ignore[union-attr]
                stderr_tail.extend(chunk)
                del stderr_tail[:-8192]
        except (OSError, ValueError):
            pass

    readers = [threading.Thread(target=pump_out, daemon=True), threading.Thread(target=pump_err, daemon=True)]
    for t in readers:
        t.start()
    result = WorkbookData(path=path, format=fmt, size=path.stat().st_size, sha256="", sheets=[])
    by_index: dict[int, SheetData] = {}
    error: dict[str, Any] | None = None
    done = False
    try:
        try:
            proc.stdin.write(json.dumps(request).encode("utf-8") + b"\n")  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass  # the child died at once; its exit status tells why
        # The parent hashes the file while the child parses it: the hash keys the import.
        result.sha256 = _sha256(path)
        if meanwhile is not None:
            meanwhile()
        deadline = started + limits.seconds
        while True:
            if cancel is not None and cancel.is_set():
                raise Interrupted()
            if time.monotonic() > deadline:
                raise WorkbookTimeout(f"{limits.seconds}s", name=name, seconds=int(limits.seconds))
            try:
                line = lines.get(timeout=0.05)
            except queue.Empty:
                continue
            if line is None:
                break
            try:
                msg = json.loads(line)
            except ValueError:
                break  # a half-written line: the child died while writing
            kind = msg.get("t")
            if kind == "rows":
                by_index[msg["index"]].rows.extend(msg["rows"])
            elif kind == "progress":
                if progress:
                    progress(msg["done"], msg["total"])
            elif kind == "book":
                result.format = msg["format"]
                result.sheets = [SheetData(name=s["name"], index=s["index"], visible=s["visible"])
                                 for s in msg["sheets"] if s["kind"] == "sheet"]
                by_index = {s.index: s for s in result.sheets}
                if sheets is not None:
                    missing = [n for n in sheets if n not in {s.name for s in result.sheets}]
                    if missing:
                        raise SheetNotFound(missing[0], name=name, sheet=missing[0],
                                            sheets="、".join(s.name for s in result.sheets) or "—")
            elif kind == "sheet":
                by_index[msg["index"]].loaded = True
            elif kind == "extra":
                sd = by_index[msg["index"]]
                sd.hidden_rows = set(msg["hidden_rows"])
                sd.hidden_cols = set(msg["hidden_cols"])
                sd.merged = [tuple(m) for m in msg["merged"]]  # type: ignore[misc]
                sd.errors = {tuple(map(int, k.split(","))): v for k, v in msg["errors"].items()}  # type: ignore[misc]
            elif kind == "error":
                error = msg
            elif kind == "done":
                done = True
                result.reader_peak_mib = msg.get("peak_mib")
        try:
            proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise WorkbookTimeout(f"{limits.seconds}s", name=name, seconds=int(limits.seconds)) from None
    except BaseException:
        _kill(proc)
        raise
    finally:
        for t in readers:
            t.join(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
    log.info("read %s (%s, %d bytes) in %.2fs", name, fmt, result.size, time.monotonic() - started)
    if error is not None:
        raise _refusal(error, name, limits, bytes(stderr_tail).decode("utf-8", "replace"))
    if not done or proc.returncode != 0:
        raise _death(proc.returncode, bytes(stderr_tail), name, limits)
    return result


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:  # pragma: no cover - a kill that does not take
        log.error("excel reader %s did not die", proc.pid)


def _too_large_memory(name: str, limits: Limits, detail: str) -> WorkbookTooLarge:
    return WorkbookTooLarge(detail, name=name, reason=_reason(
        f"读取它需要超过 {limits.memory_mib} MB 内存",
        f"reading it needs more than {limits.memory_mib} MB of memory"))


_MEMORY_WORDS = ("memory allocation", "MemoryError", "out of memory", "Cannot allocate")


def _refusal(msg: dict[str, Any], name: str, limits: Limits, stderr: str = "") -> WorkbookRejected:
    code, detail = msg.get("code", ""), msg.get("detail", "")
    log.warning("excel reader refused %s: %s %s", name, code, detail)
    if code in ("panic", "damaged", "internal") and any(w in stderr for w in _MEMORY_WORDS):
        code = "memory"  # under the memory limit, allocations fail wherever they happen
    if code == "encrypted":
        return WorkbookEncrypted(detail, name=name)
    if code == "encoding":
        return WorkbookEncoding(detail, name=name)
    if code == "not_spreadsheet":
        return NotASpreadsheet(detail, name=name)
    if code == "memory":
        return _too_large_memory(name, limits, detail)
    if code == "too_many_rows":
        return WorkbookTooLarge(detail, name=name, reason=_reason(
            f"工作表超过 {limits.max_rows:,} 行", f"a sheet has more than {limits.max_rows:,} rows"))
    if code in ("too_many_cells", "too_large"):
        return WorkbookTooLarge(detail, name=name, reason=_reason(
            "工作表的单元格过多", "a sheet has too many cells"))
    return WorkbookDamaged(detail, name=name)


def _death(returncode: int | None, stderr: bytes, name: str, limits: Limits) -> WorkbookRejected:
    text = stderr.decode("utf-8", "replace")
    log.warning("excel reader for %s died (status %s): %s", name, returncode, text[-2000:])
    if any(w in text for w in _MEMORY_WORDS):
        return _too_large_memory(name, limits, f"status {returncode}")
    if returncode is not None and returncode < 0 and -returncode == getattr(signal, "SIGXCPU", -1):
        return WorkbookTimeout(f"status {returncode}", name=name, seconds=int(limits.seconds))
    if returncode is not None and returncode < 0 and -returncode == getattr(signal, "SIGKILL", -1):
        # Not us (we raise before killing): the kernel's out-of-memory killer.
        return _too_large_memory(name, limits, f"status {returncode}")
    return WorkbookDamaged(f"reader died with status {returncode}", name=name)
