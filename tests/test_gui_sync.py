"""Sync in the real window (offscreen) against the real platform on loopback: sign in from the
status area, the first pull, recording while syncing, the status line, conflicts resolved."""

from __future__ import annotations

import datetime as dt

import pytest
from helpers import finding_in, write_jpeg
from sync_checks import sync
from platform_fixtures import platform  # noqa: F401 - the fixture
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from sqlalchemy import select

from fieldapp import sync_state
from fieldapp.models import Conflict, Finding, Task
from fieldapp.services import conflicts, findings, tasks
from fieldapp.store import Store
from sync.cli import sign_in
from ui.conflicts_dialog import ConflictsDialog
from ui.sign_in_dialog import SignInDialog

pytestmark = pytest.mark.gui
UNIT = "市督查室"


@pytest.fixture(autouse=True)
def token_file(monkeypatch):
    monkeypatch.setenv("FIELDAPP_KEYRING", "file")


def published(platform, tmp_path, n: int = 3) -> list[str]:
    """A supervisor publishes `n` tasks, assigned to inspector li."""
    platform.add_user("zhou", "supervisor", UNIT)
    platform.add_user("li", "inspector", UNIT)
    ids = []
    with Store(tmp_path / "sup") as sup:
        sign_in(sup, platform.base_url, "zhou", platform.passwords["zhou"])
        for i in range(n):
            ids += tasks.create_task(sup, title=f"督查任务 {i}", code=f"DC-{i:03}", region_code="330106",
                                     deadline=dt.date(2026, 6, 30)).tasks
        sync(sup)
    for i in range(n):
        platform.cli("assign", f"DC-{i:03}", "li")
    return ids


def the_dialog(kind):
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()]
    found += [w for top in QApplication.topLevelWidgets() for w in top.findChildren(kind) if w.isVisible()]
    return found[0] if found else None


def test_sign_in_from_the_status_area_then_the_first_pull(qtbot, platform, tmp_path, store, window):
    ids = published(platform, tmp_path)
    area = window.sync.area
    assert "未登录" in area.text.text() and area.sync_button.text() == "登录…"
    area.sync_button.click()
    qtbot.waitUntil(lambda: the_dialog(SignInDialog) is not None, timeout=5000)
    dialog = the_dialog(SignInDialog)
    dialog.url.setText(platform.base_url)
    dialog.user.setText("li")
    dialog.password.setText("wrong")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: "用户名或密码错误" in dialog.message.text(), timeout=10000)
    assert dialog.isVisible()  # stays open to try again
    dialog.password.setText(platform.passwords["li"])
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert "密钥环" in window.statusBar().currentMessage()  # told once where the token went
    # the first sync follows by itself and the tasks appear in the table
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=20000)
    qtbot.waitUntil(lambda: not window.sync.running, timeout=20000)
    assert store.author == "li"
    text = area.text.text()
    assert "上次同步" in text and "无待上传" in text, text
    # record while nothing is pending, then sync from the button: the status counts it, then clears
    fid = finding_in(store, ids[0], "open")
    window.sync.refresh_status()
    with store.reading() as con:
        pending = sync_state.pending(con).changes
    assert pending == 2  # the finding, and its task now 进行中
    assert "待上传：2 条变更、0 张照片" in area.text.text()
    assert window.select_task(ids[0])
    qtbot.waitUntil(lambda: window.detail.task_id == ids[0])
    window.detail.reload()
    assert window.detail.findings.item(0, 6).text() == "待上传"
    area.sync_button.click()
    qtbot.waitUntil(lambda: not window.sync.running and "无待上传" in area.text.text(), timeout=20000)
    qtbot.waitUntil(lambda: window.detail.findings.item(0, 6).text() == "已上传", timeout=5000)
    # the platform returns it: after the next sync the inspector reads why, in the open task
    platform.cli("return", fid, "--reason", "整改后照片不清晰，请补拍")
    window.sync_now()
    qtbot.waitUntil(lambda: "平台退回：整改后照片不清晰，请补拍" in window.detail.finding_text.text(), timeout=20000)
    assert window.detail.findings.item(0, 2).text() == "整改中"
    with Store(tmp_path / "check", author="x") as other:  # the platform has it
        sign_in(other, platform.base_url, "li", platform.passwords["li"])
        sync(other)
        with other.session() as s:
            assert s.get(Finding, fid) is not None


def test_a_sync_that_cannot_reach_the_platform_says_so_and_keeps_everything(qtbot, platform, tmp_path, store,
                                                                           window):
    published(platform, tmp_path, n=1)
    sign_in(store, platform.base_url, "li", platform.passwords["li"])
    sync(store)
    (tid,) = [t for t in tasks_of(store)]
    finding_in(store, tid, "open")
    platform.stop()
    window.sync.sync_now()  # as the button does
    qtbot.waitUntil(lambda: not window.sync.running, timeout=20000)
    qtbot.waitUntil(lambda: any("无法连接督查平台" in b.text() for b in message_boxes()), timeout=10000)
    for b in message_boxes():
        b.close()
    assert "无法连接督查平台" in window.sync.area.text.text() or "离线" in window.sync.area.text.text()
    assert "待上传：2 条变更" in window.sync.area.text.text()
    with store.reading() as con:
        assert sync_state.pending(con).changes == 2


def tasks_of(store) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(Task.id)))


def message_boxes():
    from PySide6.QtWidgets import QMessageBox

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_conflicts_are_shown_side_by_side_and_mine_can_be_kept(qtbot, store, window):
    (tid,) = tasks.create_task(store, title="督查").tasks
    fid = finding_in(store, tid, "open")
    with store.transaction() as s:  # as a sync leaves it: the platform's value in, mine kept aside
        s.get(Finding, fid).requirement = "三日内清理"
        s.add(Conflict(id="k1", entity="findings", entity_id=fid, field="requirement", theirs="三日内清理",
                       mine="一周内清理", change_id="c1"))
    dialog = ConflictsDialog(store, window.runner, window)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.table.rowCount() == 1
    assert [dialog.table.item(0, j).text() for j in (1, 2, 3)] == ["整改要求", "三日内清理", "一周内清理"]
    dialog.keep_mine.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 0, timeout=10000)
    with store.session() as s:
        assert s.get(Finding, fid).requirement == "一周内清理"
        assert s.get(Conflict, "k1").resolution == "mine"
    assert conflicts.open_conflicts(store) == []


def test_the_window_syncs_by_itself_when_the_platform_answers(qtbot, platform, tmp_path, store, window):
    ids = published(platform, tmp_path, n=1)
    sign_in(store, platform.base_url, "li", platform.passwords["li"])
    sync(store)
    finding_in(store, ids[0], "open")
    window.sync.online = False  # as after a failed probe: the platform was away
    with qtbot.waitSignal(window.sync.synced, timeout=20000):
        window.sync.probe()  # what the timer does every minute
    with store.reading() as con:
        assert sync_state.pending(con).changes == 0
    assert window.sync.online is True and "在线" in window.sync.area.text.text()


def test_cancel_stops_a_sync_quietly_and_the_next_one_finishes_the_work(qtbot, platform, tmp_path, store, window):
    ids = published(platform, tmp_path, n=1)
    sign_in(store, platform.base_url, "li", platform.passwords["li"])
    sync(store)
    fid = finding_in(store, ids[0], "open")
    photos = [tmp_path / f"p{i}.jpg" for i in range(12)]
    for i, p in enumerate(photos):
        write_jpeg(p, size=(320 + i, 240), color="teal")
    findings.add_photos(store, fid, photos, "site")
    window.sync.refresh_status()
    window.sync.area.sync_button.click()
    assert window.sync.area.cancel_button.isVisible() and window.sync.running
    window.sync.area.cancel_button.click()
    qtbot.waitUntil(lambda: not window.sync.running, timeout=20000)
    assert message_boxes() == []  # a cancel is a quiet stop, not an error
    with store.reading() as con:  # it stopped part way: something is left to send
        assert sync_state.pending(con).changes > 0
    assert window.sync.area.sync_button.isVisible() and not window.sync.area.cancel_button.isVisible()
    with qtbot.waitSignal(window.sync.synced, timeout=30000):
        window.sync.area.sync_button.click()
    with store.reading() as con:
        assert sync_state.pending(con).changes == 0
