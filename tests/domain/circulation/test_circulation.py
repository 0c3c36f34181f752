"""The monthly circulation (月通报): rankings known by hand, cards, listing for rectification
(挂牌整治) and delisting, re-runs and corrections, the real Prefect flow and its 通报 PDF.

Scenario on the demo city (policy: counties top 2 by count, towns top 2 per 10,000 residents,
villages top 1 by count; a town without population is added):

    month    cases (area × n, amount each)                    counties        towns              villages
    2025-01  三湾 ×2 1万, 熊河村 ×2 5万, 笔架山 ×1 1万            江陵, 沙市 (tie)  郝穴 .333, 中山 .25  熊河村 (tie)
    2025-02  三湾 ×3 1万, 熊河村 ×1 5万, 调关镇 ×1 0.5万          沙市, 江陵 (tie)  by count: 中山, 郝穴  三湾
    2025-03  熊河村 ×2 5万, 笔架山 ×3 0.1万                      石首, 江陵        笔架山 .4286, 郝穴   熊河村
    2025-04  三湾 ×1                                          沙市              中山               三湾

Cards: 2025-02 yellow for 江陵, 沙市, 郝穴, 中山; 2025-03 red for 江陵 and 郝穴 (listed), yellow for 熊河村.
江陵's rectification is accepted in 2025-04; not circulated in 05, 06, 07 → delisted in 2025-07.
"""
import io
import re
from datetime import datetime

import pytest
import yaml
from pypdf import PdfReader
from sqlalchemy import update
from sqlmodel import Session, func, select

from domain.audit.models import AuditEvent
from domain.cases.models import Case
from domain.circulation import circular, ranking
from domain.circulation import service as circulation
from domain.circulation.models import Card, Circulation, FraudCard, Listing
from domain.db import session_scope
from domain.documents import storage
from domain.documents.models import Document
from domain.orders.models import Order
from domain.processes.models import FraudAccount
from domain.timeutil import SHANGHAI, as_utc
from domain.units.models import Unit
from domain.users.models import User
from tests.conftest import auth, unit_id, write_policy

T = ranking.Tally


# ---- pure ranking rules, hand-computed ----

def test_equal_counts_are_ordered_by_amount_then_code():
    tallies = [T(1, "b", "乙", 3, 200), T(2, "a", "甲", 3, 200), T(3, "c", "丙", 3, 900), T(4, "d", "丁", 4, 1),
               T(5, "e", "戊", 0, 0)]
    result = ranking.rank(tallies, top=3, measure="count", tie_break=["amount_desc", "code_asc"])
    assert [(r.rank, r.tally.code) for r in result.rows] == [(1, "d"), (2, "c"), (3, "a")]
    only_code = ranking.rank(tallies, top=10, measure="count", tie_break=["code_asc"])
    assert [r.tally.code for r in only_code.rows] == ["d", "a", "b", "c"]  # no case: never ranked


def test_per_10k_ranks_by_rate_and_an_area_without_population_falls_back_to_counts():
    # rates: A 2/10,000 → 2.0; B 3/30,000 → 1.0; C 1/2,000 → 5.0
    tallies = [T(1, "a", "A", 2, 0, 10_000), T(2, "b", "B", 3, 0, 30_000), T(3, "c", "C", 1, 0, 2_000)]
    result = ranking.rank(tallies, top=3, measure="per_10k", tie_break=["code_asc"])
    assert [r.tally.code for r in result.rows] == ["c", "a", "b"] and result.measure == "per_10k"
    assert [str(r.rate_per_10k) for r in result.rows] == ["5.0000", "2.0000", "1.0000"]
    fallback = ranking.rank(tallies + [T(4, "d", "D镇", 1, 0, None)], top=3, measure="per_10k", tie_break=["code_asc"])
    assert [r.tally.code for r in fallback.rows] == ["b", "a", "c"]
    assert fallback.measure == "count_fallback" and fallback.without_population == ["D镇"]


def test_exact_rates_tie_where_rounding_would_not():
    # 1/3 per 10,000 twice (exactly equal), and 3,333/10,000 … which rounds the same but is smaller
    tallies = [T(1, "z", "Z", 1, 0, 30_000), T(2, "y", "Y", 2, 0, 60_000), T(3, "x", "X", 3333, 0, 100_000_000)]
    result = ranking.rank(tallies, top=3, measure="per_10k", tie_break=["code_asc"])
    assert [r.tally.code for r in result.rows] == ["y", "z", "x"]


def test_counts_roll_up_the_tree():
    parent_of = {1: None, 2: 1, 3: 2, 4: 3, 5: 1}  # bank ← city branch ← sub-branch ← outlet; other branch
    total = ranking.roll_up(parent_of, {4: (2, 0), 3: (1, 0), 5: (1, 0)})
    assert total == {4: (2, 0), 3: (3, 0), 2: (3, 0), 1: (4, 0), 5: (1, 0)}


def test_cards_and_clean_months():
    assert ranking.cards_due(1, set(), yellow_at=2, red_at=3) is None
    assert ranking.cards_due(2, set(), yellow_at=2, red_at=3) == "yellow"
    assert ranking.cards_due(2, {"yellow"}, yellow_at=2, red_at=3) is None
    assert ranking.cards_due(3, {"yellow"}, yellow_at=2, red_at=3) == "red"
    assert ranking.cards_due(4, {"yellow", "red"}, yellow_at=2, red_at=3) is None
    assert ranking.month_add("2025-11", 3) == "2026-02" and ranking.month_add("2025-01", -1) == "2024-12"
    assert ranking.clean_months(accepted_month="2025-04", circulated=[], month="2025-07") == 3
    assert ranking.clean_months(accepted_month="2025-04", circulated=["2025-06"], month="2025-07") == 1
    assert ranking.clean_months(accepted_month="2025-04", circulated=[], month="2025-04") == 0


# ---- the scenario ----

@pytest.fixture
def policy(tmp_path):
    from domain.policy import use_policy_folder

    folder = write_policy(tmp_path / "policy-circulation")
    path = folder / "circulation.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    levels = {a["id"]: a for a in data["areas"]}
    levels["county"].update(top=2, measure="count")
    levels["town"].update(top=2, measure="per_10k")
    levels["village"].update(top=1, measure="count")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    use_policy_folder(folder)
    yield folder
    use_policy_folder(None)


def add_cases(engine, month: str, spec: list[tuple[str, int, int]], day: int = 10):
    """spec: (area code, how many, amount in yuan each); registered on `day` of the month."""
    with Session(engine) as s:
        registrar = s.exec(select(User).where(User.username == "office")).one()
        n = s.exec(select(func.count(Case.id))).one()
        at = as_utc(datetime(int(month[:4]), int(month[5:]), day, 9, 30, tzinfo=SHANGHAI))
        for code, count, yuan in spec:
            area = s.exec(select(Unit).where(Unit.code == code)).one()
            for _ in range(count):
                n += 1
                s.add(Case(case_number=f"JZ-T-{n:05d}", amount_fen=yuan * 100, fraud_type="刷单返利",
                           victim_name="某", victim_phone="13800000000", area_unit_id=area.id, reported_at=at,
                           registered_at=at, registered_by_id=registrar.id, tier_policy_version="test"))
        s.commit()


@pytest.fixture
def scenario(engine, city, policy):
    with Session(engine) as s:
        shishou = s.exec(select(Unit).where(Unit.code == "shishou")).one()
        s.add(Unit(code="shishou.tiaoguan", name="调关镇", kind="town", parent_id=shishou.id, population=None))
        s.commit()
    add_cases(engine, "2025-01", [("shashi.zhongshan.v1", 2, 10_000), ("jiangling.haoxue.v1", 2, 50_000),
                                  ("shishou.bijiashan", 1, 10_000)])
    add_cases(engine, "2025-02", [("shashi.zhongshan.v1", 3, 10_000), ("jiangling.haoxue.v1", 1, 50_000),
                                  ("shishou.tiaoguan", 1, 5_000)])
    add_cases(engine, "2025-03", [("jiangling.haoxue.v1", 2, 50_000), ("shishou.bijiashan", 3, 1_000)])
    add_cases(engine, "2025-04", [("shashi.zhongshan.v1", 1, 10_000)])
    jan = as_utc(datetime(2025, 1, 5, 10, tzinfo=SHANGHAI))
    with Session(engine) as s:
        outlet = s.exec(select(Unit.id).where(Unit.code == "bank.icbc.jz.jiangling.haoxue")).one()
        ccb = s.exec(select(Unit.id).where(Unit.code == "bank.ccb.jz")).one()
        shop = s.exec(select(Unit.id).where(Unit.code == "carrier.cmcc.jz.shashi")).one()
        for n, unit in enumerate([outlet, outlet, ccb]):
            s.add(FraudAccount(account_number=f"62220200000000{n:04d}", opening_unit_id=unit, opened_on=jan,
                               recorded_at=jan, recorded_by="office"))
        s.add(FraudCard(phone_number="17100000001", selling_unit_id=shop, sold_on=jan, recorded_at=jan,
                        recorded_by="office"))
        s.commit()
    return engine


def run(engine, month):
    with session_scope(engine) as s:
        record = circular.run(session=s, month=month)
    with session_scope(engine, reading=True) as s:
        return circulation.ranking_view(session=s, month=month, version=record.version)


def names(view, ranking_id):
    return [r["unit_name"] for r in view["rankings"].get(ranking_id, [])]


def cards(view):
    return sorted((c["unit_name"], c["colour"]) for c in view["cards"])


def test_months_rank_card_list_and_delist_as_computed_by_hand(scenario, session):
    engine = scenario
    jan = run(engine, "2025-01")
    assert names(jan, "county") == ["江陵县", "沙市区"]  # 2 cases each: 10万 before 2万
    assert names(jan, "town") == ["郝穴镇", "中山街道"]  # 0.3333 and 0.25 per 10,000
    assert [r["rate_per_10k"] for r in jan["rankings"]["town"]] == ["0.3333", "0.2500"]
    assert names(jan, "village") == ["熊河村"]  # 2 cases each: 10万 before 2万
    assert names(jan, "bank") == ["中国工商银行", "中国建设银行"]
    assert names(jan, "bank_branch") == ["工商银行荆州分行", "工商银行江陵支行", "建设银行荆州分行"]  # tie: code
    assert names(jan, "carrier_outlet") == ["中国移动荆州分公司", "中国移动沙市中山营业厅"]
    assert cards(jan) == []

    feb = run(engine, "2025-02")
    assert names(feb, "county") == ["沙市区", "江陵县"]  # 3; then 1 case of 5万 before 1 of 0.5万
    assert feb["notes"]["town"] == {"measure": "count_fallback", "without_population": ["调关镇"]}
    assert names(feb, "town") == ["中山街道", "郝穴镇"]
    assert names(feb, "village") == ["三湾社区"]
    assert cards(feb) == [("中山街道", "yellow"), ("江陵县", "yellow"), ("沙市区", "yellow"), ("郝穴镇", "yellow")]

    mar = run(engine, "2025-03")
    assert names(mar, "county") == ["石首市", "江陵县"]
    assert names(mar, "town") == ["笔架山街道", "郝穴镇"]  # 0.4286 before 0.3333
    assert cards(mar) == [("江陵县", "red"), ("熊河村", "yellow"), ("郝穴镇", "red")]
    red = next(c for c in mar["cards"] if c["unit_name"] == "江陵县")
    assert [c["month"] for c in red["caused_by"]] == ["2025-01", "2025-02", "2025-03"]
    jiangling = unit_id(engine, "jiangling")
    listing = session.exec(select(Listing).where(Listing.unit_id == jiangling)).one()
    order = session.get(Order, listing.order_id)
    assert (order.kind, order.addressee_unit_id, order.status) == ("rectification_report", jiangling, "issued")

    # Re-running March: the same ranking, no second card, listing, order or circular.
    counts = lambda: [session.exec(select(func.count()).select_from(m)).one() for m in (Card, Listing, Order, Document)]
    before = counts()
    again = run(engine, "2025-03")
    assert again["rankings"] == mar["rankings"] and again["id"] == mar["id"] and counts() == before
    assert again["document_id"] == mar["document_id"]

    # 江陵's rectification report is accepted in April (the liaison's steps are the orders' own tests).
    with Session(engine) as s:
        s.exec(update(Order).where(Order.id == order.id).values(
            status="accepted", reviewed_at=as_utc(datetime(2025, 4, 20, 10, tzinfo=SHANGHAI))))
        s.commit()
    for month in ("2025-04", "2025-05", "2025-06"):
        run(engine, month)
        assert session.get(Listing, listing.id).status == "listed"
    jul = run(engine, "2025-07")
    assert session.get(Listing, listing.id).status == "delisted"
    assert session.get(Listing, listing.id).delisted_month == "2025-07"
    # 郝穴镇 has not been accepted: still listed.
    assert session.exec(select(Listing.status).where(Listing.unit_id == unit_id(engine, "jiangling.haoxue"))).one() == "listed"
    assert jul["rankings"] == {}
    actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.action.like("circulation.%"))).all())
    assert {"circulation.recorded", "circulation.card_yellow", "circulation.card_red", "circulation.listed",
            "circulation.delisted", "circulation.document_attached"} <= actions


def test_a_correction_is_a_new_version_with_the_same_number(scenario, session):
    engine = scenario
    first = run(engine, "2025-01")
    add_cases(engine, "2025-01", [("shishou.bijiashan", 5, 1_000)], day=20)  # late registrations
    with session_scope(engine) as s:
        corrected = circulation.correct(session=s, month="2025-01", actor="office", reason="补录石首市案件5起")
        circular.issue(session=s, circulation_id=corrected.id)
    second = circulation.ranking_view(session=session, month="2025-01")
    assert second["version"] == 2 and second["supersedes_id"] == first["id"]
    assert names(second, "county")[0] == "石首市"
    assert session.get(Circulation, first["id"]).status == "superseded"
    old_doc, new_doc = session.get(Document, first["document_id"]), session.get(Document, second["document_id"])
    assert new_doc.number == old_doc.number and new_doc.version == 2 and old_doc.status == "superseded"


def test_api_runs_a_month_for_the_office_only(scenario, client):
    assert client.post("/api/v1/circulations/2025-01/run", headers=auth("liaison_icbc")).status_code == 403
    response = client.post("/api/v1/circulations/2025-01/run", headers=auth("office"))
    assert response.status_code == 200, response.text
    assert [r["unit_code"] for r in response.json()["rankings"]["county"]] == ["jiangling", "shashi"]
    read = client.get("/api/v1/circulations/2025-01", headers=auth("liaison_icbc"))
    assert read.status_code == 200 and read.json()["rankings"] == response.json()["rankings"]
    assert client.get("/api/v1/circulations/2025-05", headers=auth("office")).status_code == 404
    assert client.get("/api/v1/circulations/2025-13", headers=auth("office")).status_code == 422
    future = client.post("/api/v1/circulations/2999-01/run", headers=auth("office"))
    assert future.status_code == 422


@pytest.mark.prefect
def test_the_monthly_flow_issues_the_circular_once(scenario, session, prefect_server):
    from flows.circulation import monthly_circulation

    done = monthly_circulation(month="2025-01")
    assert done["document_number"]
    again = monthly_circulation(month="2025-01")
    assert again["document_number"] == done["document_number"] and again["circulation_id"] == done["circulation_id"]
    docs = session.exec(select(Document).where(Document.kind == "circular")).all()
    assert len(docs) == 1 and docs[0].idempotency_key == "circulation:2025-01:v1"
    text = re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(io.BytesIO(storage.read(docs[0].pdf_path))).pages))
    assert "2025年1月" in text and "江陵县" in text and "郝穴镇" in text and "工商银行江陵支行" in text


def test_the_office_circulates_a_month_on_the_web_page_and_others_read_it(scenario):
    from tests.web_helpers import csrf_token, signed_in

    office = signed_in(scenario, "office")
    empty = office.get("/circulation")
    assert empty.status_code == 200 and "尚未发布任何通报" in empty.text
    token = csrf_token(office, "/circulation")
    refused = office.post("/circulation/run", data={"csrf_token": token, "month": "2999-01"})
    assert refused.status_code == 422 and "2999-01" in refused.text
    assert office.post("/circulation/run", data={"month": "2025-01"}).status_code == 403  # no CSRF token
    done = office.post("/circulation/run", data={"csrf_token": token, "month": "2025-01"}, follow_redirects=True)
    assert done.status_code == 200 and "2025-01 月通报" in done.text
    county = done.text.split("县市区", 1)[1]
    assert county.index("江陵县") < county.index("沙市区")  # ranked as the domain test computed by hand
    pdf = office.get("/circulation/2025-01/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "江陵县" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    # A leader reads the ranking but has no button to run one, and no PDF (documents are the office's).
    chief = signed_in(scenario, "chief").get("/circulation?month=2025-01")
    assert chief.status_code == 200 and "江陵县" in chief.text and "排名并通报" not in chief.text
    assert "下载通报" not in chief.text
    liaison = signed_in(scenario, "liaison_icbc")
    assert liaison.post("/circulation/run", data={"csrf_token": csrf_token(liaison, "/home"), "month": "2025-02"}).status_code == 403
