"""Excel import benchmark (run by hand): FieldApp's import vs bare readers, on one file.

    python bench/import.py [--rows 50000] [--runs 3] [--keep]

Generates (once, in bench/out/) a realistic 50,000-row × 12-column Chinese task list, then
measures, each stage in a fresh process and repeated --runs times (median):

    calamine   a bare python-calamine read of the sheet into Python values
    openpyxl   a bare openpyxl read-only iteration over every cell's value
    import     our end-to-end import into an empty store: isolated read, header detection,
               validation, comparison, upsert with change log, commit (`preview` + `apply`)
    reimport   our import of the same, unchanged file into the store it just filled

and prints the times, the ratios to the calamine read and the peak resident memory (ours:
the larger of the importing process and its reader child). Goals: import ≤ 1.5× calamine,
re-import ≤ 1×, peak ≤ 300 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
    """Peak RSS of this process and of its largest waited-for child, in MiB (Linux: KiB units)."""
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
    if name == "import":
        from fieldapp.services import task_import
        from fieldapp.store import Store

        data = Path(tempfile.mkdtemp(prefix="fieldapp-bench-"))
        try:
            with Store(data, author="bench") as store:
                t = time.perf_counter()
                first = task_import.apply(store, task_import.preview(store, path))
                t_import = time.perf_counter() - t
                created = first.created
                del first  # what a caller keeps of an import is its summary
                t = time.perf_counter()
                again = task_import.apply(store, task_import.preview(store, path))
                t_reimport = time.perf_counter() - t
            assert created > 1000 and again.created == again.updated == 0, (created, again.created, again.updated)
            me, kids = peak_mib()
            return {"seconds": t_import, "reimport_seconds": t_reimport, "peak_mib": max(me, kids),
                    "parent_mib": me, "reader_mib": kids, "created": created}
        finally:
            shutil.rmtree(data, ignore_errors=True)
    raise SystemExit(f"unknown stage {name}")


def run_stage(name: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--stage", name, str(path)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
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
    results: dict[str, list[dict]] = {k: [] for k in ("calamine", "openpyxl", "import")}
    for _ in range(args.runs):  # interleaved, so a slow moment of the machine hits every stage
        for name in results:
            results[name].append(run_stage(name, path))

    def med(name: str, key: str = "seconds") -> float:
        return statistics.median(r[key] for r in results[name])

    cal, opx = med("calamine"), med("openpyxl")
    imp, reimp = med("import"), med("import", "reimport_seconds")
    peak = max(r["peak_mib"] for r in results["import"])
    print(f"file: {path.name}, {args.rows} rows × 12 columns, median of {args.runs} runs")
    print(f"  bare python-calamine read      {cal:7.3f} s   peak {med('calamine', 'peak_mib'):6.1f} MiB")
    print(f"  bare openpyxl read-only        {opx:7.3f} s   peak {med('openpyxl', 'peak_mib'):6.1f} MiB")
    print(f"  import into an empty store     {imp:7.3f} s   ratio {imp / cal:5.2f}× calamine (goal ≤ 1.5×)")
    print(f"  re-import, file unchanged      {reimp:7.3f} s   ratio {reimp / cal:5.2f}× calamine (goal ≤ 1.0×)")
    print(f"  peak memory of the import      {peak:7.1f} MiB (process {med('import', 'parent_mib'):.1f}, "
          f"reader child {med('import', 'reader_mib'):.1f}; goal ≤ 300 MiB)")
    print(f"  openpyxl / calamine            {opx / cal:5.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
