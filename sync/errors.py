"""What can go wrong talking to the platform, each said in both UI languages with what to do.

The client maps every failure (network, TLS, HTTP status, an answer that is not the contract)
to one of these; the window and the command line show `message(lang)`.
"""

from __future__ import annotations

from fieldapp.errors import FieldAppError


class SyncError(FieldAppError):
    zh = "同步失败：{what}"
    en = "Sync failed: {what}"

    def __init__(self, detail: str = "", **params: object) -> None:
        params.setdefault("what", detail)  # the templates' {what}: the detail, or a Text in both languages
        super().__init__(detail, **params)


class NotConfigured(SyncError):
    zh = "尚未连接督查平台。请先登录：fieldapp login 平台地址 --user 用户名，或在窗口中选择“同步 → 登录”。"
    en = "Not connected to a platform. Sign in first: fieldapp login URL --user NAME, or Sync → Sign in in the window."


class NoNetwork(SyncError):
    zh = "无法连接督查平台（{what}）。请检查网络后重试；记录都已保存在本机，联网后会自动同步。"
    en = "Cannot reach the platform ({what}). Check the network and try again; everything is saved on this computer and syncs when a connection is back."


class CertificateProblem(SyncError):
    zh = "平台的安全证书无法验证（{what}）。请联系信息化人员配置单位的 CA 证书。"
    en = "The platform's certificate could not be verified ({what}). Ask IT to configure your organisation's CA bundle."


class WrongPassword(SyncError):
    zh = "用户名或密码错误。"
    en = "Wrong user name or password."


class TooManyAttempts(SyncError):
    zh = "密码错误次数过多，请 {seconds} 秒后再试。"
    en = "Too many wrong passwords; try again in {seconds} s."


class SessionExpired(SyncError):
    zh = "登录已过期或已退出，请重新登录。"
    en = "Your session has expired or was signed out; please sign in again."


class UserDisabled(SyncError):
    zh = "该账号已被停用，请联系督查处。"
    en = "This account has been disabled; contact your supervisor's office."


class Forbidden(SyncError):
    zh = "没有权限：{what}"
    en = "Not allowed: {what}"


class VersionMismatch(SyncError):
    zh = "本软件使用同步协议第 {mine} 版，平台使用第 {theirs} 版。请升级 FieldApp 或联系信息化人员。"
    en = "This FieldApp speaks sync contract version {mine}, the platform version {theirs}. Upgrade FieldApp or contact IT."


class ServerError(SyncError):
    zh = "督查平台出错（{what}）。请稍后重试；本机数据不受影响。"
    en = "The platform had an error ({what}). Try again later; nothing on this computer is affected."


class BadAnswer(SyncError):
    zh = "督查平台的应答无法识别（{what}）。本次同步已停止，本机数据未改动。"
    en = "The platform's answer could not be understood ({what}). The sync stopped; nothing on this computer was changed."


class LowDisk(SyncError):
    zh = "磁盘空间不足（剩余 {free_mb} MB），为避免写入不完整，本次未下载。请清理磁盘后重试。"
    en = "Not enough disk space ({free_mb} MB free): nothing was pulled, so nothing is half-written. Free some space and try again."


class KeyringUnavailable(SyncError):
    zh = "系统没有可用的密钥环，登录令牌改存在仅本用户可读的文件中：{what}"
    en = "No OS keyring is available; the sign-in token is kept in a file only you can read: {what}"
