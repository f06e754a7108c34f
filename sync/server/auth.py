"""Users, passwords, sign-in tokens and who is calling.

Passwords: scrypt from the standard library (memory-hard, no extra dependency to install on a
government server), a random salt per user, parameters kept in the stored hash so they can be
raised later. Tokens: 32 random bytes, kept only as their SHA-256, with an expiry, revoked by
logout. Wrong passwords are slowed with state in the database (several processes serve one
database): after `lock_after` consecutive failures the account waits 1, 2, 4 … seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from sync.contract import ErrorCode, LoginRequest, LoginResponse, Role, UserInfo
from sync.server.config import Settings
from sync.server.db import Database, Device, Token, User, aware, utcnow
from sync.server.errors import ApiError

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # ~16 MiB and ~50 ms a try
MAX_LOCK_SECONDS = 3600.0


@dataclass(frozen=True)
class Caller:
    """The signed-in user of a request, as the rules need them."""

    name: str
    role: Role
    unit: str
    device_id: str
    display_name: str = ""

    @property
    def admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR

    def info(self) -> UserInfo:
        return UserInfo(name=self.name, display_name=self.display_name, role=self.role, unit=self.unit)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            maxmem=64 * 1024 * 1024)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 1024 * 1024)
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got.hex(), digest)


# Checked against when the user does not exist, so an unknown name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_info(u: User) -> UserInfo:
    return UserInfo(name=u.name, display_name=u.display_name, role=Role(u.role), unit=u.unit)


# ---------------------------------------------------------------- users (the CLI's)


def add_user(db: Database, name: str, password: str, role: Role, unit: str, display_name: str = "") -> None:
    if not name.strip() or len(name) > 64:
        raise ValueError("a user name is 1 to 64 characters")
    if not password:
        raise ValueError("the password is empty")
    with db.write(feed=False) as s:
        if s.get(User, name) is not None:
            raise ValueError(f"user {name} exists already")
        s.add(User(name=name, display_name=display_name, role=str(role), unit=unit,
                   password_hash=hash_password(password), disabled=False, failed_logins=0))


def disable_user(db: Database, name: str) -> None:
    """Disables the account: its existing tokens stop working at their next call."""
    with db.write(feed=False) as s:
        user = s.get(User, name)
        if user is None:
            raise ValueError(f"no user {name}")
        user.disabled = True


def issue_token(s: Session, user: User, device_id: str, ttl: float) -> tuple[str, dt.datetime]:
    token = secrets.token_urlsafe(32)
    expires = utcnow() + dt.timedelta(seconds=ttl)
    s.add(Token(token_hash=token_hash(token), user=user.name, device_id=device_id, created_at=utcnow(),
                expires_at=expires, revoked=False))
    return token, expires


def new_token(db: Database, settings: Settings, name: str, device_id: str = "") -> str:
    """An API token for scripts (the CLI's `token NAME`)."""
    with db.write(feed=False) as s:
        user = s.get(User, name)
        if user is None:
            raise ValueError(f"no user {name}")
        token, _ = issue_token(s, user, device_id, settings.token_ttl)
        return token


# ---------------------------------------------------------------- sign-in


WRONG_PASSWORD = ApiError(401, ErrorCode.WRONG_PASSWORD, "用户名或密码错误", "wrong user name or password")


def _disabled() -> ApiError:
    return ApiError(403, ErrorCode.USER_DISABLED, "该账号已停用，请联系管理员",
                    "this account is disabled; ask the platform's administrator")


def _locked(seconds: float) -> ApiError:
    return ApiError(429, ErrorCode.TOO_MANY_ATTEMPTS, f"密码错误次数过多，请 {seconds:.0f} 秒后再试",
                    f"too many wrong passwords; try again in {seconds:.0f} s", retry_after=seconds)


def login(db: Database, settings: Settings, req: LoginRequest) -> LoginResponse:
    with db.read() as s:
        user = s.get(User, req.user)
        now = utcnow()
        if user is None:
            verify_password(req.password, _DUMMY_HASH)
            raise WRONG_PASSWORD
        if user.locked_until is not None and user.locked_until > now:
            raise _locked((user.locked_until - now).total_seconds())
        stored = user.password_hash
    # The slow hash runs outside any transaction: no write waits behind it.
    right = verify_password(req.password, stored)
    # The wrong-password bookkeeping must commit, so the refusal is raised after the transaction.
    refusal: ApiError | None = None
    with db.write(feed=False) as s:
        user = s.get(User, req.user)
        if user is None:  # removed meanwhile
            raise WRONG_PASSWORD
        if not right:
            user.failed_logins += 1
            over = user.failed_logins - settings.lock_after
            if over >= 0:
                seconds = min(2.0 ** over, MAX_LOCK_SECONDS)
                user.locked_until = now + dt.timedelta(seconds=seconds)
            refusal = WRONG_PASSWORD
        elif user.disabled:
            refusal = _disabled()
        else:
            user.failed_logins = 0
            user.locked_until = None
            token, expires = issue_token(s, user, req.device_id, settings.token_ttl)
            device = s.get(Device, req.device_id)
            if device is None:
                device = Device(device_id=req.device_id, pending_changes=0, pending_photos=0)
                s.add(device)
            device.user = user.name
            device.name = req.device_name or req.device_id
            info = user_info(user)
    if refusal is not None:
        raise refusal
    return LoginResponse(token=token, expires_at=aware(expires), user=info)


def logout(db: Database, token: str) -> None:
    with db.write(feed=False) as s:
        row = s.get(Token, token_hash(token))
        if row is not None:
            row.revoked = True


def authenticate(db: Database, authorization: str | None) -> Caller:
    """The caller of a request from its `Authorization: Bearer` header, or the refusal."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, ErrorCode.UNAUTHENTICATED, "请先登录", "sign in first")
    with db.read() as s:
        row = s.get(Token, token_hash(token.strip()))
        if row is None:
            raise ApiError(401, ErrorCode.UNAUTHENTICATED, "登录凭据无效，请重新登录", "unknown token; sign in again")
        if row.revoked:
            raise ApiError(401, ErrorCode.TOKEN_REVOKED, "已退出登录，请重新登录", "the token was revoked; sign in again")
        if row.expires_at <= utcnow():
            raise ApiError(401, ErrorCode.TOKEN_EXPIRED, "登录已过期，请重新登录", "the token has expired; sign in again")
        user = s.get(User, row.user)
        if user is None:
            raise ApiError(401, ErrorCode.UNAUTHENTICATED, "账号不存在", "the account no longer exists")
        if user.disabled:
            raise _disabled()
        return Caller(name=user.name, role=Role(user.role), unit=user.unit, device_id=row.device_id,
                      display_name=user.display_name)
