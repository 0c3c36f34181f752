"""A production start on an empty database: the first administrator, with a one-time password.

The password is random, shown once to whoever started the service (stdout), stored only as its
hash; the administrator signs in with it and changes it (账号 → 修改密码). No API token: an
administrator creates tokens and users on the admin pages."""
import secrets

from sqlmodel import Session, select

from domain.accounts.service import hash_password
from domain.audit import service as audit
from domain.units.models import Unit
from domain.users.models import User

USERNAME = "admin"
OFFICE_CODE = "office"


def create_if_empty(*, session: Session) -> str | None:
    """The one-time password of a new `admin`, or None if the database already has users."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return None
    office = session.exec(select(Unit).where(Unit.code == OFFICE_CODE)).first()
    if office is None:
        office = Unit(code=OFFICE_CODE, name="打击治理电信网络新型违法犯罪联席会议办公室", kind="office")
        session.add(office)
        session.flush()
    password = secrets.token_urlsafe(15)  # 20 characters, ~120 bits
    admin = User(username=USERNAME, display_name="系统管理员", role="admin", unit_id=office.id,
                 password_hash=hash_password(password))
    session.add(admin)
    session.flush()
    audit.record(session=session, actor="operator:first-start", action="user.created", entity_type="user",
                 entity_id=admin.id, after={"username": USERNAME, "role": "admin", "unit_id": office.id})
    return password


def announce(password: str) -> str:
    """What `lianban up` prints, once."""
    return ("\n" + "=" * 72 + "\n首次启动：已创建管理员账号 admin，一次性密码（只显示这一次）：\n\n    " + password
            + "\n\n请立即登录并修改密码（账号 → 修改密码）。忘记时：lianban user password admin\n"
            "First start: user `admin` created with the one-time password above (shown once).\n" + "=" * 72 + "\n")
