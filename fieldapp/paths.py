"""Where FieldApp keeps its files: the per-user data dir and the bundled resources."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

from fieldapp import APP_ID


def default_data_dir() -> Path:
    env = os.environ.get("FIELDAPP_DATA_DIR")
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir(APP_ID, appauthor=False))


def resources_dir() -> Path:
    """resources/ beside the packages in a checkout, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"
