import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import datetime as dt  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import write_jpeg  # noqa: E402

from fieldapp.store import Store  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path):
    s = Store(data_dir, author="测试员")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def make_jpeg():
    """make_jpeg(path, size=(64, 48), color="red", exif_time=None, gps=None, orientation=None)
    writes a real JPEG with real EXIF and returns its Path."""
    return write_jpeg


@pytest.fixture
def task_id(store) -> str:
    from fieldapp.services.tasks import create_task

    changes = create_task(
        store, code="DC-2026-001", title="老旧小区改造进度督查", category="民生实事",
        responsible_units=["市住建局"], region_code="330102", region_name="上城区",
        deadline=dt.date(2026, 12, 31),
    )
    (tid,) = changes.tasks
    return tid


@pytest.fixture
def window(qtbot, store, data_dir):
    """The main window on `store`, in Chinese; fails a test that leaves background work running."""
    from PySide6.QtWidgets import QApplication, QDialog

    from ui import i18n
    from ui.main_window import MainWindow
    from ui.settings import Settings

    i18n.install("zh_CN")
    w = MainWindow(store, Settings(data_dir))
    qtbot.addWidget(w)
    w.show()
    yield w
    qtbot.waitUntil(lambda: w.runner.idle() and not w.model.loading, timeout=20000)
    for box in QApplication.topLevelWidgets():
        if isinstance(box, QDialog) and box.isVisible():
            box.close()
