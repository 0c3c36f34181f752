"""Small factories: a test makes just the units, users, cases, orders and processes it needs, through
the domain services (so the audit trail and the rules apply), instead of taking the whole demo city.

Each takes a Session, flushes and returns the object; the caller commits. Usernames get the demo's
token, so `tests.conftest.auth(username)` signs a factory-made user in to the API as well.

    with Session(engine) as s:
        bank = factories.unit(s, "bank.x", kind="bank_branch")
        office = factories.user(s, "clerk", role="office")
        order = factories.order(s, addressee=bank)
        s.commit()
"""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlmodel import Session, select

from domain.timeutil import utcnow
from domain.units.models import Unit
from domain.users.models import User

_serial = count(1)
PASSWORD = "factory made, 2026!"  # the password rules refuse one that contains the username


def unit(session: Session, code: str | None = None, *, kind: str = "bank_branch", parent: Unit | None = None,
         name: str | None = None, population: int | None = None) -> Unit:
    """A unit (no service creates units: the tree is loaded, as the demo and installs do)."""
    code = code or f"unit.{next(_serial)}"
    existing = session.exec(select(Unit).where(Unit.code == code)).first()
    if existing is not None:
        return existing
    made = Unit(code=code, name=name or code, kind=kind, population=population,
                parent_id=parent.id if parent else None)
    session.add(made)
    session.flush()
    return made


def admin(session: Session) -> User:
    """The first administrator, made the way an install makes it (a row), so the services can be used
    by an admin to make everyone else."""
    from domain.demo import demo_token
    from domain.users.service import hash_token

    existing = session.exec(select(User).where(User.username == "admin")).first()
    if existing is not None:
        return existing
    made = User(username="admin", display_name="系统管理员", role="admin", leader_tier=None,
                unit_id=unit(session, "office", kind="office").id, token_hash=hash_token(demo_token("admin")))
    session.add(made)
    session.flush()
    return made


def user(session: Session, username: str | None = None, *, role: str = "office", unit_of: Unit | None = None,
         leader_tier: str | None = None, display_name: str | None = None) -> User:
    """A user created by the admin through accounts.create_user (validation, audit entry), with the
    demo token `demo-<username>` and the password PASSWORD."""
    from domain.accounts.service import UserIn, create_user
    from domain.demo import demo_token
    from domain.users.service import hash_token

    username = username or f"user{next(_serial)}"
    home = unit_of or unit(session, "office", kind="office")
    made = create_user(session=session, actor=admin(session), user_in=UserIn(
        username=username, display_name=display_name or username, role=role, unit_id=home.id,
        leader_tier=leader_tier, password=PASSWORD))
    made.token_hash = hash_token(demo_token(username))
    session.add(made)
    session.flush()
    return made


def case(session: Session, number: str | None = None, *, amount: str = "30000", area: Unit | None = None,
         by: User | None = None, reported_at: datetime | None = None):
    """A case registered by the office through cases.register (its tier, its approval if any). The
    leader of the tier must exist for amounts that escalate: make one with `user(role="leader", ...)`."""
    from domain.cases import service as cases

    area = area or unit(session, "county.test", kind="county", population=100_000)
    actor = by or _office(session)
    return cases.register(session=session, actor=actor, case_in=cases.CaseIn(
        case_number=number or f"F-{next(_serial):04d}", amount_cny=amount, fraud_type="冒充领导",
        victim_name="张三", victim_phone="13800001234", area=area.code,
        reported_at=reported_at or utcnow() - timedelta(hours=1)))


def order(session: Session, *, addressee: Unit | None = None, kind: str = "supervision", title: str = "核查开户资料",
          case_id: int | None = None, now: datetime | None = None):
    """An order issued by the office through orders.issue (its deadlines from the policy)."""
    from domain.orders import service as orders

    addressee = addressee or unit(session, "bank.test", kind="bank_branch")
    return orders.issue(session=session, issued_by=_office(session).username, kind=kind,
                        addressee_unit_id=addressee.id, title=title, case_id=case_id, now=now)


def stop_payment(session: Session, *, bank: Unit | None = None, account: str | None = None, amount: str = "1000"):
    """A stop-payment process requested by the office through processes.payments."""
    from domain.processes import payments

    bank = bank or unit(session, "bank.test", kind="bank_branch")
    return payments.request_stop_payment(session=session, actor=_office(session), bank_unit_id=bank.id,
                                         account_number=account or f"62220{next(_serial):014d}", amount_cny=amount)


def _office(session: Session) -> User:
    return session.exec(select(User).where(User.role == "office", User.active)).first() or user(session, "office")
