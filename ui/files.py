"""Files a person hands the window: which suffixes we take, and the files of a drag or drop."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDragEnterEvent, QDropEvent

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif"}
SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}


def dropped_files(event: QDropEvent | QDragEnterEvent, suffixes: set[str] | None = None) -> list[Path]:
    """Local files carried by the event, optionally only those with one of `suffixes`."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    files = [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]
    return [f for f in files if suffixes is None or f.suffix.lower() in suffixes]


def file_filter(label: str, suffixes: set[str]) -> str:
    return f"{label} ({' '.join('*' + s for s in sorted(suffixes))})"
