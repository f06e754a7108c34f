"""Errors the core raises on purpose, each with a message in both UI languages.

Expected errors (bad input, refused transitions, a locked data dir) are `FieldAppError`s: the
window shows `message(lang)` in a dialog and the command line prints it. Anything else is a bug
and goes to the crash handler.
"""

from __future__ import annotations

from typing import Any


class Interrupted(Exception):
    """The user cancelled a running operation; callers treat it as a quiet stop."""


class Text:
    """A message fragment in both UI languages, resolved when the message is shown."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    def __call__(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh

    def __str__(self) -> str:
        return self.en


class FieldAppError(Exception):
    """An expected error with a Chinese and an English message and a hint on what to do."""

    zh: str = "操作失败。"
    en: str = "The operation failed."

    def __init__(self, detail: str = "", **params: Any) -> None:
        self.detail = detail
        self.params = params
        super().__init__(self.message("en") + (f" ({detail})" if detail else ""))

    def message(self, lang: str = "zh_CN") -> str:
        template = self.en if lang.startswith("en") else self.zh
        params = {k: v(lang) if isinstance(v, Text) else v for k, v in self.params.items()}
        return template.format(**params)


class TransitionRefused(FieldAppError):
    zh = "不能{action}：{reason}"
    en = "Cannot {action}: {reason}"


class NotFound(FieldAppError):
    zh = "找不到{what}（{ident}），可能已被删除。请刷新后重试。"
    en = "{what} {ident} was not found; it may have been deleted. Refresh and try again."


class InvalidInput(FieldAppError):
    zh = "{field}填写有误：{reason}"
    en = "{field} is not valid: {reason}"


class PhotoRejected(FieldAppError):
    zh = "照片“{name}”未添加：{reason}"
    en = "Photo “{name}” was not added: {reason}"


class DataDirLocked(FieldAppError):
    zh = ("另一个 FieldApp 窗口正在使用数据目录 {path}。"
          "请切换到已打开的窗口，或先关闭它再启动。")
    en = ("Another FieldApp is already using the data folder {path}. "
          "Switch to that window, or close it before starting again.")


class DataDirUnwritable(FieldAppError):
    zh = "无法写入数据目录 {path}（{reason}）。请检查磁盘空间和文件夹权限，或用 --data-dir 指定其他目录。"
    en = ("Cannot write to the data folder {path} ({reason}). Check free disk space and folder "
          "permissions, or choose another folder with --data-dir.")


class StorageFull(FieldAppError):
    zh = "磁盘空间不足，本次操作未保存，已有数据未受影响。请清理磁盘后重试。"
    en = "The disk is full. Nothing from this action was saved and existing data is intact. Free some space and try again."


class NotADatabase(FieldAppError):
    zh = ("文件 {path} 不是 FieldApp 数据库（可能已损坏或被其他程序覆盖）。"
          "程序没有修改它。请从备份恢复，或用 --data-dir 指定新的数据目录。")
    en = ("{path} is not a FieldApp database (it may be damaged or overwritten). It was left "
          "untouched. Restore it from a backup, or choose a new folder with --data-dir.")


class DatabaseTooNew(FieldAppError):
    zh = ("数据库由更新版本的 FieldApp 创建（版本 {revision}），当前程序无法安全打开。"
          "请安装最新版本的 FieldApp。数据未被修改。")
    en = ("The database was written by a newer FieldApp (schema {revision}); this version cannot "
          "open it safely. Install the latest FieldApp. Nothing was changed.")


class DatabaseBusy(FieldAppError):
    zh = "数据库 {path} 正被其他程序占用。请关闭可能打开它的程序（如数据库查看工具）后重试。"
    en = "The database {path} is in use by another program. Close any program that may have it open and try again."


class MigrationFailed(FieldAppError):
    zh = ("数据库升级失败，数据未被修改，升级前的备份在 {backup}。"
          "请把日志文件发给信息化人员。")
    en = ("Upgrading the database failed; nothing was changed, and a copy from before the upgrade is "
          "in {backup}. Please send the log file to your IT staff.")
