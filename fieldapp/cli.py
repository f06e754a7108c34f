"""The `fieldapp` command: the window by default, and subcommands that never load Qt.

    fieldapp [--data-dir D] [--lang zh_CN|en]        open the window (entry point in ui.main)
    fieldapp --screenshot OUT.png                     render the main window offscreen, exit
    fieldapp demo                                     fill the data dir with a demo set
    fieldapp stats [--json]                           counts per table and finding status
    fieldapp verify                                   integrity, change-log chain, photo files
    fieldapp import-tasks FILE [--sheet S] [--dry-run] [--json]   import an Excel task list
    fieldapp template OUT.xlsx                        a blank task-list template
    fieldapp export-ledger OUT.xlsx --kind tasks|findings|checks [filters]   a ledger (台账)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Callable

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
    _excel_parsers(sub)
    return p


def _excel_parsers(sub) -> None:
    imp = sub.add_parser("import-tasks", help="import a task list from Excel (.xlsx .xlsm .xls .ods .csv)")
    _common(imp, top=False)
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--sheet", metavar="NAME", help="only this sheet (default: every visible sheet)")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    tpl = sub.add_parser("template", help="write a blank task-list template (.xlsx) to import")
    _common(tpl, top=False)
    tpl.add_argument("out", type=Path, metavar="OUT.xlsx")
    led = sub.add_parser("export-ledger", help="export a ledger (台账) of tasks, findings or checks to .xlsx")
    _common(led, top=False)
    led.add_argument("out", type=Path, metavar="OUT.xlsx")
    led.add_argument("--kind", choices=["tasks", "findings", "checks"], default="tasks")
    led.add_argument("--status", action="append", default=[], help="only this status (repeatable; code or 中文)")
    led.add_argument("--category", action="append", default=[], help="only this category (repeatable)")
    led.add_argument("--region", default="", help="region code prefix, e.g. 3301 for 杭州市")
    led.add_argument("--unit", default="", help="responsible unit contains this text")
    led.add_argument("--search", default="", help="title, code or description contains this text")
    led.add_argument("--overdue", action="store_true", help="only overdue items")
    led.add_argument("--since", type=_iso_date, help="created on or after this date (YYYY-MM-DD)")
    led.add_argument("--until", type=_iso_date, help="created on or before this date (YYYY-MM-DD)")
    led.add_argument("--no-photos", action="store_true", help="findings ledger without photo thumbnails")
    worker = sub.add_parser("excel-worker", help=argparse.SUPPRESS)  # internal: the isolated workbook reader of a frozen build
    worker.set_defaults(data_dir=None)


def _iso_date(text: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from None


def _stderr_progress(label: str):
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\r{label} {done}/{total}" if total else f"\r{label}…", end="", file=sys.stderr, flush=True)

    return show


def _cmd_import_tasks(args: argparse.Namespace) -> int:
    from fieldapp.excel.errors import ImportRefused, WorkbookRejected
    from fieldapp.services.task_import import apply, preview

    lang = _lang(args)
    en = lang == "en"
    progress = _stderr_progress("reading" if en else "读取")
    with _open_store(args) as store:
        try:
            p = preview(store, args.file, args.sheet, progress=progress)
        except WorkbookRejected as exc:
            if progress:
                print(file=sys.stderr)
            if args.json:
                print(json.dumps({"file": args.file.name, "records": [], "skipped": [], "errors": [
                    {"sheet": None, "row": None, "reason": exc.message(lang)}]}, ensure_ascii=False))
            raise
        result = None
        refused: ImportRefused | None = None
        if not args.dry_run:
            try:
                result = apply(store, p, progress=_stderr_progress("writing" if en else "写入"))
            except ImportRefused as exc:
                refused = exc
    if progress:
        print(file=sys.stderr)
    out = p.to_json(lang, result.rows, result.missing) if result is not None else p.to_json(lang)
    out["dry_run"] = bool(args.dry_run)
    out["applied"] = result is not None
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        _print_import(out, en)
    if refused is not None:
        print(refused.message(lang), file=sys.stderr)
        return 2
    return 1 if out["errors"] else 0


def _print_import(out: dict, en: bool) -> None:
    c = out["counts"]
    for s in out["sheets"]:
        rows = "、".join(map(str, s["header_rows"]))
        if s.get("problem"):
            print(f"sheet “{s['name']}”: not imported — {s['problem']}" if en else f"工作表“{s['name']}”：未导入——{s['problem']}")
        else:
            print(f"sheet “{s['name']}”: header on row {rows}" if en else f"工作表“{s['name']}”：表头在第 {rows} 行")
    print((f"new {c['new']}, changed {c['changed']}, unchanged {c['unchanged']}, skipped {c['skipped']}, "
           f"errors {c['error']}") if en else
          f"新增 {c['new']}，变更 {c['changed']}，未变 {c['unchanged']}，跳过 {c['skipped']}，错误 {c['error']}")
    for r in out["records"]:
        if r["status"] == "changed":
            print((f"  changed: {r['sheet']} row {r['row']} {r['code'] or ''} {r['title']}: " if en else
                   f"  变更：{r['sheet']} 第 {r['row']} 行 {r['code'] or ''} {r['title']}：") + ", ".join(r["changed_fields"]))
        for w in r["warnings"]:
            print((f"  note: {r['sheet']} row {r['row']}: " if en else f"  提示：{r['sheet']} 第 {r['row']} 行：") + w)
    for e in out["errors"]:
        where = (f"row {e['row']}" if en else f"第 {e['row']} 行") if e["row"] else ""
        print((f"  error: {e['sheet'] or ''} {where}: " if en else f"  错误：{e['sheet'] or ''} {where}：") + e["reason"])
    if out["missing"]:
        print((f"{len(out['missing'])} tasks imported earlier are not in this file (kept, not deleted)" if en else
               f"有 {len(out['missing'])} 个以前导入的任务不在本文件中（已保留，未删除）"))
    if out["dry_run"]:
        print("dry run: nothing was written" if en else "试运行：未写入任何数据")
    elif out["applied"]:
        print("imported" if en else "导入完成")


def _cmd_template(args: argparse.Namespace) -> int:
    from fieldapp.excel.template import write_template

    path = write_template(args.out)
    print(path)
    return 0


def _cmd_export_ledger(args: argparse.Namespace) -> int:
    from fieldapp.excel.ledger import LedgerFilter, export_ledger

    flt = LedgerFilter(statuses=tuple(args.status), categories=tuple(args.category), region_prefix=args.region,
                       unit=args.unit, search=args.search, overdue_only=args.overdue, since=args.since,
                       until=args.until)
    with _open_store(args) as store:
        summary = export_ledger(store, args.out, kind=args.kind, flt=flt, photos=not args.no_photos,
                                progress=_stderr_progress("writing" if _lang(args) == "en" else "写入"))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_excel_worker(args: argparse.Namespace) -> int:
    from fieldapp.excel import reader_worker

    return reader_worker.run()


def _open_store(args: argparse.Namespace):
    from fieldapp.store import Store

    return Store(args.data_dir or default_data_dir())


def _cmd_demo(args: argparse.Namespace) -> int:
    from fieldapp.demo import make_demo

    with _open_store(args) as store:
        label = "demo data" if _lang(args) == "en" else "演示数据"
        summary = make_demo(store, tasks=args.tasks, seed=args.seed,
                            progress=lambda done, total: print(f"\r{label} {done}/{total}", end="", file=sys.stderr))
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


_ZH = {  # verify's findings, for the Chinese report
    "missing": "文件缺失",
    "content does not match its hash": "内容与哈希不符（文件被修改或损坏）",
    "does not follow the entry before it": "与前一条记录衔接不上",
    "content does not match its hash (edited)": "内容与哈希不符（被修改）",
}


def _zh_reason(reason: str) -> str:
    missing = re.fullmatch(r"entries (\d+)\.\.(\d+) are missing", reason)
    return f"第 {missing[1]}–{missing[2]} 条记录缺失" if missing else _ZH.get(reason, reason)


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
               else f"变更日志：哈希链在第 {r.chain.broken_at} 条处断开（{_zh_reason(r.chain.reason)}），"
                    "该条或其之前的记录被篡改"))
    for photo_id, sha, what in r.photo_problems:
        print((f"photo {photo_id} ({sha[:12]}…): {what}" if en else f"照片 {photo_id}（{sha[:12]}…）：{_ZH.get(what, what)}"))
    bad = len(r.photo_problems)
    print((f"photos: {r.photos_checked} checked against their SHA-256, {bad} with problems" if en
           else f"照片：已按 SHA-256 校验 {r.photos_checked} 张，{bad} 张有问题"))
    if r.orphan_files:
        print((f"{len(r.orphan_files)} photo files without a record (left by an interrupted action; harmless)" if en
               else f"{len(r.orphan_files)} 个照片文件没有对应记录（操作中断遗留，无害）"))
    print(("verify: OK" if en else "校验通过") if r.ok else ("verify: PROBLEMS FOUND" if en else "校验发现问题"))
    return 0 if r.ok else 1


def main(argv: list[str] | None = None, run_window: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Run a subcommand; without one, `run_window` (the ui layer passes it: the core knows no Qt)."""
    args = build_parser().parse_args(argv)
    lang = _lang(args)
    if args.command is None:
        if run_window is None:
            print("窗口请用 fieldapp 命令（或 python -m ui）启动。" if lang != "en"
                  else "Start the window with the fieldapp command (or python -m ui).", file=sys.stderr)
            return 2
        return run_window(args)
    from fieldapp.logs import setup_logging

    setup_logging(args.data_dir or default_data_dir())
    try:
        return {"demo": _cmd_demo, "stats": _cmd_stats, "verify": _cmd_verify,
                "import-tasks": _cmd_import_tasks, "template": _cmd_template,
                "export-ledger": _cmd_export_ledger, "excel-worker": _cmd_excel_worker}[args.command](args)
    except FieldAppError as exc:
        log.warning("%s: %s", args.command, exc)
        print(exc.message(lang), file=sys.stderr)
        return 2
