"""Start-up of the window: Qt application, language, store, main window (or a screenshot)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from fieldapp import APP_NAME, __version__
from fieldapp.errors import FieldAppError
from fieldapp.logs import setup_logging

log = logging.getLogger(__name__)


def _showcase_task(con) -> str | None:  # noqa: ANN001 - sqlite3.Connection
    """The task whose findings show the most of the app (for --screenshot)."""
    row = con.execute(
        "SELECT task_id FROM findings f JOIN photos p ON p.finding_id = f.id "
        "GROUP BY task_id ORDER BY COUNT(DISTINCT f.status) DESC, COUNT(*) DESC LIMIT 1").fetchone()
    return row[0] if row else None


def run(data_dir: Path, lang: str | None = None, screenshot: Path | None = None) -> int:
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from fieldapp.datadir import DataDir
    from ui import i18n
    from ui.error_dialog import install_excepthook
    from ui.main_window import MainWindow
    from ui.settings import Settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    setup_logging(data_dir)
    install_excepthook()
    settings = Settings(data_dir)
    lang = lang or settings.get("language")
    i18n.install(lang)
    try:
        datadir = DataDir(data_dir)
    except FieldAppError as exc:
        log.warning("cannot open %s: %s", data_dir, exc)
        if screenshot is not None:
            print(exc.message(i18n.current_lang()), file=sys.stderr)
        else:
            QMessageBox.critical(None, APP_NAME, exc.message(i18n.current_lang()))
        return 2
    log.info("FieldApp %s started on %s", __version__, data_dir)
    window = MainWindow(datadir, settings)

    def attach() -> None:
        from fieldapp.store import Store

        window.attach_store(Store(datadir, author=settings.get("inspector_name")))
        if os.environ.get("FIELDAPP_EXIT_AFTER_PAINT") == "ready":  # bench/startup.py
            os._exit(0)
        if screenshot is None:
            QTimer.singleShot(0, window.ask_name)

    try:
        if screenshot is not None:
            window.remember_layout = False
            attach()
            window.resize(1440, 880)
            window.show()
            showcase = _showcase_task(window.reader)
            if showcase:
                window.select_task(showcase)
            for _ in range(3):
                app.processEvents()
            ok = window.grab().save(str(screenshot))
            window.close()
            return 0 if ok else 1

        class _FirstPaint(QObject):
            """The list paints first; the store and task panel load right after."""

            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    for watched in painted:
                        watched.removeEventFilter(self)
                    if os.environ.get("FIELDAPP_EXIT_AFTER_PAINT") == "paint":  # bench/startup.py
                        os._exit(0)
                    QTimer.singleShot(0, attach)
                return False

        first_paint = _FirstPaint(window)
        painted = (window.table.viewport(), window.welcome)
        for watched in painted:
            watched.installEventFilter(first_paint)
        window.show()
        return app.exec()
    finally:
        window.runner.shutdown()
        if window.sync is not None:
            window.sync.shutdown()
        window.model.query.shutdown()
        window.reader.close()
        if window.store is not None:
            window.store.close()
        else:
            datadir.close()
