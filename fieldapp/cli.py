"""The `fieldapp` command: the window by default, and subcommands that never load Qt.

    fieldapp [--data-dir D] [--lang zh_CN|en]        open the window
    fieldapp --screenshot OUT.png                     render the main window offscreen, exit
    fieldapp demo                                     fill the data dir with a demo set
    fieldapp stats [--json]                           counts per table and finding status
    fieldapp verify                                   integrity, change-log chain, photo files
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from fieldapp import __version__
from fieldapp.errors import FieldAppError
from fieldapp.paths import default_data_dir

log = logging.getLogger(__name__)


def _lang(args: argparse.Namespace) -> str:
    """Chinese unless asked otherwise: --lang, then FIELDAPP_LANG."""
    chosen = getattr(args, "lang", None) or os.environ.get("FIELDAPP_LANG", "zh_CN")
    return "en" if chosen.startswith("en") else "zh_CN"


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--data-dir", type=Path, default=default,
                        help="data folder (default: the per-user data dir)")
    parser.add_argument("--lang", choices=["zh_CN", "en"], default=default,
                        help="language of messages")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fieldapp", description="FieldApp 现场督查")
    p.add_argument("--version", action="version", version=f"FieldApp {__version__}")
    _common(p, top=True)
    p.add_argument("--screenshot", type=Path, metavar="OUT.png",
                   help="render the main window offscreen to a PNG and exit")
    sub = p.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="fill the data dir with a realistic demo set")
    _common(demo, top=False)
    demo.add_argument("--tasks", type=int, default=300, help="number of tasks (default 300)")
    demo.add_argument("--seed", type=int, default=2026)
    stats = sub.add_parser("stats", help="counts per table and finding status")
    _common(stats, top=False)
    stats.add_argument("--json", action="store_true", help="print one JSON object")
    verify = sub.add_parser("verify", help="check the database, the change log and photo files")
    _common(verify, top=False)
    return p


def _open_store(args: argparse.Namespace):
    from fieldapp.store import Store

    return Store(args.data_dir or default_data_dir())


def _cmd_demo(args: argparse.Namespace) -> int:
    from fieldapp.demo import make_demo

    with _open_store(args) as store:
        summary = make_demo(store, tasks=args.tasks, seed=args.seed,
                            progress=lambda done, total: print(f"\r{done}/{total}", end="", file=sys.stderr))
    print(file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from fieldapp.maintenance import stats

    with _open_store(args) as store:
        result = stats(store)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    else:
        for table, n in result["tables"].items():
            print(f"{table:12} {n}")
        for status, n in sorted(result["findings_by_status"].items()):
            print(f"findings[{status}] {n}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from fieldapp.maintenance import verify

    en = _lang(args) == "en"
    with _open_store(args) as store:
        r = verify(store)
    ok = "OK" if en else "正常"
    print(("database integrity: " if en else "数据库完整性：") + (ok if r.integrity == ["ok"] else "; ".join(r.integrity)))
    if r.foreign_keys:
        print(("broken references: " if en else "引用缺失：") + str(r.foreign_keys))
    assert r.chain is not None
    if r.chain.ok:
        print((f"change log: {r.chain.entries} entries, chain intact" if en
               else f"变更日志：{r.chain.entries} 条，哈希链完整"))
    else:
        print((f"change log: chain BROKEN at entry #{r.chain.broken_at}: {r.chain.reason}" if en
               else f"变更日志：哈希链在第 {r.chain.broken_at} 条处断开（{r.chain.reason}），该条或其之前的记录被篡改"))
    for photo_id, sha, what in r.photo_problems:
        print((f"photo {photo_id} ({sha[:12]}…): {what}" if en else f"照片 {photo_id}（{sha[:12]}…）：{what}"))
    if r.orphan_files:
        print((f"{len(r.orphan_files)} photo files without a record (left by an interrupted action; harmless)" if en
               else f"{len(r.orphan_files)} 个照片文件没有对应记录（操作中断遗留，无害）"))
    print(("verify: OK" if en else "校验通过") if r.ok else ("verify: PROBLEMS FOUND" if en else "校验发现问题"))
    return 0 if r.ok else 1


def _run_window(args: argparse.Namespace) -> int:
    from ui.app import run  # Qt is loaded only here

    return run(data_dir=args.data_dir or default_data_dir(), lang=args.lang, screenshot=args.screenshot)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    lang = _lang(args)
    if args.command is None:
        return _run_window(args)
    from fieldapp.logs import setup_logging

    setup_logging(args.data_dir or default_data_dir())
    try:
        return {"demo": _cmd_demo, "stats": _cmd_stats, "verify": _cmd_verify}[args.command](args)
    except FieldAppError as exc:
        log.warning("%s: %s", args.command, exc)
        print(exc.message(lang), file=sys.stderr)
        return 2
