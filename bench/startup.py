"""Start-up benchmark (run by hand): FieldApp with 100k tasks vs a bare PySide6 window.

    python bench/startup.py [--tasks 100000] [--runs 7]

Both programs start as fresh processes and exit (os._exit) the moment their table's first
paint event arrives; the figure is the median wall time from spawn to exit over interleaved
runs. FieldApp paints its task list before it loads SQLAlchemy, Pillow and the task panel, so
it is also measured to "ready" (store attached, every control usable), with the peak resident
memory (ru_maxrss) at that point. Goal: paint ratio ≤ 2.0, ≤ 150 MiB.
The data dir is generated once with `fieldapp demo --tasks N` and reused (bench/out/).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BARE = r"""
import os, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
app = QApplication(sys.argv[:1])
win = QMainWindow()
table = QTableView()
table.setModel(QStandardItemModel(0, 10))
win.setCentralWidget(table)
class Quit(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            os._exit(0)
        return False
q = Quit()
table.viewport().installEventFilter(q)
win.resize(1440, 880)
win.show()
app.exec()
"""


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from spawn to exit, and the child's peak RSS in MiB."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode(errors='replace')}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    data_dir = HERE / "out" / f"startup-{args.tasks}"
    if not (data_dir / "fieldapp.db").exists():
        print(f"generating {args.tasks} tasks in {data_dir} …", flush=True)
        subprocess.run([sys.executable, "-m", "fieldapp", "demo", "--tasks", str(args.tasks),
                        "--data-dir", str(data_dir)], check=True, stderr=subprocess.DEVNULL)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    paint_env = dict(env, FIELDAPP_EXIT_AFTER_PAINT="paint")
    ready_env = dict(env, FIELDAPP_EXIT_AFTER_PAINT="ready")
    ours_cmd = [sys.executable, "-m", "ui", "--data-dir", str(data_dir)]
    bare_cmd = [sys.executable, "-c", BARE]
    timed(ours_cmd, paint_env), timed(bare_cmd, env)  # warm the page cache for both alike
    bare, paint, ready, rss = [], [], [], []
    for _ in range(args.runs):
        bare.append(timed(bare_cmd, env)[0])
        paint.append(timed(ours_cmd, paint_env)[0])
        t, m = timed(ours_cmd, ready_env)
        ready.append(t)
        rss.append(m)
    b, p, r = (statistics.median(x) for x in (bare, paint, ready))
    print(f"tasks: {args.tasks}, runs: {args.runs}, platform: {env['QT_QPA_PLATFORM']}")
    print(f"bare PySide6 window      : {b * 1000:7.0f} ms (median)")
    print(f"FieldApp first paint     : {p * 1000:7.0f} ms   ratio {p / b:5.2f}x (goal ≤ 2.0)")
    print(f"FieldApp ready           : {r * 1000:7.0f} ms   ratio {r / b:5.2f}x")
    print(f"FieldApp peak RSS, ready : {max(rss):7.0f} MiB (goal ≤ 150)")


if __name__ == "__main__":
    main()
