"""The `fieldapp` program: the core's command line, with the window on top of it.

Subcommands (demo, stats, verify, import-tasks, login, sync, …) never load Qt; only the window does.
"""

from __future__ import annotations

import argparse

from fieldapp.cli import main as cli_main
from fieldapp.paths import default_data_dir


def _run_window(args: argparse.Namespace) -> int:
    from ui.app import run  # Qt is loaded only here

    return run(data_dir=args.data_dir or default_data_dir(), lang=args.lang, screenshot=args.screenshot)


def main(argv: list[str] | None = None) -> int:
    from sync.cli import register  # login, logout, sync: no Qt either

    return cli_main(argv, run_window=_run_window, extensions=[register])
