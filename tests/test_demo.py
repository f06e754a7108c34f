"""The demo data set (fieldapp.demo) and the division table behind it (fieldapp.regions)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from fieldapp import demo, regions
from fieldapp.domain import CATEGORIES, CheckResult, DeadlineKind, FindingStatus, PhotoKind, TaskStatus
from fieldapp.errors import FieldAppError, Interrupted
from fieldapp.maintenance import stats, verify
from fieldapp.models import ChangeLogEntry, Check, Finding, Photo, Task, Visit
from fieldapp.store import Store

EXIF_IFD, GPS_IFD, DATETIME_ORIGINAL = 0x8769, 0x8825, 36867
ZJ_LAT, ZJ_LON = (27.0, 31.5), (118.0, 123.2)  # Zhejiang's bounding box, roughly


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("demo") / "data", author="演示")
    seen: list[tuple[int, int]] = []
    summary = demo.make_demo(store, tasks=60, progress=lambda d, t: seen.append((d, t)))
    try:
        yield store, summary, seen
    finally:
        store.close()


def test_summary_matches_the_store(demo_store):
    store, summary, _seen = demo_store
    result = stats(store)
    assert result["tables"]["tasks"] == summary["tasks"] == 60
    for table in ("visits", "findings", "checks", "photos"):
        assert result["tables"][table] == summary[table] > 0, table
    assert result["findings_by_status"] == summary["findings_by_status"]


def test_progress_reaches_total(demo_store):
    _store, _summary, seen = demo_store
    assert seen, "progress was never reported"
    dones = [d for d, _t in seen]
    assert dones == sorted(dones)
    assert seen[-1][0] == seen[-1][1]


def test_verify_passes(demo_store):
    store, _summary, _seen = demo_store
    report = verify(store)
    assert report.ok, report
    assert not report.orphan_files


def test_every_finding_status_occurs(demo_store):
    store, _summary, _seen = demo_store
    with store.session() as s:
        statuses = set(s.scalars(select(Finding.status).distinct()))
    assert statuses == {st.value for st in FindingStatus}


def test_sent_back_findings_exist(demo_store):
    """退回: a 未整改 check, after which the finding is back in 整改中."""
    store, _summary, _seen = demo_store
    with store.session() as s:
        failed = s.scalars(select(Check).where(Check.result == CheckResult.NOT_RECTIFIED)).all()
        assert failed
        back = [c for c in failed if s.get(Finding, c.finding_id).status == FindingStatus.RECTIFYING]
        assert back, "no finding was sent back and left in rectification"
        # and the change log saw the move back
        moves = s.scalars(select(ChangeLogEntry).where(
            ChangeLogEntry.entity == "findings", ChangeLogEntry.entity_id == back[0].finding_id,
            ChangeLogEntry.action == "update")).all()
        assert any(m.before.get("status") == "pending_check" and m.after.get("status") == "rectifying"
                   for m in moves)


def test_closed_findings_have_passing_check_with_after_photo(demo_store):
    store, _summary, _seen = demo_store
    with store.session() as s:
        closed = s.scalars(select(Finding).where(Finding.status == FindingStatus.CLOSED)).all()
        assert closed
        for f in closed:
            last = f.checks[-1]
            assert CheckResult(last.result).passes
            assert any(p.kind == PhotoKind.AFTER for p in last.photos), f.id
            assert last.checked_at <= dt.datetime.now()
            visit = s.get(Visit, f.visit_id)
            assert visit is not None and visit.visited_at <= last.checked_at


def test_photos_are_real_files_with_exif_time_and_gps(demo_store):
    store, _summary, _seen = demo_store
    with store.session() as s:
        photos = s.scalars(select(Photo)).all()
    assert len(photos) >= 10
    assert {p.kind for p in photos} >= {PhotoKind.AFTER.value} and (
        {p.kind for p in photos} & {PhotoKind.SITE.value, PhotoKind.BEFORE.value})
    assert len({p.sha256 for p in photos}) == len(photos), "every photo should be distinct evidence"
    for p in photos:
        assert store.photos.verify_file(p.sha256) is None
        assert p.mime == "image/jpeg" and (p.width, p.height) == demo.PHOTO_SIZE
        assert p.taken_at is not None
        assert ZJ_LAT[0] < p.latitude < ZJ_LAT[1] and ZJ_LON[0] < p.longitude < ZJ_LON[1]
    # Read one file back with Pillow, independently of fieldapp.photos.
    with Image.open(store.photos.path(photos[0].sha256)) as img:
        exif = img.getexif()
        assert exif.get_ifd(EXIF_IFD)[DATETIME_ORIGINAL] == photos[0].taken_at.strftime("%Y:%m:%d %H:%M:%S")
        gps = exif.get_ifd(GPS_IFD)
        assert gps[1] == "N" and gps[3] == "E" and len(gps[2]) == 3 and len(gps[4]) == 3


def test_tasks_look_real(demo_store):
    store, _summary, _seen = demo_store
    today = dt.date.today()
    with store.session() as s:
        tasks = s.scalars(select(Task)).all()
    assert {t.category for t in tasks} == set(CATEGORIES)
    codes = [t.code for t in tasks]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"DC-\d{4}-\d{6}", c) for c in codes)
    for t in tasks:
        region = regions.lookup(t.region_code)
        assert region is not None and region.level == regions.COUNTY
        assert t.region_name == region.full_name
        assert t.title.strip() and "{" not in t.title and "{" not in t.targets
        assert 1 <= len(t.responsible_units) <= 3 and t.lead_unit
        assert t.lead_unit not in t.cooperating_units
        assert t.assignees
    overdue = [t for t in tasks if t.deadline_kind == DeadlineKind.DATE and t.deadline < today
               and t.status != TaskStatus.COMPLETED]
    ahead = [t for t in tasks if t.deadline_kind == DeadlineKind.DATE and t.deadline >= today]
    open_ended = [t for t in tasks if t.deadline_kind == DeadlineKind.OPEN_ENDED]
    assert overdue and ahead and open_ended
    assert all(t.deadline is None and t.deadline_text in ("长期坚持", "持续推进") for t in open_ended)
    assert {t.status for t in tasks} >= {TaskStatus.ASSIGNED.value, TaskStatus.IN_PROGRESS.value}


def test_visits_have_coordinates_in_their_city(demo_store):
    store, _summary, _seen = demo_store
    with store.session() as s:
        rows = s.execute(select(Visit, Task).join(Task, Visit.task_id == Task.id)).all()
    assert rows
    for visit, task in rows:
        city = regions.lookup(task.region_code)
        assert abs(visit.latitude - city.lat) < 0.5 and abs(visit.longitude - city.lon) < 0.5
        assert visit.summary and visit.inspector in task.assignees


def test_second_run_is_refused_unless_forced(tmp_path: Path):
    with Store(tmp_path / "data") as store:
        demo.make_demo(store, tasks=10, seed=1)
        with pytest.raises(demo.DemoRefused) as info:
            demo.make_demo(store, tasks=10, seed=1)
        assert isinstance(info.value, FieldAppError)
        assert "10" in info.value.message("zh_CN") and "--data-dir" in info.value.message("en")
        summary = demo.make_demo(store, tasks=5, seed=2, force=True)
        assert summary["tasks"] == 5
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Task)) == 15
            assert len(set(s.scalars(select(Task.code)))) == 15
        assert verify(store).ok


def test_bulk_batches_are_logged(tmp_path: Path, monkeypatch):
    """Beyond the detailed tasks, tasks go in batches; each one is still in the change log."""
    monkeypatch.setattr(demo, "DETAILED", 4)
    monkeypatch.setattr(demo, "BATCH", 7)
    with Store(tmp_path / "data") as store:
        summary = demo.make_demo(store, tasks=40, seed=3)
        assert summary["tasks"] == 40
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Task)) == 40
            logged = s.scalar(select(func.count()).select_from(ChangeLogEntry).where(
                ChangeLogEntry.entity == "tasks", ChangeLogEntry.action == "create"))
            assert logged == 40
            # only the detailed ones were visited
            visited = set(s.scalars(select(Visit.task_id)))
            first = set(s.scalars(select(Task.id).order_by(Task.code).limit(4)))
            assert visited and visited <= first
        assert verify(store).ok


def test_cancel_stops_cleanly(tmp_path: Path):
    cancel = threading.Event()

    def progress(done: int, total: int) -> None:
        if done >= 5:
            cancel.set()

    with Store(tmp_path / "data") as store:
        with pytest.raises(Interrupted):
            demo.make_demo(store, tasks=50, progress=progress, cancel=cancel)
        with store.session() as s:
            assert s.scalar(select(func.count()).select_from(Task)) == 5
        assert verify(store).ok


# --------------------------------------------------------------------------------------------
# regions
# --------------------------------------------------------------------------------------------

def test_zhejiang_has_11_cities_and_90_counties():
    cities = regions.cities()
    counties = regions.counties()
    assert [c.name for c in cities] == ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市",
                                        "金华市", "衢州市", "舟山市", "台州市", "丽水市"]
    assert [c.code for c in cities] == [f"33{n:02d}00" for n in range(1, 12)]
    assert len(counties) == 90
    assert len({c.code for c in counties}) == 90
    per_city = {c.code: len(regions.counties(city=c.code)) for c in cities}
    assert per_city == {"330100": 13, "330200": 10, "330300": 12, "330400": 7, "330500": 5,
                        "330600": 6, "330700": 9, "330800": 6, "330900": 4, "331000": 9, "331100": 9}
    kinds = [c.name[-1] for c in counties]
    assert (kinds.count("区"), kinds.count("市"), kinds.count("县")) == (37, 20, 33)
    for c in counties:
        assert c.code[:4] == c.city_code[:4] and c.full_name == c.city_name + c.name
        assert c.lat is not None and ZJ_LAT[0] < c.lat < ZJ_LAT[1] and ZJ_LON[0] < c.lon < ZJ_LON[1]


@pytest.mark.parametrize("code, name", [
    ("330102", "上城区"), ("330105", "拱墅区"), ("330106", "西湖区"), ("330108", "滨江区"),
    ("330109", "萧山区"), ("330110", "余杭区"), ("330111", "富阳区"), ("330112", "临安区"),
    ("330113", "临平区"), ("330114", "钱塘区"), ("330122", "桐庐县"), ("330127", "淳安县"),
    ("330182", "建德市"), ("330203", "海曙区"), ("330212", "鄞州区"), ("330383", "龙港市"),
    ("330782", "义乌市"), ("331083", "玉环市"), ("331127", "景宁畲族自治县"), ("331181", "龙泉市"),
])
def test_known_codes(code: str, name: str):
    region = regions.lookup(code)
    assert region is not None and region.name == name and region.level == regions.COUNTY


def test_lookup_levels_and_unknowns():
    assert regions.lookup("330000").name == "浙江省"
    assert regions.lookup("330000").level == regions.PROVINCE
    hz = regions.lookup("330100")
    assert hz.level == regions.CITY and hz.full_name == "杭州市" and hz.city_code == "330100"
    assert regions.lookup("330106").full_name == "杭州市西湖区"
    for bad in ("330101", "330104", "999999", "110101", "", "3301", "abcdef", None):
        assert regions.lookup(bad) is None  # 330104 江干区 was merged away in 2021


@pytest.mark.parametrize("text, code", [
    ("西湖区", "330106"), ("杭州市西湖区", "330106"), ("杭州西湖", "330106"), ("杭州西湖区", "330106"),
    ("杭州市西湖", "330106"), ("西湖", "330106"), ("浙江省杭州市西湖区", "330106"),
    (" 杭州市 西湖区 ", "330106"), ("330106", "330106"),
    ("杭州市西湖区文三路 90 号", "330106"),
    ("宁波江北", "330205"), ("江北区", "330205"), ("舟山普陀区", "330903"), ("普陀", "330903"),
    ("景宁", "331127"), ("景宁县", "331127"), ("丽水市景宁畲族自治县", "331127"),
    ("衢江区", "330803"), ("衢州", "330800"), ("杭州市", "330100"), ("杭州", "330100"),
    ("浙江省", "330000"),
])
def test_find_by_name(text: str, code: str):
    found = regions.find_by_name(text)
    assert found is not None, text
    assert found.code == code


@pytest.mark.parametrize("text", ["", "   ", "南京市", "江干区", "朝阳区", "西", "abc", "110101"])
def test_find_by_name_misses(text: str):
    assert regions.find_by_name(text) is None


def test_short_names():
    assert regions.lookup("331127").short_name == "景宁"
    assert regions.lookup("330106").short_name == "西湖"
    assert regions.lookup("330100").short_name == "杭州"


def test_demo_records_are_authored_by_demo_inspectors_not_the_user(tmp_path):
    from sqlalchemy import select

    from fieldapp.demo import make_demo
    from fieldapp.models import Check, Task, Visit
    from fieldapp.store import Store

    with Store(tmp_path / "d", author="李华") as store:
        make_demo(store, tasks=12, seed=3)
        assert store.author == "李华"  # restored for the user's own work
        with store.session() as s:
            assert set(s.scalars(select(Task.author))) == {"演示数据"}
            visits = s.scalars(select(Visit)).all()
            assert visits and all(v.author == v.inspector != "李华" for v in visits)
            assert "李华" not in set(s.scalars(select(Check.author)))
