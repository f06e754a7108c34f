"""Logging: a rotating file in the data dir; never tokens or passwords."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(data_dir: Path, level: int = logging.INFO) -> Path | None:
    """Log to data_dir/logs/fieldapp.log (1 MB × 5). Returns the file, or None if unwritable."""
    root = logging.getLogger()
    root.setLevel(level)
    path = data_dir / "logs" / "fieldapp.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
