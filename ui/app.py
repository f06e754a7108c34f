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


def _first_task_with_findings(store) -> str | None:  # noqa: ANN001
    with store.session() as s:
        row = s.connection().exec_driver_sql(
            "SELECT task_id FROM findings f JOIN photos p ON p.finding_id = f.id "
            "GROUP BY task_id ORDER BY COUNT(DISTINCT f.status) DESC, COUNT(*) DESC LIMIT 1").first()
    return row[0] if row else None


def run(data_dir: Path, lang: str | None = None, screenshot: Path | None = None) -> int:
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from fieldapp.store import Store
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
        store = Store(data_dir, author=settings.get("inspector_name"))
    except FieldAppError as exc:
        log.warning("cannot open %s: %s", data_dir, exc)
        if screenshot is not None:
            print(exc.message(i18n.current_lang()), file=sys.stderr)
        else:
            QMessageBox.critical(None, APP_NAME, exc.message(i18n.current_lang()))
        return 2
    log.info("FieldApp %s started on %s", __version__, data_dir)
    window = MainWindow(store, settings)
    try:
        if screenshot is not None:
            window.resize(1440, 880)
            window.show()
            showcase = _first_task_with_findings(store)
            if showcase:
                window.select_task(showcase)
            for _ in range(3):
                app.processEvents()
            ok = window.grab().save(str(screenshot))
            window.close()
            return 0 if ok else 1

        if os.environ.get("FIELDAPP_EXIT_AFTER_PAINT"):  # for bench/startup.py
            class _QuitOnPaint(QObject):
                def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                    if event.type() == QEvent.Type.Paint:
                        QTimer.singleShot(0, app.quit)
                    return False

            quitter = _QuitOnPaint(window)
            window.table.viewport().installEventFilter(quitter)
        window.show()
        return app.exec()
    finally:
        window.runner.shutdown()
        store.close()
