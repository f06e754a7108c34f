"""SIGKILL while photos are being added: no half photo, no row without its file, chain intact.

A child process adds 100 photos one by one to a finding; the parent kills it at a seeded random
point (sometimes before the store is even open, sometimes before the first photo, mostly mid-way)
and then checks the data dir. Rounds: FIELDAPP_KILL_ROUNDS (default 20).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import new_finding, sha256_file, stored_photo_files
from PIL import Image
from sqlalchemy import select

from fieldapp.maintenance import verify
from fieldapp.models import Photo
from fieldapp.services.findings import add_photos
from fieldapp.services.tasks import create_task
from fieldapp.store import Store

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")

ROUNDS = int(os.environ.get("FIELDAPP_KILL_ROUNDS", "20"))
PHOTOS = 100
SEED = 20260501

CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from fieldapp.services.findings import add_photos
    from fieldapp.store import Store

    data_dir, finding_id, src = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    store = Store(data_dir)
    print("ready", flush=True)
    for i, photo in enumerate(sorted(src.glob("*.jpg"))):
        changes = add_photos(store, finding_id, [photo], kind="site")
        assert len(changes.photos) == 1, changes.refused
        print(i + 1, flush=True)
    store.close()
    print("done", flush=True)
""")


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory) -> Path:
    """100 distinct small JPEGs, made once."""
    d = tmp_path_factory.mktemp("kill-photos")
    for i in range(PHOTOS):
        rnd = random.Random(i)
        img = Image.frombytes("RGB", (48, 36), rnd.randbytes(48 * 36 * 3))
        img.save(d / f"{i:03d}.jpg", "JPEG", quality=85)
    assert len({sha256_file(p) for p in d.glob("*.jpg")}) == PHOTOS
    return d


def _check_files(photos_root: Path, sources: set[str]) -> set[str]:
    """Every file under a real name holds exactly the bytes its name promises."""
    names = set()
    for f in stored_photo_files(photos_root):
        assert f.parent.name == f.name[:2]
        assert sha256_file(f) == f.name, f"half or wrong photo file {f}"
        assert f.name in sources
        names.add(f.name)
    return names


@pytest.mark.parametrize("round_no", range(ROUNDS))
def test_kill_while_adding_photos(tmp_path, photo_dir, round_no):
    rnd = random.Random(SEED + round_no)
    data_dir = tmp_path / "data"
    with Store(data_dir) as s:
        (tid,) = create_task(s, title=f"第 {round_no} 轮").tasks
        fid = new_finding(s, tid)
    sources = {sha256_file(p) for p in photo_dir.glob("*.jpg")}

    # Where to kill: before the store is open, right before the first photo, or after k photos
    # plus a little, so the kill lands inside the write of the next one.
    mode = "spawn" if round_no % 10 == 0 else "first" if round_no % 10 == 1 else "mid"
    target = 0 if mode != "mid" else rnd.randrange(0, PHOTOS)
    extra = rnd.uniform(0, 0.4) if mode == "spawn" else rnd.uniform(0, 0.015)

    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), fid, str(photo_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed = 0
    try:
        if mode != "spawn":
            assert proc.stdout.readline().strip() == "ready"
            while committed < target:
                line = proc.stdout.readline().strip()
                assert line.isdigit(), (line, proc.stderr.read() if proc.poll() is not None else "")
                committed = int(line)
        time.sleep(extra)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode in (-signal.SIGKILL, 0)

    photos_root = data_dir / "photos"
    on_disk = _check_files(photos_root, sources)  # before reopening: what the crash left

    with Store(data_dir) as s:
        assert list(s.photos.tmp.iterdir()) == []
        with s.session() as session:
            rows = list(session.scalars(select(Photo)))
        # what the child saw committed survived the kill
        assert len(rows) >= committed
        assert len(rows) <= PHOTOS
        for row in rows:
            assert row.finding_id == fid
            path = s.photos.path(row.sha256)
            assert path.is_file(), f"row {row.id} without its file"
            assert sha256_file(path) == row.sha256
            assert row.sha256 in on_disk
        assert len({r.sha256 for r in rows}) == len(rows)
        report = verify(s)
        assert report.ok, report
        # orphans (written, not yet committed) are at most the one photo in flight
        assert len(report.orphan_files) <= 1
        # the store works after the crash
        ch = add_photos(s, fid, [sorted(photo_dir.glob("*.jpg"))[-1]])
        assert len(ch.photos) == 1
        assert verify(s).ok
