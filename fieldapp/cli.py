"""The `fieldapp` command: the window by default, and subcommands that never load Qt.

    fieldapp [--data-dir D] [--lang zh_CN|en]        open the window (entry point in ui.main)
    fieldapp --screenshot OUT.png                     render the main window offscreen, exit
    fieldapp demo                                     fill the data dir with a demo set
    fieldapp stats [--json]                           counts per table and finding status
    fieldapp verify                                   integrity, change-log chain, photo files
    fieldapp import-tasks FILE [--sheet S] [--map FIELD=COLUMN]… [--dry-run] [--json]   import an Excel task list
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
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Callable, Sequence

from fieldapp import __version__
from fieldapp.errors import FieldAppError, Text
from fieldapp.paths import default_data_dir

if TYPE_CHECKING:
    from fieldapp.services.task_import import ImportPreview
    from fieldapp.store import Store

log = logging.getLogger(__name__)


def message_lang(args: argparse.Namespace) -> str:
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
    imp = sub.add_parser("import-tasks", help="import a task list from Excel (.xlsx .xlsm .xls .ods .csv)",
                         formatter_class=argparse.RawDescriptionHelpFormatter, epilog=_map_epilog())
    _common(imp, top=False)
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--sheet", metavar="NAME", help="only this sheet (default: every visible sheet)")
    imp.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="take FIELD from COLUMN, overriding the columns found by their header: COLUMN is a "
                          "letter (G, AA) or the column's header text as in the sheet; FIELD= leaves the field "
                          "out. Repeatable. Without --sheet a letter applies to every sheet, a header text to "
                          "each sheet that has it. FIELD: see below")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--skip-errors", action="store_true",
                     help="import the other rows when some rows have errors (default: import nothing)")
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
    from fieldapp.services.task_import import apply, check_importable, preview

    lang = message_lang(args)
    en = lang == "en"
    progress = _stderr_progress("reading" if en else "读取")

    def refuse(exc: FieldAppError) -> None:
        if progress:
            print(file=sys.stderr)
        if args.json:
            print(json.dumps({"file": args.file.name, "records": [], "skipped": [], "errors": [
                {"sheet": None, "row": None, "reason": exc.message(lang)}]}, ensure_ascii=False))

    try:
        maps = _parse_maps(args.map)  # before the data dir is opened: a typo touches nothing
    except MapRefused as exc:
        refuse(exc)
        raise
    by_letter = {m.field: m.column for m in maps if not isinstance(m.column, str)}
    with open_store(args) as store:
        try:
            named = any(isinstance(m.column, str) for m in maps)  # may name a column of a header not found
            p = preview(store, args.file, args.sheet, by_letter or None, progress=progress, strict=not named)
            p = _follow_maps(store, p, maps, one_sheet=args.sheet is not None)
            check_importable(p.sheets, args.file.name)
        except (WorkbookRejected, MapRefused) as exc:
            refuse(exc)
            raise
        result = None
        refused: ImportRefused | None = None
        if not args.dry_run:
            try:
                result = apply(store, p, progress=_stderr_progress("writing" if en else "写入"),
                               skip_errors=args.skip_errors)
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
        _print_import(out, en, columns=bool(maps))
    if refused is not None:
        print(refused.message(lang), file=sys.stderr)
        return 2
    return 1 if out["errors"] else 0


# ---------------------------------------------------------------- import-tasks --map FIELD=COLUMN


class MapRefused(FieldAppError):
    """A --map the import cannot follow; refused before anything is written."""

    zh = "--map {spec}：{reason}。数据库未作任何修改。"
    en = "--map {spec}: {reason}. The database was not changed."


@dataclass(frozen=True)
class _Map:
    spec: str  # as typed
    field: str  # one of header.MAPPABLE
    column: int | str | None  # a letter's 0-based index, a header text to look up, or None: leave the field out


_SPEC = re.compile(r"([^=＝]*)[=＝](.*)", re.S)  # FIELD=COLUMN, also with a full-width ＝
_LETTERS = re.compile(r"[A-Za-z]{1,3}")  # a column letter; anything else is a header text


def _map_epilog() -> str:
    from fieldapp.excel.header import FIELDS, MAPPABLE

    lines = ["fields for --map (the name, or its label):"]
    lines += [f"  {f:18} {FIELDS[f][0].en:18} {FIELDS[f][0].zh}" for f in MAPPABLE]
    lines += ["", "e.g.  --map deadline=G  --map 牵头单位=牵头部门  --map targets=",
              "A COLUMN of one to three Latin letters is read as a column letter, not as a header text."]
    return "\n".join(lines)


def _field_named(name: str) -> str | None:
    """A mappable field by its name (deadline), Chinese label (完成时限) or English label (Deadline)."""
    from fieldapp.excel import normalize
    from fieldapp.excel.header import FIELDS, MAPPABLE

    k = normalize.key(name)
    for f in MAPPABLE:
        label = FIELDS[f][0]
        if k in (f, f.replace("_", "-"), normalize.key(label.zh), normalize.key(label.en)):
            return f
    return None


def _parse_maps(items: list[str]) -> list[_Map]:
    """`--map` arguments as written, checked as far as they can be without the file."""
    from fieldapp.excel.header import FIELDS, MAPPABLE
    from fieldapp.excel.tasklist import column_letter

    maps: list[_Map] = []
    for item in items:
        spec = item.strip()
        split = _SPEC.fullmatch(spec)
        name, column = (split[1].strip(), split[2].strip()) if split else ("", "")
        if not name:
            raise MapRefused(spec=spec, reason=Text("应写成“字段=列”，例如 deadline=G",
                                                    "write it as FIELD=COLUMN, e.g. deadline=G"))
        f = _field_named(name)
        if f is None:
            raise MapRefused(spec=spec, reason=Text(
                f"没有“{name}”这个字段。可用的字段：" + "、".join(f"{x}（{FIELDS[x][0].zh}）" for x in MAPPABLE),
                f"there is no field “{name}”. The fields are: " + ", ".join(MAPPABLE)))
        earlier = next((m for m in maps if m.field == f), None)
        if earlier is not None:
            raise MapRefused(spec=spec, reason=Text(f"字段 {f} 已由 --map {earlier.spec} 指定",
                                                    f"the field {f} is already given by --map {earlier.spec}"))
        col: int | str | None = column or None
        letters = unicodedata.normalize("NFKC", column)  # Ｇ typed with a Chinese input method
        if _LETTERS.fullmatch(letters):
            col = _column_index(letters)
            other = next((m for m in maps if m.column == col), None)
            if other is not None:  # one column feeds one field
                letter = column_letter(col)
                raise MapRefused(spec=spec, reason=Text(f"{letter} 列已由 --map {other.spec} 指定给 {other.field}",
                                                        f"column {letter} is already given to {other.field} by "
                                                        f"--map {other.spec}"))
        maps.append(_Map(spec, f, col))
    return maps


def _column_index(letters: str) -> int:
    """Column letters as a 0-based index: A → 0, AB → 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - ord("A") + 1
    return n - 1


def _follow_maps(store: Store, p: ImportPreview, maps: list[_Map], one_sheet: bool) -> ImportPreview:
    """The preview with the --map columns checked against each sheet and the header texts
    looked up in it. A header text may sit in another column in each sheet, so it is applied
    per sheet with `remap` (which reuses the cells read, when the preview kept them)."""
    from fieldapp.excel import normalize
    from fieldapp.excel.tasklist import column_letter
    from fieldapp.services.task_import import remap

    every = Text("", "") if one_sheet or len(p.sheets) < 2 else Text(
        "（未指定 --sheet 时，列字母对每个工作表都适用）", " (without --sheet, a letter applies to every sheet)")
    for s in p.sheets:
        if not s.importable:
            continue  # gives no tasks whatever its columns
        last = column_letter(max(len(s.columns), 1) - 1)
        for m in maps:
            if isinstance(m.column, int) and m.column >= len(s.columns):
                letter = column_letter(m.column)
                raise MapRefused(spec=m.spec, reason=Text(f"工作表“{s.name}”只有 A–{last} 列，没有 {letter} 列{every.zh}",
                                                          f"sheet “{s.name}” has columns A–{last} only, no column "
                                                          f"{letter}{every.en}"))
    named = [m for m in maps if isinstance(m.column, str)]
    if not named:
        return p
    sheets = [s for s in p.sheets if s.loaded and (s.header_rows or s.head)]
    wanted: dict[str, dict[str, int]] = {}
    for m in named:
        key = normalize.key(m.column)
        for s in sheets if key else []:
            cols = _columns_headed(s, key)
            if len(cols) > 1:
                letters = "、".join(c.letter for c in cols)
                raise MapRefused(spec=m.spec, reason=Text(
                    f"工作表“{s.name}”中表头为“{m.column}”的列不止一个（{letters}），请改用列字母",
                    f"more than one column of sheet “{s.name}” is headed “{m.column}” ({letters.replace('、', ', ')}); "
                    "give the column letter instead"))
            if cols:
                taken = {c: f for f, c in wanted.get(s.name, {}).items()}
                taken.update((x.column, x.field) for x in maps if isinstance(x.column, int))
                col = cols[0].index
                if col in taken:
                    raise MapRefused(spec=m.spec, reason=Text(
                        f"工作表“{s.name}”的“{m.column}”是 {cols[0].letter} 列，已指定给 {taken[col]}",
                        f"“{m.column}” is column {cols[0].letter} of sheet “{s.name}”, already given to {taken[col]}"))
                wanted.setdefault(s.name, {})[m.field] = col
        if not any(m.field in w for w in wanted.values()):
            listed_zh = "；".join(f"“{s.name}”：" + "、".join(f"{c.letter} {c.header}" for c in s.columns if c.header)
                                 for s in sheets)
            listed_en = "; ".join(f"“{s.name}”: " + ", ".join(f"{c.letter} {c.header}" for c in s.columns if c.header)
                                 for s in sheets)
            raise MapRefused(spec=m.spec, reason=Text(
                f"“{m.column}”不是列字母，也没有哪一列的表头是它" + (f"。现有的列：{listed_zh}" if sheets else ""),
                f"“{m.column}” is neither a column letter nor the header of a column"
                + (f". The columns are: {listed_en}" if sheets else "")))
    for name, change in wanted.items():
        if any(p.sheet(name).mapping.get(f) != c for f, c in change.items()):
            p = remap(store, p, name, change)
    return p


MISSING_SHOWN = 20  # missing tasks named in the plain output


def _columns_headed(s, key: str) -> list:
    """The columns of sheet preview `s` whose header text is `key` (normalised): under the header
    found, else — a header no synonym names — in the first row near the top that has the text."""
    from fieldapp.excel import normalize

    if s.header_rows:
        return [c for c in s.columns if c.header and normalize.key(c.header) == key] or [
            c for c in s.columns if key in {normalize.key(part) for part in c.header.split(" / ")}]
    for row in s.head:
        found = [i for i, text in enumerate(row) if text and normalize.key(text) == key]
        if found:
            return [s.columns[i] for i in found if i < len(s.columns)]
    return []


def _print_import(out: dict, en: bool, columns: bool = False) -> None:
    from fieldapp.excel.header import FIELDS

    c = out["counts"]
    for s in out["sheets"]:
        rows = "、".join(map(str, s["header_rows"]))
        if s.get("problem"):
            print(f"sheet “{s['name']}”: not imported — {s['problem']}" if en else f"工作表“{s['name']}”：未导入——{s['problem']}")
        else:
            print(f"sheet “{s['name']}”: header on row {rows}" if en else f"工作表“{s['name']}”：表头在第 {rows} 行")
            if columns:  # --map was given: show what it came to
                used = sorted(s["mapping"].items(), key=lambda kv: (len(kv[1]), kv[1]))
                print("  columns: " + ", ".join(f"{f} {letter}" for f, letter in used) if en else
                      "  列：" + "、".join(f"{FIELDS[f][0].zh} {letter}" for f, letter in used))
            # What a person would otherwise not see: columns left out, fields not found, hidden columns read.
            if s["not_imported"]:
                cols = [f"{c['column']} {c['header']}" for c in s["not_imported"]]
                print("  not imported: " + ", ".join(cols) if en else "  未导入的列：" + "、".join(cols))
            if s["not_found"]:
                print("  no column found for: " + ", ".join(FIELDS[f][0].en for f in s["not_found"]) + " (see --map)"
                      if en else "  未找到：" + "、".join(FIELDS[f][0].zh for f in s["not_found"]) + "（可用 --map 指定）")
            if s["hidden_columns_used"]:
                cols = ", ".join(s["hidden_columns_used"])
                print(f"  note: hidden column(s) {cols} are imported" if en else f"  注意：导入了隐藏的列 {cols}")
    print((f"new {c['new']}, changed {c['changed']}, unchanged {c['unchanged']}, skipped {c['skipped']}, "
           f"errors {c['error']}") if en else
          f"新增 {c['new']}，变更 {c['changed']}，未变 {c['unchanged']}，跳过 {c['skipped']}，错误 {c['error']}")
    for r in out["records"]:
        if r["status"] == "changed":
            changes = [f"{FIELDS[f][0].en if en else FIELDS[f][0].zh} {c['from'] or '—'} → {c['to'] or '—'}"
                       for f, c in r["changes"].items()]
            print((f"  changed: {r['sheet']} row {r['row']} {r['code'] or ''} {r['title']}: " if en else
                   f"  变更：{r['sheet']} 第 {r['row']} 行 {r['code'] or ''} {r['title']}：") + ("; " if en else "；").join(changes))
        for w in r["warnings"]:
            print((f"  note: {r['sheet']} row {r['row']}: " if en else f"  提示：{r['sheet']} 第 {r['row']} 行：") + w)
    for e in out["errors"]:
        where = (f"row {e['row']}" if en else f"第 {e['row']} 行") if e["row"] else ""
        print((f"  error: {e['sheet'] or ''} {where}: " if en else f"  错误：{e['sheet'] or ''} {where}：") + e["reason"])
    if out["missing"]:
        print(f"{len(out['missing'])} tasks imported earlier from the same list are not in this file "
               "(kept, not deleted):" if en else
               f"有 {len(out['missing'])} 个以前从同一清单导入的任务不在本文件中（已保留，未删除）：")
        for m in out["missing"][:MISSING_SHOWN]:
            print(f"  {m['code'] or ''} {m['title']}（{m['source']}）".replace("  ", " ", 1) if not en else
                  f"  {m['code'] or ''} {m['title']} ({m['source']})")
        if len(out["missing"]) > MISSING_SHOWN:
            rest = len(out["missing"]) - MISSING_SHOWN
            print(f"  … and {rest} more (--json lists them all)" if en else f"  ……另有 {rest} 个（--json 列出全部）")
    if out["dry_run"]:
        print("dry run: nothing was written" if en else "试运行：未写入任何数据")
    elif out["applied"]:
        print("imported" if en else "导入完成")


def _cmd_template(args: argparse.Namespace) -> int:
    from fieldapp.excel.template import write_template

    path = write_template(args.out)
    print(path)
    return 0


class LedgerRefused(FieldAppError):
    """An export-ledger request that would write a wrong or empty ledger; nothing is written."""

    zh = "{reason}。未导出任何文件。"
    en = "{reason}. Nothing was exported."


def _check_ledger_args(args: argparse.Namespace, store) -> None:
    """Refuse what would silently give an empty or unreadable ledger: a mistyped status or
    category, or a file name Excel would open as another format."""
    from fieldapp import task_list
    from fieldapp.domain import CATEGORIES, CheckResult, FindingStatus, TaskStatus

    if args.out.suffix.lower() != ".xlsx":
        raise LedgerRefused(reason=Text(f"台账导出为 .xlsx 文件，“{args.out.name}”不是",
                                        f"a ledger is an .xlsx file, “{args.out.name}” is not"))
    statuses = {"tasks": TaskStatus, "findings": FindingStatus, "checks": CheckResult}[args.kind]
    for v in args.status:
        try:
            statuses.from_label(v)
        except ValueError:
            known = [f"{m.value}（{m.label('zh_CN')}）" for m in statuses]
            raise LedgerRefused(reason=Text(f"没有“{v}”这个状态，可用：" + "、".join(known),
                                            f"there is no status “{v}”; the statuses are: " + ", ".join(known))) from None
    if args.category:
        con = store.reader()
        try:
            found = [r[0] for r in con.execute("SELECT DISTINCT category FROM findings WHERE category != ''")]
            known = list(dict.fromkeys([*CATEGORIES, *task_list.categories_in_use(con), *found]))
        finally:
            con.close()
        for v in args.category:
            if v not in known:
                raise LedgerRefused(reason=Text(f"没有“{v}”这个类别，可用：" + "、".join(known),
                                                f"there is no category “{v}”; the categories are: " + "、".join(known)))


def _cmd_export_ledger(args: argparse.Namespace) -> int:
    from fieldapp.excel.ledger import LedgerFilter, export_ledger

    flt = LedgerFilter(statuses=tuple(args.status), categories=tuple(args.category), region_prefix=args.region,
                       unit=args.unit, search=args.search, overdue_only=args.overdue, since=args.since,
                       until=args.until)
    with open_store(args) as store:
        _check_ledger_args(args, store)
        summary = export_ledger(store, args.out, kind=args.kind, flt=flt, photos=not args.no_photos,
                                progress=_stderr_progress("writing" if message_lang(args) == "en" else "写入"))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_excel_worker(args: argparse.Namespace) -> int:
    from fieldapp.excel import reader_worker

    return reader_worker.run()


def open_store(args: argparse.Namespace):
    """The store of the data dir the command was given (or the user's)."""
    from fieldapp.store import Store

    return Store(args.data_dir or default_data_dir())


def _cmd_demo(args: argparse.Namespace) -> int:
    from fieldapp.demo import make_demo

    with open_store(args) as store:
        label = "demo data" if message_lang(args) == "en" else "演示数据"
        summary = make_demo(store, tasks=args.tasks, seed=args.seed,
                            progress=lambda done, total: print(f"\r{label} {done}/{total}", end="", file=sys.stderr))
    print(file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from fieldapp.maintenance import stats

    with open_store(args) as store:
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

    en = message_lang(args) == "en"
    with open_store(args) as store:
        r = verify(store)
    ok = "OK" if en else "正常"
    print(("database integrity: " if en else "数据库完整性：") + (ok if r.integrity == ["ok"] else "; ".join(r.integrity)))
    if r.foreign_keys:
        print(("broken references: " if en else "引用缺失：") + str(r.foreign_keys))
    assert r.chain is not None
    if r.chain.ok:
        print(f"change log: {r.chain.entries} entries, chain intact" if en
               else f"变更日志：{r.chain.entries} 条，哈希链完整")
    else:
        print(f"change log: chain BROKEN at entry #{r.chain.broken_at}: {r.chain.reason}" if en
               else f"变更日志：哈希链在第 {r.chain.broken_at} 条处断开（{_zh_reason(r.chain.reason)}），"
                    "该条或其之前的记录被篡改")
    if r.acked is not None:
        seq = r.acked[0]
        if not r.acked_problem:
            print(f"change log: holds entry #{seq}, the last the platform acknowledged" if en
                  else f"变更日志：包含平台已确认接收的最后一条（第 {seq} 条）")
        elif r.acked_problem == "missing":
            print(f"change log: entry #{seq} and what came before it reached the platform, but it is GONE here "
                  "(entries were cut off the log)" if en
                  else f"变更日志：平台已确认接收到第 {seq} 条，但本机已没有这一条（日志末尾的记录被删除）")
        else:
            print(f"change log: entry #{seq} is NOT the one the platform acknowledged (the log was rewritten)" if en
                  else f"变更日志：第 {seq} 条与平台确认接收的不一致（日志被改写）")
    for photo_id, sha, what in r.photo_problems:
        print(f"photo {photo_id} ({sha[:12]}…): {what}" if en else f"照片 {photo_id}（{sha[:12]}…）：{_ZH.get(what, what)}")
    bad = len(r.photo_problems)
    print(f"photos: {r.photos_checked} checked against their SHA-256, {bad} with problems" if en
           else f"照片：已按 SHA-256 校验 {r.photos_checked} 张，{bad} 张有问题")
    if r.orphan_files:
        print(f"{len(r.orphan_files)} photo files without a record (left by an interrupted action; harmless)" if en
               else f"{len(r.orphan_files)} 个照片文件没有对应记录（操作中断遗留，无害）")
    print(("verify: OK" if en else "校验通过") if r.ok else ("verify: PROBLEMS FOUND" if en else "校验发现问题"))
    return 0 if r.ok else 1


# A layer above the core adds its commands: given the subparsers and `add_common` (which gives a
# parser --data-dir and --lang), it adds its parsers and returns {command: handler}.
Extension = Callable[[Any, Callable[[argparse.ArgumentParser], None]], dict[str, Callable[[argparse.Namespace], int]]]


def main(argv: list[str] | None = None, run_window: Callable[[argparse.Namespace], int] | None = None,
         extensions: Sequence[Extension] = ()) -> int:
    """Run a subcommand; without one, `run_window` (the ui layer passes it: the core knows no Qt).
    `extensions` add the commands of the layers above (sync's login, logout, sync)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    handlers = {"demo": _cmd_demo, "stats": _cmd_stats, "verify": _cmd_verify,
                "import-tasks": _cmd_import_tasks, "template": _cmd_template,
                "export-ledger": _cmd_export_ledger, "excel-worker": _cmd_excel_worker}
    for extend in extensions:
        handlers.update(extend(sub, lambda p: _common(p, top=False)))
    args = parser.parse_args(argv)
    lang = message_lang(args)
    if args.command is None:
        if run_window is None:
            print("窗口请用 fieldapp 命令（或 python -m ui）启动。" if lang != "en"
                  else "Start the window with the fieldapp command (or python -m ui).", file=sys.stderr)
            return 2
        return run_window(args)
    from fieldapp.logs import setup_logging

    setup_logging(args.data_dir or default_data_dir())
    try:
        return handlers[args.command](args)
    except FieldAppError as exc:
        log.warning("%s: %s", args.command, exc)
        print(exc.message(lang), file=sys.stderr)
        return 2
    except BrokenPipeError:  # `fieldapp import-tasks … | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
        return 0
