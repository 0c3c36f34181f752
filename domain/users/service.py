"""Users, API tokens, and who may do what."""
import hashlib
import secrets

from sqlmodel import Session, select

from domain.settings import get_settings
from domain.errors import Forbidden, NotAuthenticated
from domain.users.models import User

SYSTEM_ACTOR = "system:escalation-flow"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_demo_secret(username: str, secret: str) -> bool:
    """The demo city's public token and password of a user (`demo-<username>`)."""
    return bool(secret) and secret == f"demo-{username}"


def authenticate(*, session: Session, token: str | None) -> User:
    """The user of an API token. The demo city's public tokens work only in demo mode
    (`lianban up --demo`, LIANBAN_DEMO=true): a database that once held the demo stays closed."""
    if not token:
        raise NotAuthenticated("no_token", "请先登录（缺少访问令牌）", "sign in first: no API token given")
    user = session.exec(select(User).where(User.token_hash == hash_token(token))).first()
    if user is not None and is_demo_secret(user.username, token) and not get_settings().demo:
        user = None
    if user is None or not user.active:
        raise NotAuthenticated("bad_token", "访问令牌无效或账号已停用", "the API token is not valid or the account is inactive")
    return user


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise Forbidden("role_forbidden", "您的角色无权执行此操作", f"role '{user.role}' may not do this")


def active_leader(*, session: Session, leader_tier: str) -> User | None:
    """The leader who receives approvals of a tier (the first active one of that tier)."""
    return session.exec(select(User).where(User.role == "leader", User.leader_tier == leader_tier,
                                           User.active == True)  # noqa: E712
                        .order_by(User.id)).first()
