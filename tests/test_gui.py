"""The inspector's loop in a real window (offscreen): table, task, visit, finding, photos,
transitions, refusals, restart. Dialogs are real widgets filled in by the test; only the
native file chooser is replaced where the code looks it up."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from collections.abc import Callable

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox

from fieldapp.domain import TaskStatus
from fieldapp.models import Check, Finding, Photo, Task, Visit
from fieldapp.services.tasks import create_task
from fieldapp.store import Store
from ui import i18n
from ui.main_window import MainWindow
from ui.settings import Settings
from ui.task_model import COLUMNS

pytestmark = pytest.mark.gui

TODAY = dt.date.today()


def seed_tasks(store: Store) -> dict[str, str]:
    """A small, varied task list; returns code → id."""
    rows = [
        ("DC-01", "西湖区河道保洁督查", "生态环保", "330106", "西湖区", TODAY - dt.timedelta(days=30), "date"),
        ("DC-02", "上城区老旧小区加装电梯", "民生实事", "330102", "上城区", TODAY + dt.timedelta(days=60), "date"),
        ("DC-03", "营商环境优化长效机制", "重大政策", "330106", "西湖区", None, "open_ended"),
        ("DC-04", "鄞州区农贸市场改造", "民生实事", "330212", "鄞州区", TODAY - dt.timedelta(days=3), "date"),
        ("DC-05", "政府工作报告重点任务落实", "政府工作报告", "330102", "上城区", TODAY + dt.timedelta(days=5), "date"),
    ]
    ids = {}
    for code, title, cat, rc, rn, deadline, kind in rows:
        ch = create_task(store, code=code, title=title, category=cat, region_code=rc, region_name=rn,
                         deadline=deadline, deadline_kind=kind,
                         deadline_text="长期坚持" if kind == "open_ended" else "",
                         responsible_units=[f"{rn}住建局", f"{rn}生态环境分局"], lead_unit=f"{rn}人民政府",
                         address=f"杭州市{rn}某路 1 号")
        ids[code] = next(iter(ch.tasks))
    return ids



def fill_dialog_then(qtbot, fill: Callable[[QDialog], None]) -> None:
    """When the next modal dialog opens, fill it in and accept it (as a person would)."""
    def later() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QDialog):
            QTimer.singleShot(20, later)
            return
        fill(dialog)
    QTimer.singleShot(0, later)


def message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def wait_message(qtbot) -> str:
    qtbot.waitUntil(lambda: bool(message_boxes()), timeout=10000)
    box = message_boxes()[-1]
    text = box.text()
    box.button(QMessageBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not box.isVisible())
    return text


def column(window: MainWindow, key: str) -> list[str]:
    model = window.model
    c = COLUMNS.index(key)
    return [model.data(model.index(r, c)) for r in range(model.rowCount())]


def test_table_sort_filter_counts_and_overdue(qtbot, store, window):
    seed_tasks(store)
    window.refresh()
    assert window.model.rowCount() == 5
    # default sort: deadline ascending, open-ended last
    assert column(window, "code") == ["DC-01", "DC-04", "DC-05", "DC-02", "DC-03"]
    overdue = column(window, "overdue")
    assert [c for c, o in zip(column(window, "code"), overdue) if o] == ["DC-01", "DC-04"]
    assert overdue[column(window, "code").index("DC-03")] == ""  # open-ended never overdue
    assert column(window, "deadline")[-1] == "长期坚持"
    assert "逾期" in window.model.headerData(COLUMNS.index("overdue"), Qt.Orientation.Horizontal)

    def settled(action) -> None:
        """Filters and sorts answer from a reader thread: act, then wait for the answer."""
        with qtbot.waitSignal(window.model.loaded, timeout=10000):
            action()

    settled(lambda: window.table.sortByColumn(COLUMNS.index("code"), Qt.SortOrder.DescendingOrder))
    assert column(window, "code") == ["DC-05", "DC-04", "DC-03", "DC-02", "DC-01"]

    bar = window.filter_bar
    settled(lambda: bar.category.setCurrentIndex(bar.category.findData("民生实事")))
    assert sorted(column(window, "code")) == ["DC-02", "DC-04"]
    settled(lambda: bar.overdue.setChecked(True))
    assert column(window, "code") == ["DC-04"]
    assert "1" in bar.counts.text() and "逾期" in bar.counts.text()
    settled(lambda: bar.overdue.setChecked(False))
    settled(lambda: bar.category.setCurrentIndex(0))
    settled(lambda: bar.region.setCurrentIndex(bar.region.findData("330106")))
    assert sorted(column(window, "code")) == ["DC-01", "DC-03"]
    settled(lambda: bar.region.setCurrentIndex(bar.region.findData("330100")))  # the city: all its counties
    assert sorted(column(window, "code")) == ["DC-01", "DC-02", "DC-03", "DC-05"]
    settled(lambda: bar.region.setCurrentIndex(0))
    settled(lambda: bar.status.setCurrentIndex(bar.status.findData(TaskStatus.COMPLETED.value)))
    assert window.model.rowCount() == 0
    assert "没有符合" in bar.counts.text() and bar.clear.isVisible()
    settled(bar.clear.click)
    assert window.model.rowCount() == 5 and not bar.clear.isVisible()
    settled(lambda: bar.search.setText("电梯"))
    assert column(window, "code") == ["DC-02"]
    settled(lambda: bar.search.setText("鄞州区住建局"))  # a responsible unit
    assert column(window, "code") == ["DC-04"]


def _open(qtbot, window, task_id) -> None:
    assert window.select_task(task_id)
    qtbot.waitUntil(lambda: window.detail.task_id == task_id)


def test_the_inspector_loop_then_restart(qtbot, store, data_dir, window, tmp_path, make_jpeg, monkeypatch):
    ids = seed_tasks(store)
    window.refresh()
    task_id = ids["DC-01"]
    _open(qtbot, window, task_id)
    detail = window.detail
    assert detail.title.text() == "西湖区河道保洁督查"
    assert "西湖区住建局" in detail._field_values["responsible"].text()
    assert "逾期" in detail._field_values["deadline"].text()

    # 3. a visit, then a finding — through the real dialogs
    def fill_visit(d):
        d.place.setText("西湖区文三路河段")
        d.latitude.setText("30.2741")
        d.longitude.setText("120.1551")
        d.summary.setPlainText("现场查看河道保洁情况")
        d.buttons.button(d.buttons.StandardButton.Ok).click()
    fill_dialog_then(qtbot, fill_visit)
    detail.visit_button.click()
    qtbot.waitUntil(lambda: detail.visits.rowCount() == 1, timeout=5000)
    assert detail.visits.item(0, 1).text() == "西湖区文三路河段"
    cell = lambda key: window.model.data(  # noqa: E731 - the table refreshes from a reader thread
        window.model.index(window.model.row_of_task(task_id), COLUMNS.index(key)))
    qtbot.waitUntil(lambda: cell("status") == "督查中", timeout=5000)

    def fill_finding(d):
        d.description.setPlainText("河道漂浮垃圾未及时清理")
        d.severity.setCurrentIndex(d.severity.findData("serious"))
        d.requirement.setPlainText("三日内清理并建立巡查台账")
        d.buttons.button(d.buttons.StandardButton.Ok).click()
    fill_dialog_then(qtbot, fill_finding)
    detail.finding_button.click()
    qtbot.waitUntil(lambda: detail.findings.rowCount() == 1, timeout=5000)
    assert detail.findings.item(0, 2).text() == "待整改"
    finding_id = detail.finding_id
    assert finding_id

    # 4. photos: file dialog and drag-and-drop, thumbnails, the large viewer with EXIF
    site = make_jpeg(tmp_path / "site.jpg", color="green", exif_time=dt.datetime(2026, 11, 20, 9, 30),
                     gps=(30.2741, 120.1551))
    monkeypatch.setattr("ui.task_detail.QFileDialog.getOpenFileNames",
                        lambda *a, **k: ([str(site)], ""))
    detail.photo_button.click()
    qtbot.waitUntil(lambda: detail.photos.count() == 1, timeout=5000)

    before = make_jpeg(tmp_path / "before.jpg", color="gray")
    detail.photo_kind.setCurrentIndex(detail.photo_kind.findData("before"))
    drop_files(detail.photos, [before])
    qtbot.waitUntil(lambda: detail.photos.count() == 2, timeout=5000)
    assert "整改前" in detail.photos.item(1).text()
    assert not detail.photos.item(0).icon().isNull()

    detail.photos.photo_opened.emit(detail.photos.item(0).data(Qt.ItemDataRole.UserRole))
    viewer = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "photoViewer" and w.isVisible())
    assert viewer.time_value.text() == "2026-11-20 09:30:00"
    assert viewer.gps_value.text().startswith("30.274")
    assert viewer.image_label.pixmap() is not None and not viewer.image_label.pixmap().isNull()
    viewer.close()

    # 5. refused transition: a check on an open finding says why
    detail.check_button.click()
    text = wait_message(qtbot)
    assert "待整改" in text and "待核查" in text
    # … and submitting from 待整改 too
    detail.submit_button.click()
    assert "整改中" in wait_message(qtbot)

    detail.start_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "整改中", timeout=5000)
    detail.submit_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "待核查", timeout=5000)

    # 未整改 sends it back (退回)
    def fail_check(d):
        d.result.setCurrentIndex(d.result.findData("not_rectified"))
        d.note.setPlainText("仍有垃圾")
        d.buttons.button(d.buttons.StandardButton.Ok).click()
    fill_dialog_then(qtbot, fail_check)
    detail.check_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "整改中", timeout=5000)
    assert detail.checks.rowCount() == 1 and detail.checks.item(0, 1).text() == "未整改"

    detail.submit_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "待核查", timeout=5000)

    # a passing check without an "after" photo is refused in the dialog, with the reason
    after = make_jpeg(tmp_path / "after.jpg", color="blue")
    def pass_check(d):
        d.result.setCurrentIndex(d.result.findData("rectified"))
        d.buttons.button(d.buttons.StandardButton.Ok).click()
        assert d.isVisible() and "整改后" in d.error.text()
        d.photos.add_files([after])
        d.buttons.button(d.buttons.StandardButton.Ok).click()
    fill_dialog_then(qtbot, pass_check)
    detail.check_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "已销号", timeout=5000)
    assert detail.photos.count() == 3
    qtbot.waitUntil(lambda: cell("closed") == "1", timeout=5000)

    # 6. quit and restart: everything is there, exactly
    with store.session() as s:
        snapshot = _snapshot(s)
    window.close()
    store.close()
    reopened = Store(data_dir)
    try:
        with reopened.session() as s:
            assert _snapshot(s) == snapshot
        w2 = MainWindow(reopened, Settings(data_dir))
        qtbot.addWidget(w2)
        w2.show()
        _open(qtbot, w2, task_id)
        assert w2.detail.findings.item(0, 2).text() == "已销号"
        assert w2.detail.photos.count() == 3
        assert w2.detail.visits.rowCount() == 1
        w2.close()
    finally:
        reopened.close()
        store.__init__(data_dir)  # the fixture closes it again


def _snapshot(session) -> dict:
    return {model.__tablename__: {o.id: o.to_dict() for o in session.query(model)}
            for model in (Task, Visit, Finding, Check, Photo)}


def drop_files(target, paths: list[Path]) -> None:
    """Deliver a file drop to the widget's handlers. Qt only routes drag events that come from
    its drag manager, which an offscreen test cannot drive, so the handlers are called directly."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = QPointF(10, 10)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    target.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    target.dropEvent(drop)


def test_corrupt_photo_dropped_is_refused_with_a_message(qtbot, store, window, tmp_path):
    ids = seed_tasks(store)
    from fieldapp.services.findings import record_finding

    record_finding(store, ids["DC-02"], description="电梯井道未封闭")
    window.refresh()
    _open(qtbot, window, ids["DC-02"])
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    drop_files(window.detail.photos, [bad])
    text = wait_message(qtbot)
    assert "broken.jpg" in text and "损坏" in text
    with store.session() as s:
        assert s.query(Photo).count() == 0
    assert window.detail.photos.count() == 0


def test_complete_task_refused_then_allowed(qtbot, store, window):
    ids = seed_tasks(store)
    from fieldapp.services.findings import record_finding

    record_finding(store, ids["DC-05"], description="台账不全")
    window.refresh()
    _open(qtbot, window, ids["DC-05"])
    window.detail.complete_button.click()
    assert "未销号" in wait_message(qtbot)
    _open(qtbot, window, ids["DC-02"])
    fill_dialog_then(qtbot, lambda box: box.button(QMessageBox.StandardButton.No).click())
    window.detail.complete_button.click()  # asked first; "No" changes nothing
    assert "督查中" not in window.detail.subtitle.text() and "已办结" not in window.detail.subtitle.text()
    fill_dialog_then(qtbot, lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    window.detail.complete_button.click()
    qtbot.waitUntil(lambda: "已办结" in window.detail.subtitle.text(), timeout=5000)


def test_switch_to_english_and_back(qtbot, store, window):
    seed_tasks(store)
    window.refresh()
    header = lambda: window.model.headerData(COLUMNS.index("title"), Qt.Orientation.Horizontal)  # noqa: E731
    assert header() == "任务名称"

    def choose_english(d):
        d.language.setCurrentIndex(d.language.findData("en"))
        d.accept()
    fill_dialog_then(qtbot, choose_english)
    window.settings_action.trigger()
    assert header() == "Title"
    qtbot.waitUntil(lambda: window.filter_bar.overdue.text() == "Overdue only")  # LanguageChange is posted
    assert window.detail.placeholder.text().startswith("Select a task")
    assert Settings(window.store.data_dir).get("language") == "en"
    i18n.install("zh_CN")
    assert header() == "任务名称"
    qtbot.waitUntil(lambda: window.filter_bar.overdue.text() == "只看逾期")


def test_screenshot_command_writes_a_png(tmp_path, data_dir):
    import subprocess
    import sys

    with Store(data_dir) as s:
        seed_tasks(s)
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "ui", "--data-dir", str(data_dir), "--screenshot", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(out) as img:
        assert img.width >= 1000 and img.height >= 600
        assert len(set(img.convert("L").getdata())) > 20  # something was drawn, not a blank


def test_empty_store_offers_demo_data(qtbot, store, window):
    assert window.pages.currentWidget() is window.welcome
    assert not window.filter_bar.isEnabled()
    window.demo_button.click()
    qtbot.waitUntil(lambda: window.model.rowCount() >= 100, timeout=120000)
    assert window.pages.currentWidget() is window.table
    qtbot.waitUntil(lambda: window.detail.task_id is not None, timeout=5000)
    statuses = set(column(window, "status"))
    assert {"待督查", "督查中"} <= statuses


@pytest.mark.parametrize("case", ["locked", "not_sqlite"])
def test_window_refuses_a_data_dir_it_cannot_use_with_a_clear_message(tmp_path, data_dir, case):
    import subprocess
    import sys

    holder = None
    if case == "locked":
        holder = Store(data_dir)
        expect = "另一个 FieldApp"
    else:
        data_dir.mkdir(parents=True)
        (data_dir / "fieldapp.db").write_bytes(b"PK\x03\x04 this is a zip, not a database" * 10)
        expect = "不是 FieldApp 数据库"
    before = (data_dir / "fieldapp.db").read_bytes()
    try:
        proc = subprocess.run([sys.executable, "-m", "ui", "--data-dir", str(data_dir),
                               "--screenshot", str(tmp_path / "x.png")], capture_output=True, text=True, timeout=120)
    finally:
        if holder:
            holder.close()
    assert proc.returncode == 2
    assert expect in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (data_dir / "fieldapp.db").read_bytes() == before


def test_refusals_come_before_the_form_and_after_photos_on_the_finding_count(qtbot, store, window, tmp_path, make_jpeg):
    from fieldapp.services import findings as fs

    ids = seed_tasks(store)
    fid = next(iter(fs.record_finding(store, ids["DC-02"], description="井道未封闭").findings))
    window.refresh()
    _open(qtbot, window, ids["DC-02"])
    detail = window.detail
    # a check on an open finding: refused at once, no form to fill in and lose
    detail.check_button.click()
    assert "只有“待核查”" in wait_message(qtbot)
    assert not any(w.objectName() == "checkDialog" and w.isVisible() for w in QApplication.topLevelWidgets())
    # an 整改后 photo put on the finding counts as the check's evidence
    fs.start_rectification(store, fid)
    fs.add_photos(store, fid, [make_jpeg(tmp_path / "done.jpg", color="white")], kind="after")
    fs.submit_for_check(store, fid)
    detail.reload()

    def pass_check(d):
        assert d.evidence == 1 and "1 张" in d.hint.text()
        d.result.setCurrentIndex(d.result.findData("rectified"))
        d.buttons.button(d.buttons.StandardButton.Ok).click()
    fill_dialog_then(qtbot, pass_check)
    detail.check_button.click()
    qtbot.waitUntil(lambda: detail.findings.item(0, 2).text() == "已销号", timeout=5000)
    # a closed finding takes no more photos: said before the file chooser opens
    detail.photo_button.click()
    assert "已销号" in wait_message(qtbot)


def test_visit_with_coordinates_out_of_range_stays_open_with_the_reason(qtbot, store, window):
    ids = seed_tasks(store)
    window.refresh()
    _open(qtbot, window, ids["DC-01"])
    seen = {}

    def fill(d):
        d.place.setText("文三路")
        d.latitude.setText("91")
        d.longitude.setText("121.55")
        d.buttons.button(d.buttons.StandardButton.Ok).click()
        seen["visible"], seen["error"] = d.isVisible(), d.error.text()
        d.reject()
    fill_dialog_then(qtbot, fill)
    window.detail.visit_button.click()
    assert seen["visible"] and "-90" in seen["error"]
    assert window.detail.visits.rowCount() == 0


def test_first_start_asks_the_inspectors_name_and_records_carry_it(qtbot, store, window):
    ids = seed_tasks(store)
    window.refresh()

    def fill(d):
        assert "姓名" in d.findChild(QLabel, "settingsIntro").text()
        d.inspector.setText("王督查")
        d.accept()
    fill_dialog_then(qtbot, fill)
    window.ask_name()
    assert window.store.author == "王督查"
    window.ask_name()  # asked once: a name is there now, nothing opens
    assert QApplication.activeModalWidget() is None
    from fieldapp.services.visits import record_visit

    visit_id = next(iter(record_visit(window.store, ids["DC-01"], visited_at=dt.datetime.now(), place="现场").visits))
    with store.session() as s:
        v = s.get(Visit, visit_id)
        assert v.author == "王督查" and v.inspector == "王督查"
