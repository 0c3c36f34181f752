"""Passwords, sign-in with a rate limit, browser sessions, and the administration of users.

Every sign-in attempt is recorded (who, from where, when, whether it worked, why not) in the
caller's transaction — the caller commits it even when sign-in is refused. Changes an
administrator makes to users are recorded in the audit trail; password hashes never are.
"""
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from domain.accounts import throttle
from domain.accounts.models import LoginAttempt, WebSession
from domain.audit import service as audit
from domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotAuthenticated, NotFound
from domain.settings import get_settings
from domain.timeutil import utcnow
from domain.units.models import Unit
from domain.users.models import LEADER_TIERS, LEADER_TIER_NAMES_ZH, ROLES, User
from domain.users.service import is_demo_secret, require_role

# Growing delays per account (domain/accounts/throttle.py), never a hard lockout.
# A browser session lasts one working shift, then the person signs in again.
SESSION_LIFETIME = timedelta(hours=12)

# OWASP's argon2id profile (19 MiB, 2 passes, 1 lane): ~50 ms on one core of this machine, so a
# burst of sign-ins or a guessing attack cannot take the web process's CPU away from the office.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the username is unknown, so "no such user" takes as long as "wrong password".
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,63}$")
_COMMON_PASSWORDS = {"1234567890", "12345678910", "0123456789", "password12", "password123", "qwertyuiop",
                     "1qaz2wsx3edc", "abcdefghij", "iloveyou12", "admin12345", "a123456789"}


class TooManyAttempts(DomainError):
    status = 429


@dataclass(frozen=True)
class UserIn:
    username: str
    display_name: str
    role: str
    unit_id: int | str | None
    leader_tier: str | None
    password: str


# ---- passwords ----

def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=64)
def demo_password_hash(password: str) -> str:
    """The demo city's public passwords, hashed once per process (tests load the demo often)."""
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, *, username: str, field: str = "new_password") -> str:
    """A new password: 10 to 128 characters, not the username, not a well-known one."""
    password = password or ""
    if len(password) < 10 or len(password) > 128:
        raise InvalidInput("password_length", "密码长度须为 10 到 128 个字符",
                           "a password needs 10 to 128 characters", field=field)
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise InvalidInput("password_has_username", "密码不能包含用户名", "the password must not contain the username",
                           field=field)
    if len(set(password)) < 4 or lowered in _COMMON_PASSWORDS:
        raise InvalidInput("password_too_simple", "密码过于简单，请换一个不易猜到的密码（可用一句话或几个词）",
                           "this password is too easy to guess: use a phrase or several words", field=field)
    return password


# ---- signing in ----

def _normalise_username(raw: str) -> str:
    return (raw or "").strip().lower()[:64]


def _throttle(session: Session, username: str, ip: str, now: datetime, field: str = "password") -> None:
    """Refuse (and record) an attempt that comes before the account's wait is over."""
    wait = throttle.wait_before_next(session=session, username=username, ip=ip, now=now)
    if wait <= timedelta(0):
        return
    _record_attempt(session, username, ip, now, False, "rate_limited")
    seconds = max(1, int(wait.total_seconds() + 0.999))
    raise TooManyAttempts(
        "too_many_attempts",
        f"密码错误次数过多：请 {seconds} 秒后再试（每次失败后等待时间加倍），或联系管理员重置密码",
        f"too many wrong passwords for this account: try again in {seconds} s "
        "or ask an administrator to reset the password", field=field)


def _record_attempt(session: Session, username: str, ip: str, now: datetime, succeeded: bool, reason: str) -> None:
    session.add(LoginAttempt(username=username, ip=(ip or "unknown")[:64], at=now, succeeded=succeeded,
                             reason=reason))
    session.flush()


def authenticate_password(*, session: Session, username: str, password: str, ip: str,
                          now: datetime | None = None) -> User:
    """Check a username and password. The attempt is recorded in the caller's transaction,
    which the caller must commit even when this raises (that is what makes the limit work).
    Outside demo mode the demo city's public passwords never sign in."""
    now = now or utcnow()
    username = _normalise_username(username)
    ip = (ip or "unknown")[:64]
    _throttle(session, username, ip, now)
    if is_demo_secret(username, password or "") and not get_settings().demo:
        password = ""  # checked like any wrong password: same answer, same time
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    if not _verify(user.password_hash if user else None, password or ""):
        _record_attempt(session, username, ip, now, False, "bad_credentials")
        raise NotAuthenticated("bad_credentials", "用户名或密码错误", "wrong username or password", field="password")
    if not user.active:
        _record_attempt(session, username, ip, now, False, "inactive")
        raise NotAuthenticated("account_inactive", "该账号已停用，请联系管理员", "this account is deactivated: ask an administrator",
                               field="username")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    _record_attempt(session, username, ip, now, True, "ok")
    return user


# ---- browser sessions ----

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(*, session: Session, user: User, ip: str | None, now: datetime | None = None) -> str:
    """A new session (always a new id: no fixation). Returns the token for the cookie, once."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                           expires_at=now + SESSION_LIFETIME, ip=(ip or None) and ip[:64]))
    session.flush()
    return token


def user_for_session(*, session: Session, token: str | None, now: datetime | None = None) -> User | None:
    """The active user a session token belongs to, or None (unknown, expired, or user deactivated)."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    return session.exec(select(User).join(WebSession, WebSession.user_id == User.id).where(
        WebSession.token_hash == _token_hash(token), WebSession.expires_at > now,
        User.active == True)).first()  # noqa: E712


def end_session(*, session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))


def _end_sessions_of(session: Session, user_id: int, keep_token: str | None = None) -> None:
    statement = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token:
        statement = statement.where(WebSession.token_hash != _token_hash(keep_token))
    session.execute(statement)


def change_password(*, session: Session, actor: User, current_password: str, new_password: str,
                    keep_token: str | None = None, ip: str = "unknown", now: datetime | None = None) -> User:
    """A person changes their own password; their other sessions end. A wrong current password is
    a guess like a wrong sign-in: throttled and recorded (the caller commits even when this raises;
    nothing else changes before a refusal)."""
    now = now or utcnow()
    ip = (ip or "unknown")[:64]
    _throttle(session, actor.username, ip, now, field="current_password")
    if not _verify(actor.password_hash, current_password or ""):
        _record_attempt(session, actor.username, ip, now, False, "bad_current_password")
        raise InvalidInput("bad_current_password", "当前密码不正确", "the current password is wrong",
                           field="current_password")
    check_new_password(new_password, username=actor.username)
    if _verify(actor.password_hash, new_password):
        raise InvalidInput("password_unchanged", "新密码不能与当前密码相同", "the new password is the same as the current one",
                           field="new_password")
    actor.password_hash = hash_password(new_password)
    session.add(actor)
    _end_sessions_of(session, actor.id, keep_token)
    audit.record(session=session, actor=actor.username, action="user.password_changed", entity_type="user",
                 entity_id=actor.id)
    return actor


# ---- administration ----

def user_view(user: User) -> dict:
    """What the audit trail records of a user (never the password or token hash)."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "leader_tier": user.leader_tier, "unit_id": user.unit_id, "active": user.active}


def _check_role(role: str, leader_tier: str | None) -> tuple[str, str | None]:
    if role not in ROLES:
        raise InvalidInput("unknown_role", "请选择有效的角色", f"role must be one of {', '.join(ROLES)}", field="role")
    leader_tier = (leader_tier or "").strip() or None
    if role == "leader" and leader_tier not in LEADER_TIERS:
        raise InvalidInput("leader_tier_required", "领导须选择层级（局长、分管局长或刑侦支队长）",
                           "a leader needs a tier: chief, deputy or cid_head", field="leader_tier")
    return role, leader_tier if role == "leader" else None


def _unit(session: Session, unit_id: int | str | None) -> Unit:
    try:
        unit = session.get(Unit, int(unit_id)) if unit_id not in (None, "") else None
    except (TypeError, ValueError):
        unit = None
    if unit is None:
        raise InvalidInput("unknown_unit", "请选择所属单位", "choose the user's unit", field="unit_id")
    return unit


def _display_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
        raise InvalidInput("bad_display_name", "姓名不能为空，最长 100 个字符", "the name must be 1 to 100 printable characters",
                           field="display_name")
    return name


def _ensure_not_last_leader(session: Session, user: User) -> None:
    """Approvals need someone to go to: the last active leader of a tier stays one."""
    if user.role != "leader" or not user.active:
        return
    others = session.exec(select(func.count()).select_from(User).where(
        User.role == "leader", User.leader_tier == user.leader_tier, User.active == True,  # noqa: E712
        User.id != user.id)).one()
    if others == 0:
        tier = LEADER_TIER_NAMES_ZH.get(user.leader_tier, user.leader_tier)
        raise Conflict("last_leader_of_tier",
                       f"{user.display_name} 是唯一在岗的{tier}：请先为该层级设置另一位领导，否则该层级的审批将无人接收",
                       f"{user.display_name} is the only active leader of tier {user.leader_tier}: "
                       "add another one first, or approvals of that tier reach nobody")


def create_user(*, session: Session, actor: User, user_in: UserIn) -> User:
    require_role(actor, "admin")
    username = _normalise_username(user_in.username)
    if not _USERNAME.match(username):
        raise InvalidInput("bad_username", "用户名须为 3 到 64 位小写字母、数字或 _ . -，以字母或数字开头",
                           "a username is 3 to 64 lowercase letters, digits, _ . or -", field="username")
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise InvalidInput("duplicate_username", f"用户名 {username} 已被使用", f"username {username} is taken",
                           field="username")
    display_name = _display_name(user_in.display_name)
    role, leader_tier = _check_role(user_in.role, user_in.leader_tier)
    unit = _unit(session, user_in.unit_id)
    password = check_new_password(user_in.password, username=username, field="password")
    user = User(username=username, display_name=display_name, role=role, leader_tier=leader_tier, unit_id=unit.id,
                password_hash=hash_password(password), active=True)
    session.add(user)
    session.flush()
    audit.record(session=session, actor=actor.username, action="user.created", entity_type="user", entity_id=user.id,
                 after=user_view(user))
    return user


def get_user(*, session: Session, actor: User, user_id: int) -> User:
    require_role(actor, "admin")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", f"用户 {user_id} 不存在", f"user {user_id} does not exist")
    return user


def list_users(*, session: Session, actor: User, search: str | None = None, offset: int = 0,
               limit: int = 50) -> tuple[list[User], int]:
    require_role(actor, "admin")
    query = select(User)
    if search and search.strip():
        query = query.where(or_(User.username.icontains(search.strip(), autoescape=True),
                                User.display_name.icontains(search.strip(), autoescape=True)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(User.active.desc(), User.username).offset(offset).limit(limit)).all()
    return list(rows), total


def assign_user(*, session: Session, actor: User, user_id: int, display_name: str, role: str,
                leader_tier: str | None, unit_id: int | str | None) -> User:
    """Change a user's name, unit, role and leader tier."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    display_name = _display_name(display_name)
    role, leader_tier = _check_role(role, leader_tier)
    unit = _unit(session, unit_id)
    if user.id == actor.id and role != "admin":
        raise Forbidden("own_admin_role", "不能取消自己的管理员角色（请由另一位管理员操作）",
                        "you cannot remove your own administrator role", field="role")
    if role != user.role or leader_tier != user.leader_tier:
        _ensure_not_last_leader(session, user)
    before = user_view(user)
    user.display_name, user.role, user.leader_tier, user.unit_id = display_name, role, leader_tier, unit.id
    session.add(user)
    session.flush()
    after = user_view(user)
    if after != before:
        audit.record(session=session, actor=actor.username, action="user.assigned", entity_type="user",
                     entity_id=user.id, before=before, after=after)
    return user


def deactivate_user(*, session: Session, actor: User, user_id: int) -> User:
    """The user can no longer sign in; their open sessions end at once. Their history stays."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    if user.id == actor.id:
        raise Forbidden("deactivate_self", "不能停用自己的账号", "you cannot deactivate your own account")
    if not user.active:
        return user
    _ensure_not_last_leader(session, user)
    before = user_view(user)
    user.active = False
    session.add(user)
    _end_sessions_of(session, user.id)
    session.flush()
    audit.record(session=session, actor=actor.username, action="user.deactivated", entity_type="user",
                 entity_id=user.id, before=before, after=user_view(user))
    return user


def reactivate_user(*, session: Session, actor: User, user_id: int) -> User:
    user = get_user(session=session, actor=actor, user_id=user_id)
    if user.active:
        return user
    before = user_view(user)
    user.active = True
    session.add(user)
    session.flush()
    audit.record(session=session, actor=actor.username, action="user.reactivated", entity_type="user",
                 entity_id=user.id, before=before, after=user_view(user))
    return user


def reset_password(*, session: Session, actor: User, user_id: int, new_password: str) -> User:
    """An administrator sets a new password (the person forgot theirs); their sessions end."""
    user = get_user(session=session, actor=actor, user_id=user_id)
    user.password_hash = hash_password(check_new_password(new_password, username=user.username, field="password"))
    session.add(user)
    _end_sessions_of(session, user.id)
    audit.record(session=session, actor=actor.username, action="user.password_reset", entity_type="user",
                 entity_id=user.id)
    return user


def operator_set_password(*, session: Session, username: str, new_password: str, operator: str) -> User:
    """The operator at the server sets a password (the first administrator's, or one nobody can
    reset any more): `lianban user password`. Recorded in the audit trail under the operator."""
    user = session.exec(select(User).where(User.username == _normalise_username(username))).first()
    if user is None:
        raise NotFound("user_not_found", f"用户 {username} 不存在", f"user {username} does not exist", field="username")
    user.password_hash = hash_password(check_new_password(new_password, username=user.username, field="password"))
    session.add(user)
    _end_sessions_of(session, user.id)
    audit.record(session=session, actor=operator, action="user.password_reset", entity_type="user", entity_id=user.id)
    return user
