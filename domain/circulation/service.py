"""The monthly circulation (通报): rank a month, record it, give cards, list and delist areas.

Jingzhou (seed 000): each month the counties ranked top 3, towns top 10 and villages top 20 by
cases are circulated city-wide; two circulations → yellow card, three → red card and listed for
rectification (挂牌整治); a listed area is delisted once the problem is solved. Sizes, measure,
window and delisting are policy (circulation.yaml).

Each function is one state change in the caller's transaction, audited there. Recording a month is
idempotent: asking again returns the circulation already recorded (no second card, no second
circular); `correct` makes version + 1 and supersedes the old one.
"""
import logging
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from domain.audit import service as audit
from domain.cases.models import Case
from domain.circulation import ranking, standing
from domain.circulation.models import (
    Card,
    Circulation,
    CirculationRow,
    FraudCard,
    Listing,
)
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from domain.orders import service as orders
from domain.orders.models import Order
from domain.policy import current_policy
from domain.processes.models import FraudAccount
from domain.timeutil import SHANGHAI, as_utc, utcnow
from domain.units.models import Unit
from domain.users.models import User
from policies.loader import PolicySet

log = logging.getLogger("lianban.circulation")

RUNNER_ROLES = ("office", "admin")
SYSTEM_ACTOR = "system:circulation-flow"


# ---- months ----

def parse_month(text: str) -> str:
    """ "2026-10" (Beijing calendar month) or refuse."""
    value = (text or "").strip()
    try:
        year, month = int(value[:4]), int(value[5:7])
        ok = len(value) == 7 and value[4] == "-" and 2000 <= year <= 2100 and 1 <= month <= 12
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInput("bad_month", f"月份须形如 2026-10，收到：{text!r}", f'month must look like "2026-10", got {text!r}',
                           field="month")
    return value


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a Beijing calendar month, in UTC."""
    start = datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=SHANGHAI)
    nxt = ranking.month_add(month, 1)
    return as_utc(start), as_utc(datetime(int(nxt[:4]), int(nxt[5:7]), 1, tzinfo=SHANGHAI))


def month_of(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m")


def previous_month(now: datetime | None = None) -> str:
    return ranking.month_add(month_of(now or utcnow()), -1)


# ---- ranking a month (reads only) ----

def compute(*, session: Session, month: str, policy: PolicySet | None = None) -> dict[str, ranking.Ranking]:
    """Every ranking of the policy for `month`, from the cases and the fraud-involved accounts and cards."""
    rules = (policy or current_policy()).circulation
    start, end = month_bounds(month)
    units = session.exec(select(Unit.id, Unit.parent_id, Unit.code, Unit.name, Unit.kind, Unit.population)).all()
    parent_of = {u.id: u.parent_id for u in units}
    # By the date of report, as the statistics count them (domain.statistics): the two agree on a month.
    cases = session.exec(select(Case.area_unit_id, func.count(Case.id), func.coalesce(func.sum(Case.amount_fen), 0))
                         .where(Case.reported_at >= start, Case.reported_at < end)
                         .group_by(Case.area_unit_id)).all()
    sources = {"cases": ranking.roll_up(parent_of, {u: (int(c), int(a)) for u, c, a in cases})}
    wanted = {r.source for r in rules.member_units}
    if "fraud_accounts" in wanted:
        own = session.exec(select(FraudAccount.opening_unit_id, func.count(FraudAccount.id))
                           .where(FraudAccount.opened_on >= start, FraudAccount.opened_on < end)
                           .group_by(FraudAccount.opening_unit_id)).all()
        sources["fraud_accounts"] = ranking.roll_up(parent_of, {u: (int(c), 0) for u, c in own})
    if "fraud_cards" in wanted:
        own = session.exec(select(FraudCard.selling_unit_id, func.count(FraudCard.id))
                           .where(FraudCard.sold_on >= start, FraudCard.sold_on < end)
                           .group_by(FraudCard.selling_unit_id)).all()
        sources["fraud_cards"] = ranking.roll_up(parent_of, {u: (int(c), 0) for u, c in own})

    def tallies(kind: str, source: str, with_population: bool) -> list[ranking.Tally]:
        totals = sources[source]
        return [ranking.Tally(unit_id=u.id, code=u.code, name=u.name, count=totals[u.id][0],
                              amount_fen=totals[u.id][1], population=u.population if with_population else None)
                for u in units if u.kind == kind and u.id in totals]

    result = {}
    for area in rules.areas:
        result[area.id] = ranking.rank(tallies(area.unit_kind, "cases", True), top=area.top, measure=area.measure,
                                       tie_break=rules.tie_break)
    for member in rules.member_units:
        result[member.id] = ranking.rank(tallies(member.unit_kind, member.source, False), top=member.top,
                                         measure="count", tie_break=rules.tie_break)
    return result


# ---- recording ----

def current(*, session: Session, month: str) -> Circulation | None:
    return session.exec(select(Circulation).where(Circulation.month == month, Circulation.status == "current")
                        .execution_options(populate_existing=True)).first()


def rows_of(*, session: Session, circulation_id: int) -> list[CirculationRow]:
    return list(session.exec(select(CirculationRow).where(CirculationRow.circulation_id == circulation_id)
                             .order_by(CirculationRow.ranking_id, CirculationRow.rank)).all())


def _view(c: Circulation) -> dict:
    return {"month": c.month, "version": c.version, "status": c.status, "supersedes_id": c.supersedes_id,
            "policy_version": c.policy_version, "document_id": c.document_id}


def _record(*, session: Session, month: str, version: int, supersedes: Circulation | None, actor: str,
            reason: str | None, policy: PolicySet, now: datetime) -> Circulation:
    rankings = compute(session=session, month=month, policy=policy)
    notes = {rid: {"measure": r.measure, "without_population": r.without_population} for rid, r in rankings.items()}
    circulation = Circulation(month=month, version=version, supersedes_id=supersedes.id if supersedes else None,
                              reason=reason, policy_version=policy.file_version("circulation"), notes=notes,
                              created_at=now, created_by=actor)
    with session.begin_nested():
        if supersedes is not None:
            supersedes.status = "superseded"
            session.add(supersedes)
        session.add(circulation)
        session.flush()
    for ranking_id, result in rankings.items():
        for row in result.rows:
            session.add(CirculationRow(circulation_id=circulation.id, ranking_id=ranking_id, rank=row.rank,
                                       unit_id=row.tally.unit_id, count=row.tally.count,
                                       amount_fen=row.tally.amount_fen, population=row.tally.population,
                                       measure=row.measure,
                                       rate_per_10k=str(row.rate_per_10k) if row.rate_per_10k is not None else None))
    session.flush()
    summary = {rid: [(row.rank, row.tally.code, row.tally.count) for row in r.rows] for rid, r in rankings.items()}
    audit.record(session=session, actor=actor, action="circulation.recorded", entity_type="circulation",
                 entity_id=circulation.id, before=_view(supersedes) if supersedes else None,
                 after={**_view(circulation), "ranking": summary, "notes": notes},
                 rule=f"circulation@{circulation.policy_version[:12]}", at=now)
    log.info("circulation_recorded month=%s version=%s id=%s", month, version, circulation.id)
    return circulation


def record_month(*, session: Session, month: str, actor: str = SYSTEM_ACTOR, policy: PolicySet | None = None,
                 now: datetime | None = None) -> tuple[Circulation, bool]:
    """Rank `month` and record it as version 1, or return the version already current.
    Returns (circulation, created)."""
    month = parse_month(month)
    existing = current(session=session, month=month)
    if existing is not None:
        return existing, False
    now = now or utcnow()
    if month >= month_of(now):
        raise InvalidInput("month_not_over", f"{month} 尚未结束，不能通报", f"{month} is not over yet", field="month")
    try:
        return _record(session=session, month=month, version=1, supersedes=None, actor=actor, reason=None,
                       policy=policy or current_policy(), now=now), True
    except IntegrityError:  # a concurrent run recorded it first: theirs is the circulation
        return current(session=session, month=month), False


def correct(*, session: Session, month: str, actor: str, reason: str, policy: PolicySet | None = None,
            now: datetime | None = None) -> Circulation:
    """更正: rank the month again from today's data as a new version superseding the current one.
    Cards already given stay; new ones are given where the corrected ranking earns them."""
    month = parse_month(month)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason_required", "更正通报须写明原因", "a correction needs a reason", field="reason")
    old = current(session=session, month=month)
    if old is None:
        raise NotFound("circulation_not_found", f"{month} 尚未通报", f"{month} has not been circulated")
    try:
        return _record(session=session, month=month, version=old.version + 1, supersedes=old, actor=actor,
                       reason=reason[:500], policy=policy or current_policy(), now=now or utcnow())
    except IntegrityError:
        raise Conflict("circulation_already_corrected", f"{month} 第{old.version}版已被更正",
                       f"version {old.version} of {month} was already corrected") from None


def attach_document(*, session: Session, circulation_id: int, document_id: int, actor: str) -> Circulation:
    circulation = session.get(Circulation, circulation_id)
    if circulation.document_id == document_id:
        return circulation
    before = _view(circulation)
    circulation.document_id = document_id
    session.add(circulation)
    audit.record(session=session, actor=actor, action="circulation.document_attached", entity_type="circulation",
                 entity_id=circulation.id, before=before, after=_view(circulation))
    return circulation


# ---- cards and listing (挂牌整治) ----

def _circulated_months(session: Session, unit_id: int, first: str, last: str) -> list[str]:
    query = (select(Circulation.month).join(CirculationRow, CirculationRow.circulation_id == Circulation.id)
             .where(CirculationRow.unit_id == unit_id, Circulation.status == "current",
                    Circulation.month >= first, Circulation.month <= last).distinct())
    return sorted(session.exec(query).all())


def _last_delisted(session: Session, unit_id: int) -> str | None:
    return session.exec(select(func.max(Listing.delisted_month)).where(Listing.unit_id == unit_id)).one()


def give_cards(*, session: Session, circulation_id: int, actor: str = SYSTEM_ACTOR, policy: PolicySet | None = None,
               now: datetime | None = None) -> list[Card]:
    """The cards this circulation earns (黄牌 at yellow_at circulations, 红牌 and 挂牌整治 at red_at),
    counted over the window and since the unit was last delisted. Idempotent."""
    policy = policy or current_policy()
    rules, now = policy.circulation, now or utcnow()
    circulation = session.get(Circulation, circulation_id)
    if circulation is None or circulation.status != "current":
        return []
    carded = {r.id for r in rules.areas if r.cards} | {r.id for r in rules.member_units if r.cards}
    given: list[Card] = []
    for row in rows_of(session=session, circulation_id=circulation.id):
        if row.ranking_id not in carded:
            continue
        first = ranking.month_add(circulation.month, -(rules.cards.window_months - 1))
        delisted = _last_delisted(session, row.unit_id)
        if delisted is not None and delisted >= first:
            first = ranking.month_add(delisted, 1)
        months = _circulated_months(session, row.unit_id, first, circulation.month)
        held = set(session.exec(select(Card.colour).where(Card.unit_id == row.unit_id, Card.month >= first,
                                                          Card.month <= circulation.month)).all())
        colour = ranking.cards_due(len(months), held, yellow_at=rules.cards.yellow_at, red_at=rules.cards.red_at)
        if colour is None:
            continue
        causes = session.exec(select(Circulation.month, Circulation.id)
                              .where(Circulation.month.in_(months), Circulation.status == "current")
                              .order_by(Circulation.month)).all()
        card = Card(unit_id=row.unit_id, colour=colour, ranking_id=row.ranking_id, month=circulation.month,
                    period_start=first, circulation_id=circulation.id, issued_at=now,
                    caused_by=[{"month": m, "circulation_id": cid} for m, cid in causes])
        try:
            with session.begin_nested():
                session.add(card)
                session.flush()
        except IntegrityError:  # given by a concurrent run
            continue
        audit.record(session=session, actor=actor, action=f"circulation.card_{colour}", entity_type="circulation_card",
                     entity_id=card.id, after={"unit_id": card.unit_id, "colour": colour, "month": card.month,
                                               "caused_by": card.caused_by},
                     rule=f"circulation.cards.{colour}_at={getattr(rules.cards, colour + '_at')}", at=now)
        given.append(card)
        if colour == "red" and rules.cards.list_on_red:
            list_for_rectification(session=session, card=card, actor=actor, policy=policy, now=now)
    return given


def list_for_rectification(*, session: Session, card: Card, actor: str, policy: PolicySet,
                           now: datetime) -> Listing:
    """挂牌整治: list the unit and send it a rectification order. Once per red card; a unit already
    listed keeps its listing."""
    open_listing = session.exec(select(Listing).where(Listing.unit_id == card.unit_id,
                                                      Listing.status == "listed")).first()
    if open_listing is not None:
        return open_listing
    listing = Listing(unit_id=card.unit_id, card_id=card.id, listed_month=card.month, listed_at=now)
    with session.begin_nested():
        session.add(listing)
        session.flush()
    unit = session.get(Unit, card.unit_id)
    months = "、".join(c["month"] for c in card.caused_by)
    order = orders.issue(
        session=session, issued_by=actor, kind=policy.circulation.listing.order_kind, addressee_unit_id=unit.id,
        title=f"{unit.name}挂牌整治（{card.month}红牌警告）", policy=policy, now=now,
        instructions=(f"{unit.name}于{months}被全市通报{len(card.caused_by)}次，红牌警告并挂牌整治。"
                      f"请查找发案原因，落实整改措施，按时限报送整改报告。整改报告经联办验收后，连续"
                      f"{policy.circulation.listing.delist_after_clean_months}个月未被通报即予出列。"),
        details={"listing_id": listing.id, "card_id": card.id, "months": [c["month"] for c in card.caused_by]})
    listing.order_id = order.id
    session.add(listing)
    audit.record(session=session, actor=actor, action="circulation.listed", entity_type="circulation_listing",
                 entity_id=listing.id, after={"unit_id": unit.id, "card_id": card.id, "order_id": order.id,
                                              "listed_month": listing.listed_month},
                 rule="circulation.cards.list_on_red", at=now)
    log.info("circulation_listed unit_id=%s listing_id=%s order_id=%s", unit.id, listing.id, order.id)
    return listing


def delist_due(*, session: Session, month: str, actor: str = SYSTEM_ACTOR, policy: PolicySet | None = None,
               now: datetime | None = None) -> list[Listing]:
    """出列: listed units whose rectification was accepted and which then went the policy's number
    of whole months (up to `month`) without being circulated. Idempotent."""
    month = parse_month(month)
    policy = policy or current_policy()
    needed, now = policy.circulation.listing.delist_after_clean_months, now or utcnow()
    done: list[Listing] = []
    for listing in session.exec(select(Listing).where(Listing.status == "listed").order_by(Listing.id)).all():
        order = session.get(Order, listing.order_id) if listing.order_id else None
        if order is None or order.status not in ("accepted", "closed") or order.reviewed_at is None:
            continue
        accepted = month_of(order.reviewed_at)
        circulated = _circulated_months(session, listing.unit_id, ranking.month_add(accepted, 1), month)
        clean = ranking.clean_months(accepted_month=accepted, circulated=circulated, month=month)
        if clean < needed:
            continue
        listing.status, listing.delisted_month, listing.delisted_at = "delisted", month, now
        session.add(listing)
        audit.record(session=session, actor=actor, action="circulation.delisted", entity_type="circulation_listing",
                     entity_id=listing.id, before={"status": "listed"},
                     after={"status": "delisted", "delisted_month": month, "accepted_month": accepted,
                            "clean_months": clean},
                     rule=f"circulation.listing.delist_after_clean_months={needed}", at=now)
        done.append(listing)
    return done


# ---- reading ----

def require_runner(actor: User) -> str:
    if actor.role not in RUNNER_ROLES:
        raise Forbidden("circulation_forbidden", "只有联办工作人员可以发起通报", f"role '{actor.role}' may not run a circulation")
    return actor.username


def ranking_view(*, session: Session, month: str, version: int | None = None) -> dict:
    """A month's circulation as recorded: rankings with unit names, cards given, listings made."""
    month = parse_month(month)
    query = select(Circulation).where(Circulation.month == month)
    query = query.where(Circulation.version == version) if version else query.where(Circulation.status == "current")
    circulation = session.exec(query).first()
    if circulation is None:
        raise NotFound("circulation_not_found", f"{month} 尚未通报", f"{month} has not been circulated")
    names = dict(session.exec(select(Unit.id, Unit.name)).all())
    codes = dict(session.exec(select(Unit.id, Unit.code)).all())
    rows = rows_of(session=session, circulation_id=circulation.id)
    standings = standing.as_of(session=session, unit_ids={row.unit_id for row in rows}, month=month)
    rankings: dict[str, list[dict]] = {}
    for row in rows:
        rankings.setdefault(row.ranking_id, []).append({
            "rank": row.rank, "unit_id": row.unit_id, "unit_code": codes[row.unit_id], "unit_name": names[row.unit_id],
            "count": row.count, "amount_fen": row.amount_fen, "population": row.population, "measure": row.measure,
            "rate_per_10k": row.rate_per_10k, **standings[row.unit_id].as_dict()})
    cards = session.exec(select(Card).where(Card.circulation_id == circulation.id).order_by(Card.id)).all()
    listings = session.exec(select(Listing).where(Listing.card_id.in_([c.id for c in cards]))).all() if cards else []
    return {**_view(circulation), "id": circulation.id, "reason": circulation.reason, "notes": circulation.notes,
            "created_at": circulation.created_at.isoformat(), "rankings": rankings,
            "cards": [{"id": c.id, "unit_id": c.unit_id, "unit_name": names[c.unit_id], "colour": c.colour,
                       "caused_by": c.caused_by} for c in cards],
            "listings": [{"id": li.id, "unit_id": li.unit_id, "unit_name": names[li.unit_id], "status": li.status,
                          "order_id": li.order_id}
                         for li in listings]}


def circulated_months(*, session: Session, limit: int = 36) -> list[Circulation]:
    """The current version of each circulated month, newest first."""
    return list(session.exec(select(Circulation).where(Circulation.status == "current")
                             .order_by(Circulation.month.desc()).limit(limit)).all())
