"""Several server processes on one SQLite file: the platform keeps nothing in its processes, so
which process answers must not matter — concurrent pushes all land, a puller misses nothing,
and the sign-in throttle counts across processes."""

from __future__ import annotations

import threading

import requests
from platform_fixtures import (
    change,
    new_id,
    office_seed,  # noqa: F401 - a fixture
    running_platform,
)

from sync import contract as c


def test_concurrent_pushes_through_three_processes_all_land_and_pull_whole(tmp_path, office_seed):
    with running_platform(tmp_path, seed=office_seed, workers=3) as server:
        pushed: list[str] = []
        failures: list[str] = []

        def device() -> None:
            api = server.login("zhang")
            for _ in range(10):
                batch = [change("tasks", new_id(), fields={"code": new_id(), "title": "t"}) for _ in range(5)]
                r = api.push(batch)
                if r.status_code != 200 or {x["outcome"] for x in r.json()["results"]} != {"applied"}:
                    failures.append(r.text[:300])
                pushed.extend(ch.entity_id for ch in batch)

        threads = [threading.Thread(target=device) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert failures == []
        reader = server.login("zhang")
        seen: list[str] = []
        after, cursors = 0, []
        while True:
            page = reader.pull("tasks", after=after, limit=37)
            seen += [r.id for r in page.records]
            cursors.append(page.cursor)
            after = page.cursor
            if not page.more:
                break
        assert sorted(seen) == sorted(pushed) and len(seen) == 300  # each once, none missing
        assert cursors == sorted(set(cursors))


def test_the_sign_in_throttle_counts_across_processes(tmp_path, office_seed):
    with running_platform(tmp_path, seed=office_seed, workers=3) as server:
        url = server.base_url + "/v1/auth/login"
        headers = {c.CONTRACT_HEADER: str(c.CONTRACT_VERSION), "Connection": "close"}  # a new connection each
        codes = [requests.post(url, headers=headers, timeout=30,
                               json={"user": "li", "password": "wrong", "device_id": "d"}).json()["code"]
                 for _ in range(6)]
        assert codes == ["wrong_password"] * 5 + ["too_many_attempts"]
