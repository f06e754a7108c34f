"""Shared helpers for the core tests: real images, findings in a given state, table counts."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy import func, select

EXIF_IFD = 0x8769
GPS_IFD = 0x8825
DATETIME_ORIGINAL = 36867
ORIENTATION = 0x0112


def _dms(value: float) -> tuple[IFDRational, IFDRational, IFDRational]:
    value = abs(value)
    deg = int(value)
    minutes_f = (value - deg) * 60
    minutes = int(minutes_f)
    seconds = Fraction((minutes_f - minutes) * 60).limit_denominator(10000)
    return (IFDRational(deg, 1), IFDRational(minutes, 1),
            IFDRational(seconds.numerator, seconds.denominator))


def write_jpeg(path, size=(64, 48), color="red", exif_time: dt.datetime | None = None,
               gps: tuple[float, float] | None = None, orientation: int | None = None,
               quality: int = 90) -> Path:
    """A real JPEG with real EXIF (DateTimeOriginal in the Exif IFD, GPS IFD, Orientation)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    if exif_time is not None:
        exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] = exif_time.strftime("%Y:%m:%d %H:%M:%S")
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(GPS_IFD)
        g[0] = b"\x02\x02\x00\x00"
        g[1] = "N" if lat >= 0 else "S"
        g[2] = _dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = _dms(lon)
    img.save(path, "JPEG", quality=quality, exif=exif.tobytes())
    return path


def sha256_file(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def count(store, model) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def counts(store) -> dict[str, int]:
    from fieldapp.models import ChangeLogEntry, Check, Finding, Photo, Task, Visit

    return {m.__tablename__: count(store, m) for m in (Task, Visit, Finding, Check, Photo, ChangeLogEntry)}


def finding_status(store, finding_id: str) -> str:
    from fieldapp.models import Finding

    with store.session() as s:
        return s.get(Finding, finding_id).status


def task_status(store, task_id: str) -> str:
    from fieldapp.models import Task

    with store.session() as s:
        return s.get(Task, task_id).status


def new_finding(store, task_id: str, description: str = "小区消防通道被占用") -> str:
    from fieldapp.services.findings import record_finding

    (fid,) = record_finding(store, task_id, description=description, severity="serious",
                            responsible_unit="街道办", requirement="限期清理").findings
    return fid


def finding_in(store, task_id: str, status: str) -> str:
    """A finding brought to `status` through the real services."""
    from fieldapp.services import findings

    fid = new_finding(store, task_id)
    if status == "open":
        return fid
    findings.start_rectification(store, fid)
    if status == "rectifying":
        return fid
    findings.submit_for_check(store, fid)
    if status == "pending_check":
        return fid
    assert status == "closed"
    after = write_jpeg(store.data_dir.parent / f"after-{fid}.jpg", color="green")
    findings.record_check(store, fid, result="rectified", photos=[(after, "after")])
    return fid


def stored_photo_files(photos_root: Path) -> list[Path]:
    """Original photo files (photos/ab/<sha>), not thumbnails or tmp."""
    return [p for p in photos_root.glob("[0-9a-f][0-9a-f]/*") if p.is_file()]


def run_fieldapp(*args: str, env_extra: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`python -m fieldapp ARGS` in a child process, Chinese messages unless told otherwise."""
    env = dict(os.environ)
    env.pop("FIELDAPP_LANG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "fieldapp", *args], capture_output=True,
                          text=True, encoding="utf-8", env=env, timeout=timeout)
