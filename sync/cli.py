"""`fieldapp login`, `fieldapp logout`, `fieldapp sync`: the platform from the command line.

    fieldapp login URL --user NAME [--ca-bundle PEM] [--proxy URL]   sign in (password: prompt, stdin, FIELDAPP_PASSWORD)
    fieldapp logout                                                   sign out; the token is revoked and forgotten
    fieldapp sync [--json]                                            push, upload photos, pull; exit 1 when it failed
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from fieldapp import sync_state
from fieldapp.cli import message_lang, open_store
from fieldapp.errors import FieldAppError
from fieldapp.store import Store
from sync import errors
from sync.client import PlatformClient
from sync.credentials import TokenStore
from sync.engine import Syncer


def register(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> dict[str, Callable[[argparse.Namespace], int]]:
    login = sub.add_parser("login", help="sign in to the provincial platform")
    add_common(login)
    login.add_argument("url", metavar="URL", help="the platform's address, e.g. https://dc.example.gov.cn")
    login.add_argument("--user", required=True, metavar="NAME")
    login.add_argument("--ca-bundle", metavar="PEM", default=None, help="the organisation's CA certificates")
    login.add_argument("--proxy", metavar="URL", default=None)
    logout = sub.add_parser("logout", help="sign out of the platform")
    add_common(logout)
    sync = sub.add_parser("sync", help="sync with the platform now")
    add_common(sync)
    sync.add_argument("--json", action="store_true", help="print what was pulled, pushed and uploaded as JSON")
    return {"login": _cmd_login, "logout": _cmd_logout, "sync": _cmd_sync}


def _password() -> str:
    if os.environ.get("FIELDAPP_PASSWORD"):
        return os.environ["FIELDAPP_PASSWORD"]
    if sys.stdin.isatty():
        return getpass.getpass("密码 / Password: ")
    return sys.stdin.readline().rstrip("\n")


def client_for(store: Store, token: str | None = None, **options: Any) -> PlatformClient:
    """A client on the store's connection settings and saved token (`options`: PlatformClient's
    retries and timeout)."""
    settings = sync_state.connection_settings(store)
    if not settings.server_url:
        raise errors.NotConfigured()
    tokens = TokenStore(store.data_dir, store.identity.device)
    return PlatformClient(settings.server_url, token=token or tokens.load(), device_id=store.identity.device,
                          ca_bundle=settings.ca_bundle, proxy=settings.proxy, **options)


def sign_in(store: Store, url: str, user: str, password: str, ca_bundle: str | None = None,
            proxy: str | None = None) -> dict[str, Any]:
    """Sign in: the token goes to the keyring (or the user-only file), the user and the
    connection settings to the store; from now on the store writes as this user."""
    old = sync_state.connection_settings(store)
    ca = old.ca_bundle if ca_bundle is None else ca_bundle
    px = old.proxy if proxy is None else proxy
    client = PlatformClient(url, device_id=store.identity.device, ca_bundle=ca, proxy=px)
    try:
        info = client.info()
        answer = client.login(user, password, store.identity.device, socket.gethostname())
    finally:
        client.close()
    tokens = TokenStore(store.data_dir, store.identity.device)
    tokens.save(answer.token)
    who = answer.user.model_dump(mode="json")
    sync_state.write(store, **{sync_state.SERVER_URL: url.rstrip("/"), sync_state.CA_BUNDLE: ca or None,
                               sync_state.PROXY: px or None, sync_state.USER: who,
                               sync_state.MAX_PHOTO_BYTES: info.max_photo_bytes})
    store.sign_in(answer.user.name)
    return {"user": who, "platform": info.platform_name, "token_kept_in": "file" if tokens.fallback_reason else "keyring",
            "fallback_reason": tokens.fallback_reason}


def sign_out(store: Store) -> None:
    """Revoke the token on the platform when it can be reached, and forget it here either way."""
    tokens = TokenStore(store.data_dir, store.identity.device)
    token = tokens.load()
    if token and sync_state.connection_settings(store).server_url:
        client = client_for(store, token)
        try:
            client.logout()
        except errors.SyncError:  # offline or already expired: forgetting it is what matters
            pass
        finally:
            client.close()
    tokens.clear()
    sync_state.write(store, **{sync_state.USER: None})


def _cmd_login(args: argparse.Namespace) -> int:
    en = message_lang(args) == "en"
    with open_store(args) as store:
        out = sign_in(store, args.url, args.user, _password(), args.ca_bundle, args.proxy)
    u = out["user"]
    print(f"signed in as {u['name']} ({u['role']}, {u['unit']})" if en
          else f"已登录：{u['name']}（{u['role']}，{u['unit']}）")
    if out["fallback_reason"]:
        print(errors.KeyringUnavailable(out["fallback_reason"]).message("en" if en else "zh_CN"), file=sys.stderr)
    return 0


def _cmd_logout(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        sign_out(store)
    print("signed out" if message_lang(args) == "en" else "已退出登录")
    return 0


def _cmd_sync(args: argparse.Namespace) -> int:
    lang = message_lang(args)
    en = lang == "en"
    with open_store(args) as store:
        client = client_for(store)
        syncer = Syncer(store, client, progress=None if args.json else _progress(en))
        try:
            report = syncer.run()
        except FieldAppError as exc:
            if args.json:
                n, photos, _ = syncer.pending()
                print(json.dumps({"ok": False, "error": type(exc).__name__, "message": exc.message(lang),
                                  "partial": syncer.report.to_json(), "pending_changes": n, "pending_photos": photos},
                                 ensure_ascii=False, indent=2))
                return 1
            raise
        finally:
            client.close()
    if args.json:
        print(json.dumps({"ok": True, **report.to_json()}, ensure_ascii=False, indent=2))
        return 0
    pulled = ", ".join(f"{k} {v}" for k, v in report.pulled.items())
    if en:
        print(f"pushed {report.pushed} changes ({report.duplicates} already there), uploaded {report.photos_uploaded} "
              f"photos, pulled: {pulled}; {report.open_conflicts} open conflicts; still pending: "
              f"{report.pending_changes} changes")
    else:
        print(f"已上传 {report.pushed} 条变更（{report.duplicates} 条平台已有），上传照片 {report.photos_uploaded} 张，"
              f"下载：{pulled}；待处理冲突 {report.open_conflicts} 个；仍待上传 {report.pending_changes} 条")
    for r in report.refused:
        msg = r.get("message") or {}
        print(("refused by the platform: " if en else "平台拒收：") + f"{r['entity']} {r['entity_id']}: "
              + (msg.get("en" if en else "zh") or r.get("code") or ""), file=sys.stderr)
    return 0


def _progress(en: bool) -> Callable[[str, int, int], None]:
    def show(stage: str, done: int, total: int) -> None:
        print(f"\r{stage} {done}/{total}", end="", file=sys.stderr)
    return show
