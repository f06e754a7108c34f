"""Excel import benchmark (run by hand): FieldApp's import vs bare readers, on one file.

    python bench/import.py [--rows 50000] [--runs 3]

Generates (once, in bench/out/) a realistic 50,000-row × 12-column Chinese task list, then
measures, each stage in a fresh process and repeated --runs times (median):

    calamine   a bare python-calamine read of the sheet into Python values
    openpyxl   a bare openpyxl read-only iteration over every cell's value
    floor      what storing this file costs at the least, in the same schema: the calamine read,
               then its cells as they are, unparsed, as task rows by one executemany in one
               transaction (and floor_log: with one hashed change-log row per task) — the
               part of the import that no Python code of ours can make faster
    import     our end-to-end import into an empty store: isolated read, header detection,
               validation, comparison, upsert with change log, commit (`preview` + `apply`)
    reimport   our import of the same, unchanged file into the store it just filled (answered
               from the memo of imported files: same bytes, unchanged store), and once more
               with the memo deleted, so the file is read and every row compared

The import's own background work — writing the memo, the WAL checkpoint — runs after `apply`
has returned (the store waits for it when it closes) and is not in its time.

and prints the times, the ratios to the calamine read and the peak resident memory (ours:
the larger of the importing process and its reader child). Goals: import ≤ 1.5× calamine,
re-import ≤ 1×, peak ≤ 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def peak_mib() -> tuple[float, float]:
    """Peak RSS of this process and of its largest waited-for child, in MiB (Linux: KiB units).
    The child's figure includes the parent's memory at fork; the reader reports its own."""
    try:
        import resource
    except ImportError:  # Windows: no figure
        return 0.0, 0.0
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 1024 / 1024
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * scale
    return me, kids


def stage(name: str, path: Path) -> dict:
    """One measurement, in this (fresh) process."""
    if name == "calamine":
        import python_calamine

        t = time.perf_counter()
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        rows = book.get_sheet_by_index(0).to_python()
        took = time.perf_counter() - t
        assert len(rows) > 1000
        return {"seconds": took, "peak_mib": peak_mib()[0]}
    if name == "openpyxl":
        import openpyxl

        t = time.perf_counter()
        wb = openpyxl.load_workbook(path, read_only=True)
        n = sum(1 for row in wb.worksheets[0].iter_rows(values_only=True) for _v in row)
        took = time.perf_counter() - t
        wb.close()
        assert n > 1000
        return {"seconds": took, "peak_mib": peak_mib()[0]}
    if name in ("floor", "floor_log"):
        return floor(path, data=Path(os.environ["BENCH_DATA"]), log=name == "floor_log")
    if name in ("import", "reimport", "cold"):
        from fieldapp.services import task_import
        from fieldapp.store import Store

        data = Path(os.environ["BENCH_DATA"])
        if name == "cold":
            shutil.rmtree(data / "cache", ignore_errors=True)  # no memo: the file is read and compared
        with Store(data, author="bench") as store:
            base = peak_mib()[0]  # the interpreter, SQLAlchemy, the open store
            t = time.perf_counter()
            p = task_import.preview(store, path)
            result = task_import.apply(store, p)
            took = time.perf_counter() - t
        if name == "import":
            assert result.created > 1000, result.created
        else:
            assert result.created == result.updated == 0 and p.from_memo == (name == "reimport")
        me = peak_mib()[0]
        return {"seconds": took, "peak_mib": max(me, p.reader_peak_mib or 0), "parent_mib": me,
                "base_mib": base, "reader_mib": p.reader_peak_mib or 0}
    raise SystemExit(f"unknown stage {name}")


def floor(path: Path, data: Path, log: bool) -> dict:
    """What any import of this file into FieldApp's store costs at least: the bare calamine read,
    then the cells, unparsed, as 50,000 task rows (with one change-log row each, for `log`)
    written by executemany into the same schema in one transaction, ids and hashes included —
    no header detection, no parsing, no comparing, no JSON of records."""
    import hashlib

    import python_calamine

    from fieldapp.ids import new_ids
    from fieldapp.store import Store

    with Store(data, author="bench"):
        pass  # the schema, migrated
    import sqlite3

    con = sqlite3.connect(data / "fieldapp.db", isolation_level=None)
    con.execute("PRAGMA synchronous = FULL")
    con.execute("PRAGMA cache_size = -65536")
    con.execute("PRAGMA wal_autocheckpoint = 0")  # as the import's commit: the checkpoint runs after it
    t = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    rows = book.get_sheet_by_index(0).to_python()[2:]
    ids = new_ids(2 * len(rows))
    now = "2026-01-01 00:00:00.000000"
    tasks, entries, head = [], [], "0" * 64
    for i, r in enumerate(rows):
        cells = [str(v) for v in r]
        tasks.append((ids[2 * i], cells[1], cells[2], cells[3], "[]", cells[4], "[]", "", cells[6], "",
                      None, "none", cells[7], cells[8], "[]", "assigned", None, path.name, now, now, "bench"))
        if log:
            after = "[" + ",".join(f'"{c}"' for c in cells) + "]"  # about a record's bytes, no JSON encoder
            digest = hashlib.sha256((head + after).encode()).hexdigest()
            entries.append((ids[2 * i + 1], now, "bench", "tasks", ids[2 * i], "create", None, after, head, digest))
            head = digest
    con.execute("BEGIN")
    con.executemany(
        "INSERT INTO tasks (id, code, title, category, responsible_units, lead_unit, cooperating_units, region_code, "
        "region_name, address, deadline, deadline_kind, deadline_text, targets, assignees, status, import_key, "
        "import_source, created_at, updated_at, author) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?)", tasks)
    if log:
        con.executemany("INSERT INTO change_log (id, at, author, entity, entity_id, action, before, after, prev_hash, "
                        "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", entries)
    con.execute("COMMIT")
    took = time.perf_counter() - t
    con.close()
    return {"seconds": took, "peak_mib": peak_mib()[0]}


def run_stage(name: str, path: Path, data: Path | None = None) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_DATA": str(data or "")}
    out = subprocess.run([sys.executable, __file__, "--stage", name, str(path)], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--stage", help=argparse.SUPPRESS)
    p.add_argument("file", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.stage:
        print(json.dumps(stage(args.stage, args.file)))
        return 0
    from excel_fixtures import write_big_xlsx

    out = HERE / "out"
    out.mkdir(exist_ok=True)
    path = out / f"tasks-{args.rows}.xlsx"
    if not path.exists():
        t = time.perf_counter()
        write_big_xlsx(path, args.rows)
        print(f"generated {path.name} ({path.stat().st_size / 1048576:.1f} MiB) in {time.perf_counter() - t:.1f}s")
    stages = ("calamine", "openpyxl", "floor", "floor_log", "import", "reimport", "cold")
    results: dict[str, list[dict]] = {k: [] for k in stages}
    for _ in range(args.runs):  # interleaved, so a slow moment of the machine hits every stage
        results["calamine"].append(run_stage("calamine", path))
        results["openpyxl"].append(run_stage("openpyxl", path))
        for name in ("floor", "floor_log"):
            data = Path(tempfile.mkdtemp(prefix="fieldapp-bench-"))
            try:
                results[name].append(run_stage(name, path, data))
            finally:
                shutil.rmtree(data, ignore_errors=True)
        data = Path(tempfile.mkdtemp(prefix="fieldapp-bench-"))
        try:  # the same data dir: an empty store, then the store that import filled
            for name in ("import", "reimport", "cold"):
                results[name].append(run_stage(name, path, data))
        finally:
            shutil.rmtree(data, ignore_errors=True)

    def med(name: str, key: str = "seconds") -> float:
        return statistics.median(r[key] for r in results[name])

    cal, opx = med("calamine"), med("openpyxl")
    imp, reimp, cold = med("import"), med("reimport"), med("cold")
    peak = max(r["peak_mib"] for r in results["import"])
    print(f"file: {path.name}, {args.rows} rows × 12 columns, median of {args.runs} runs, each in a fresh process")
    print(f"  bare python-calamine read      {cal:7.3f} s   peak {med('calamine', 'peak_mib'):6.1f} MiB")
    print(f"  bare openpyxl read-only        {opx:7.3f} s   peak {med('openpyxl', 'peak_mib'):6.1f} MiB   "
          f"({opx / cal:.2f}× calamine)")
    fl, fl_log = med("floor"), med("floor_log")
    print(f"  floor: calamine read + bare    {fl:7.3f} s   ratio {fl / cal:5.2f}× calamine   [cells stored as they are, "
          "one executemany, no change log]")
    print(f"  floor with a change-log row    {fl_log:7.3f} s   ratio {fl_log / cal:5.2f}× calamine   [the same, "
          "plus one hashed log row per task]")
    print(f"  import into an empty store     {imp:7.3f} s   ratio {imp / cal:5.2f}× calamine (goal ≤ 1.5×)")
    print(f"  re-import, file unchanged      {reimp:7.3f} s   ratio {reimp / cal:5.2f}× calamine (goal ≤ 1.0×)"
          "  [memo of imported files]")
    print(f"  re-import without the memo     {cold:7.3f} s   ratio {cold / cal:5.2f}× calamine  [file read, rows compared]")
    print(f"  peak memory of the import      {peak:7.1f} MiB (process {med('import', 'parent_mib'):.1f}, of which "
          f"{med('import', 'base_mib'):.1f} before it began; reader child {med('import', 'reader_mib'):.1f}; "
          "goal ≤ 300 MiB)")
    print(f"  peak memory of the re-imports  {med('reimport', 'peak_mib'):7.1f} MiB with the memo, "
          f"{med('cold', 'peak_mib'):.1f} MiB without")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
