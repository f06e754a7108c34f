"""Photo evidence: content-addressed files, EXIF, thumbnails, refusals that store nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import count, counts, new_finding, sha256_file, stored_photo_files
from PIL import Image
from sqlalchemy import select

from fieldapp.errors import PhotoRejected
from fieldapp.maintenance import verify
from fieldapp.models import Photo
from fieldapp.photos import MAX_FILE_BYTES, THUMB_SIZE, inspect_image
from fieldapp.services.findings import add_photos
from fieldapp.store import Store


def noise_jpeg(path: Path, size=(400, 300), seed=1, quality=90) -> Path:
    rnd = random.Random(seed)
    img = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))
    img.save(path, "JPEG", quality=quality)
    return path


def nothing_stored(store, before: dict) -> None:
    assert counts(store) == before
    assert stored_photo_files(store.photos.root) == []
    assert list(store.photos.thumbs.iterdir()) == []
    assert list(store.photos.tmp.iterdir()) == []


def test_stored_bytes_identical_and_content_addressed(store, task_id, make_jpeg, tmp_path):
    fid = new_finding(store, task_id)
    src = make_jpeg(tmp_path / "现场1.jpg", size=(120, 90), color="blue")
    original = src.read_bytes()
    ch = add_photos(store, fid, [src], kind="site")
    (pid,) = ch.photos
    sha = hashlib.sha256(original).hexdigest()
    target = store.data_dir / "photos" / sha[:2] / sha
    assert target.is_file() and target.read_bytes() == original
    assert store.photos.path(sha) == target
    with store.session() as s:
        row = s.get(Photo, pid)
        assert (row.sha256, row.size, row.width, row.height, row.mime) == (sha, len(original), 120, 90, "image/jpeg")
        assert row.original_name == "现场1.jpg" and row.finding_id == fid and row.kind == "site"
    assert src.read_bytes() == original  # the source is not touched either
    assert list(store.photos.tmp.iterdir()) == []


def test_same_photo_twice_is_one_file(store, task_id, make_jpeg, tmp_path):
    f1, f2 = new_finding(store, task_id, "一"), new_finding(store, task_id, "二")
    src = make_jpeg(tmp_path / "p.jpg", color="teal")
    copy = tmp_path / "copy-of-p.jpg"
    copy.write_bytes(src.read_bytes())
    add_photos(store, f1, [src])
    add_photos(store, f2, [copy], kind="before")
    assert count(store, Photo) == 2
    files = stored_photo_files(store.photos.root)
    assert [f.name for f in files] == [sha256_file(src)]
    assert verify(store).ok


def test_exif_time_gps_orientation_read(store, task_id, make_jpeg, tmp_path):
    fid = new_finding(store, task_id)
    taken = dt.datetime(2026, 4, 30, 15, 42, 7)
    north_east = make_jpeg(tmp_path / "ne.jpg", exif_time=taken, gps=(30.274085, 120.155070), orientation=6)
    south_west = make_jpeg(tmp_path / "sw.jpg", color="green", gps=(-33.45694, -70.64827), orientation=3)
    plain = make_jpeg(tmp_path / "plain.jpg", color="gray")
    ch = add_photos(store, fid, [north_east, south_west, plain])
    assert len(ch.photos) == 3 and not ch.refused
    with store.session() as s:
        rows = {p.original_name: p for p in s.scalars(select(Photo))}
    ne, sw, pl = rows["ne.jpg"], rows["sw.jpg"], rows["plain.jpg"]
    assert ne.taken_at == taken
    assert ne.latitude == pytest.approx(30.274085, abs=1e-5)
    assert ne.longitude == pytest.approx(120.155070, abs=1e-5)
    assert ne.orientation == 6
    assert sw.taken_at is None
    assert sw.latitude == pytest.approx(-33.45694, abs=1e-5)
    assert sw.longitude == pytest.approx(-70.64827, abs=1e-5)
    assert sw.orientation == 3
    assert (pl.taken_at, pl.latitude, pl.longitude, pl.orientation) == (None, None, None, 1)


def test_thumbnails_made_upright_and_remade(store, task_id, make_jpeg, tmp_path):
    fid = new_finding(store, task_id)
    big = make_jpeg(tmp_path / "big.jpg", size=(1200, 800), color="navy", orientation=6)
    add_photos(store, fid, [big])
    sha = sha256_file(big)
    thumb = store.photos.thumb_path(sha)
    assert thumb.is_file()
    with Image.open(thumb) as im:
        assert im.format == "JPEG"
        # orientation 6 = rotated 90°: the thumbnail is upright, i.e. portrait
        w, h = im.size
        assert h == THUMB_SIZE and abs(w - THUMB_SIZE * 800 / 1200) <= 1
    thumb.unlink()
    again = store.photos.thumbnail(sha)
    assert again == thumb and again.is_file()
    with Image.open(again) as im:
        assert max(im.size) == THUMB_SIZE
    # the original is untouched by thumbnailing
    assert store.photos.verify_file(sha) is None


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, tuple[str, str]]]:
    text = tmp_path / "notes.jpg"
    text.write_text("这不是图片，是一段文字。", encoding="utf-8")
    full = noise_jpeg(tmp_path / "full.jpg").read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(full[: len(full) // 2])
    huge = tmp_path / "huge.png"  # 100 MP of one colour: small file, refused before decoding
    Image.new("1", (10000, 10000), 1).save(huge)
    big = tmp_path / "big72mp.png"  # 72 MP: over our limit, under Pillow's own
    Image.new("1", (9000, 8000), 0).save(big)
    gif = tmp_path / "anim.gif"
    Image.new("P", (20, 20)).save(gif)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    return {
        "text": (text, ("不是可识别的图片", "not a readable image")),
        "truncated": (truncated, ("已损坏", "damaged")),
        "huge": (huge, ("降低分辨率", "Reduce its resolution")),
        "72mp": (big, ("9000×8000", "9000×8000")),
        "gif": (gif, ("不支持", "unsupported image format GIF")),
        "empty": (empty, ("不是可识别的图片", "not a readable image")),
    }


@pytest.mark.parametrize("kind", ["text", "truncated", "huge", "72mp", "gif", "empty"])
def test_bad_files_refused_and_nothing_stored(store, task_id, tmp_path, kind):
    fid = new_finding(store, task_id)
    path, (zh, en) = _bad_inputs(tmp_path)[kind]
    before = counts(store)
    with pytest.raises(PhotoRejected) as ei:
        store.photos.put(path.read_bytes(), path.name)
    assert zh in ei.value.message("zh_CN") and path.name in ei.value.message("zh_CN")
    assert en in ei.value.message("en") and path.name in ei.value.message("en")
    ch = add_photos(store, fid, [path], kind="before")
    assert not ch.photos and len(ch.refused) == 1
    assert isinstance(ch.refused[0], PhotoRejected)
    nothing_stored(store, before)


def test_oversized_file_refused_before_reading_as_image(store, task_id, tmp_path):
    data = b"\xff\xd8\xff\xe0" + b"\0" * MAX_FILE_BYTES
    with pytest.raises(PhotoRejected) as ei:
        inspect_image(data, "scan.jpg")
    assert "64 MB" in ei.value.message("zh_CN") and "64 MB" in ei.value.message("en")
    before = counts(store)
    with pytest.raises(PhotoRejected):
        store.photos.put(data, "scan.jpg")
    nothing_stored(store, before)


def test_refused_photo_does_not_block_good_ones(store, task_id, make_jpeg, tmp_path):
    fid = new_finding(store, task_id)
    bad, _ = _bad_inputs(tmp_path)["truncated"]
    good = make_jpeg(tmp_path / "good.jpg", color="olive")
    ch = add_photos(store, fid, [bad, good])
    assert len(ch.photos) == 1 and len(ch.refused) == 1
    assert [p.name for p in stored_photo_files(store.photos.root)] == [sha256_file(good)]


def test_leftover_tmp_files_cleaned_on_open(data_dir):
    Store(data_dir).close()
    tmp = data_dir / "photos" / "tmp"
    (tmp / "deadbeef.part").write_bytes(b"half a photo")
    with Store(data_dir) as s:
        assert list(s.photos.tmp.iterdir()) == []


def test_verify_finds_damaged_and_missing_photo_files(store, task_id, make_jpeg, tmp_path):
    fid = new_finding(store, task_id)
    a = make_jpeg(tmp_path / "a.jpg", color="red")
    b = make_jpeg(tmp_path / "b.jpg", color="blue")
    add_photos(store, fid, [a, b])
    assert verify(store).ok
    sha_a, sha_b = sha256_file(a), sha256_file(b)
    damaged = store.photos.path(sha_a)
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    store.photos.path(sha_b).unlink()
    orphan = store.photos.path("ab" + "c" * 62)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"x")
    report = verify(store)
    assert not report.ok
    problems = {sha: what for _pid, sha, what in report.photo_problems}
    assert problems == {sha_a: "content does not match its hash", sha_b: "missing"}
    assert report.orphan_files == ["ab" + "c" * 62]


FULL_DISK_CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    from pathlib import Path
    from fieldapp.errors import StorageFull
    from fieldapp.services.findings import add_photos
    from fieldapp.store import Store

    data_dir, finding_id, photo, limit = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    store = Store(data_dir)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        add_photos(store, finding_id, [photo])
    except StorageFull as exc:
        print(json.dumps({"error": "StorageFull", "zh": exc.message("zh_CN"), "en": exc.message("en")}))
    else:
        print(json.dumps({"error": None}))
    finally:
        store.close()
""")


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_disk_full_for_photo_files(data_dir, tmp_path):
    with Store(data_dir) as s:
        from fieldapp.services.tasks import create_task

        (tid,) = create_task(s, title="磁盘满").tasks
        fid = new_finding(s, tid)
        before = counts(s)
    photo = noise_jpeg(tmp_path / "large.jpg", size=(1200, 1000), quality=95)
    limit = 512 * 1024
    assert photo.stat().st_size > 2 * limit
    out = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, str(data_dir), fid, str(photo), str(limit)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["error"] == "StorageFull"
    assert "磁盘空间不足" in result["zh"] and "disk is full" in result["en"]
    photos = data_dir / "photos"
    # look before reopening: the store cleans tmp/ on open, we want to see the child cleaned up
    assert list((photos / "tmp").iterdir()) == []
    assert stored_photo_files(photos) == []
    assert list((photos / "thumbs").iterdir()) == []
    with Store(data_dir) as s:
        assert counts(s) == before
        assert verify(s).ok
        # with space again, the same photo goes in
        ch = add_photos(s, fid, [photo])
        assert len(ch.photos) == 1
        assert s.photos.verify_file(sha256_file(photo)) is None


def test_inspect_image_reports_facts(make_jpeg, tmp_path):
    p = make_jpeg(tmp_path / "x.jpg", size=(30, 20), exif_time=dt.datetime(2025, 1, 2, 3, 4, 5))
    data = p.read_bytes()
    info, thumb = inspect_image(data, p.name)
    assert info.sha256 == hashlib.sha256(data).hexdigest() and info.size == len(data)
    assert (info.width, info.height, info.mime, info.orientation) == (30, 20, "image/jpeg", 1)
    assert info.taken_at == dt.datetime(2025, 1, 2, 3, 4, 5)
    assert thumb.mode == "RGB" and thumb.size == (30, 20)
    png = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(png, "PNG")
    info, _ = inspect_image(png.getvalue(), "a.png")
    assert info.mime == "image/png" and info.taken_at is None and info.latitude is None


def test_phone_mpo_jpeg_is_accepted_as_jpeg(store, task_id, tmp_path):
    """Phones write JPEGs with a second image inside (MPO); they are evidence like any JPEG."""
    from PIL import Image

    from fieldapp.services import findings

    fid = next(iter(findings.record_finding(store, task_id, description="MPO").findings))
    path = tmp_path / "phone.jpg"
    Image.new("RGB", (80, 60), "green").save(path, "MPO", save_all=True,
                                             append_images=[Image.new("RGB", (40, 30), "gray")])
    with Image.open(path) as probe:
        assert probe.format == "MPO"
    ch = findings.add_photos(store, fid, [path])
    assert len(ch.photos) == 1 and not ch.refused
    with store.session() as s:
        assert s.get(Photo, next(iter(ch.photos))).mime == "image/jpeg"
