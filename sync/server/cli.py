"""`fieldapp-platform`: run the reference platform and administer it from a shell.

    fieldapp-platform serve [--db URL] [--photos DIR] [--host H] [--port P] [--workers N]
    fieldapp-platform user add NAME --role inspector|supervisor|admin --unit UNIT [--display-name X]
    fieldapp-platform user disable NAME
    fieldapp-platform token NAME
    fieldapp-platform assign TASK_CODE USER        (and unassign TASK_CODE USER)
    fieldapp-platform return FINDING_ID --reason TEXT [--by USER]
    fieldapp-platform import-tasks FILE --unit UNIT [--skip-errors]
    fieldapp-platform conformance URL --user NAME [--password-env VAR] [--second-user NAME] [--json]

Every command takes `--db` (or FIELDAPP_PLATFORM_DB; default ./platform.db). A password comes
from FIELDAPP_PASSWORD, else stdin when it is not a terminal, else a prompt.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sync.contract import Role
from sync.server.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(db=args.db, photos=getattr(args, "photos", None))


def _db(args: argparse.Namespace):  # -> Database
    from sync.server.db import Database

    return Database(_settings(args).db)


def _password() -> str:
    if os.environ.get("FIELDAPP_PASSWORD"):
        return os.environ["FIELDAPP_PASSWORD"]
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("密码 Password: ")
    if getpass.getpass("再次输入 Again: ") != first:
        raise ValueError("the passwords differ / 两次输入的密码不一致")
    return first


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings(args)
    from sync.server.db import Database

    Database(settings.db).dispose()  # migrate once here, not in N workers at the same moment
    os.environ.update(settings.to_env())  # worker processes build the same app from these
    print(f"FieldApp platform on http://{args.host}:{args.port} — db {settings.db}, photos {settings.photos}",
          file=sys.stderr, flush=True)
    uvicorn.run("sync.server.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level)
    return 0


def _cmd_user(args: argparse.Namespace) -> int:
    from sync.server import auth

    db = _db(args)
    if args.user_command == "add":
        auth.add_user(db, args.name, _password(), Role(args.role), args.unit, args.display_name or "")
        print(f"已添加用户 added user {args.name} ({args.role}, {args.unit})")
    else:
        auth.disable_user(db, args.name)
        print(f"已停用用户 disabled user {args.name}")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from sync.server import auth

    print(auth.new_token(_db(args), _settings(args), args.name))
    return 0


def _cmd_assign(args: argparse.Namespace) -> int:
    from sync.server import dispatch

    if args.command == "assign":
        done = dispatch.assign(_db(args), args.task_code, args.user)
        print(f"已分配 assigned {args.task_code} → {args.user}" if done else f"已是该用户的任务 already assigned to {args.user}")
    else:
        done = dispatch.unassign(_db(args), args.task_code, args.user)
        print(f"已取消分配 unassigned {args.task_code} from {args.user}" if done else f"未分配给该用户 not assigned to {args.user}")
    return 0


def _cmd_return(args: argparse.Namespace) -> int:
    from sync.server import dispatch

    version = dispatch.return_finding(_db(args), args.finding_id, args.reason, by=args.by)
    print(f"已退回 returned {args.finding_id} (version {version})")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from sync.server import dispatch

    summary = dispatch.import_tasks(_db(args), args.file, args.unit, skip_errors=args.skip_errors)
    print(f"新建 created {summary.created}, 更新 updated {summary.updated}, 无变化 unchanged {summary.unchanged}, "
          f"跳过行 skipped rows {summary.skipped_rows}, 错误行 rows in error {len(summary.errors)}")
    for line in summary.errors:
        print(f"  {line}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fieldapp-platform", description="FieldApp reference platform server")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="database URL or SQLite file (env FIELDAPP_PLATFORM_DB; default ./platform.db)")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", parents=[common], help="run the HTTP server")
    serve.add_argument("--photos", help="photos directory (env FIELDAPP_PLATFORM_PHOTOS; default ./platform-photos)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1, help="processes (the server keeps no state between requests)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_cmd_serve)

    user = sub.add_parser("user", help="add or disable a user")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", parents=[common])
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--unit", required=True)
    add.add_argument("--display-name")
    disable = user_sub.add_parser("disable", parents=[common])
    disable.add_argument("name")
    user.set_defaults(run=_cmd_user)

    token = sub.add_parser("token", parents=[common], help="print a new API token for a user")
    token.add_argument("name")
    token.set_defaults(run=_cmd_token)

    for name, text in (("assign", "assign a task (by code) to a user"), ("unassign", "take a task off a user's list")):
        a = sub.add_parser(name, parents=[common], help=text)
        a.add_argument("task_code")
        a.add_argument("user")
        a.set_defaults(run=_cmd_assign)

    ret = sub.add_parser("return", parents=[common], help="return (退回) a finding for more rectification")
    ret.add_argument("finding_id")
    ret.add_argument("--reason", required=True)
    ret.add_argument("--by", help="the supervisor returning it (checked against the finding's unit)")
    ret.set_defaults(run=_cmd_return)

    imp = sub.add_parser("import-tasks", parents=[common], help="import an Excel task list for a unit")
    imp.add_argument("file", type=Path)
    imp.add_argument("--unit", required=True)
    imp.add_argument("--skip-errors", action="store_true", help="import the good rows of a list with bad ones")
    imp.set_defaults(run=_cmd_import)

    from sync import conformance  # any platform, by URL: sync/conformance.py

    conf = sub.add_parser("conformance", help="run the wire contract's checks against a platform (needs a supervisor)")
    conformance.add_arguments(conf)
    conf.set_defaults(run=conformance.main_args)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from sync.server.dispatch import DispatchError

    try:
        return args.run(args)
    except DispatchError as exc:
        print(f"{exc.zh}\n{exc.en}", file=sys.stderr)
        return 2
    except Exception as exc:  # a console tool: the message, not a traceback (unexpected ones re-raised)
        from fieldapp.errors import FieldAppError

        if isinstance(exc, FieldAppError):
            print(f"{exc.message('zh_CN')}\n{exc.message('en')}", file=sys.stderr)
        elif isinstance(exc, (ValueError, OSError)):
            print(f"错误 error: {exc}", file=sys.stderr)
        else:
            raise
        return 2


if __name__ == "__main__":
    sys.exit(main())
