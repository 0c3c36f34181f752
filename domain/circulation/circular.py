"""The 通报 (circular) of a month's circulation as an official document (GB/T 9704 PDF).

Version 1 is issued with the idempotency key "circulation:<month>:v1", so a retried flow gets the
same number back; a corrected circulation re-issues the document under the same number as its
next version (documents.reissue).
"""
from sqlmodel import Session, select

from domain.circulation import service as circulation_service
from domain.circulation.models import CARD_NAMES_ZH, Card, Circulation, Listing
from domain.documents import service as documents
from domain.documents.models import Document
from domain.policy import current_policy
from domain.units.models import Unit
from policies.loader import PolicySet

_MEASURE_ZH = {"count": "发案数", "per_10k": "万人发案率", "count_fallback": "发案数（部分地区无人口数据，按发案数排名）"}


def _cny(fen: int) -> str:
    return f"{fen / 100 / 10_000:.2f}万元" if fen else "—"


def _month_zh(month: str) -> str:
    return f"{int(month[:4])}年{int(month[5:7])}月"


def build(*, session: Session, circulation: Circulation, policy: PolicySet) -> documents.DocumentIn:
    rules = policy.circulation
    view = circulation_service.ranking_view(session=session, month=circulation.month, version=circulation.version)
    month_zh = _month_zh(circulation.month)
    tie = "、".join({"amount_desc": "涉案金额高者在前", "code_asc": "单位代码顺序"}[t] for t in rules.tie_break)
    paragraphs = [(
        f"根据全市电信网络诈骗发案情况，现将{month_zh}发案排名靠前的地区和涉“两卡”成员单位通报如下。"
        f"排名依据为当月报案的案件数（按报案时间计，与统计口径一致）（村居的案件计入其所属乡镇街道和县市区），"
        f"涉案银行账户按开户网点、涉案电话卡按销售营业厅统计并逐级计入上级单位；数值相同时按{tie}排列。")]
    if circulation.reason:
        paragraphs.append(f"本通报为第{circulation.version}版，更正原因：{circulation.reason}。")
    tables = []
    for area in rules.areas:
        note = circulation.notes.get(area.id, {})
        measure = note.get("measure", area.measure)
        rows = view["rankings"].get(area.id, [])
        if note.get("without_population"):
            paragraphs.append(f"{area.label_zh}中{'、'.join(note['without_population'])}无人口数据，"
                              f"本月{area.label_zh}排名改按发案数计算。")
        columns = ["名次", area.label_zh, "发案数", "涉案金额"] + (["万人发案率"] if measure == "per_10k" else [])
        tables.append(documents.TableIn(
            caption=f"{area.label_zh}发案前{area.top}名（按{_MEASURE_ZH[measure]}）",
            columns=columns,
            rows=[[str(r["rank"]), r["unit_name"], str(r["count"]), _cny(r["amount_fen"])]
                  + ([r["rate_per_10k"] or "—"] if measure == "per_10k" else []) for r in rows] or [["—", "本月无发案", "", ""]
                                                                                                + ([""] if measure == "per_10k" else [])]))
    for member in rules.member_units:
        rows = view["rankings"].get(member.id, [])
        if not rows:
            continue
        tables.append(documents.TableIn(caption=f"{member.label_zh}前{member.top}名", columns=["名次", "单位", "数量"],
                                        rows=[[str(r["rank"]), r["unit_name"], str(r["count"])] for r in rows]))
    measures = []
    for card in view["cards"]:
        months = "、".join(_month_zh(c["month"]) for c in card["caused_by"])
        listed = any(li["unit_id"] == card["unit_id"] for li in view["listings"])
        measures.append(documents.MeasureRow(
            measure=f"{CARD_NAMES_ZH[card['colour']]}（{months}被通报{len(card['caused_by'])}次）"
                    + ("，挂牌整治" if listed else ""),
            unit=card["unit_name"],
            deadline="按整改通知书时限报送整改报告" if listed else None))
    delisted = session.exec(select(Unit.name).join(Listing, Listing.unit_id == Unit.id)
                            .where(Listing.delisted_month == circulation.month)).all()
    for name in delisted:
        measures.append(documents.MeasureRow(measure="整改验收合格且连续未被通报，予以出列", unit=name))
    paragraphs.append(f"依照“两次通报黄牌警告、三次通报红牌警告并挂牌整治”的规定（{rules.cards.window_months}个月内累计），"
                      "被挂牌整治的地区问题不解决、不出列，党政领导不提拔、不重用。请各地各单位对照排名，"
                      "深入分析发案原因，压实属地、主体、主管责任。")
    return documents.DocumentIn(kind="circular", addressee="各县市区打击治理电信网络新型违法犯罪联席会议办公室，市联席会议各成员单位",
                                title=f"关于{month_zh}电信网络诈骗发案情况的通报", paragraphs=paragraphs,
                                measures=measures, tables=tables,
                                idempotency_key=f"circulation:{circulation.month}:v{circulation.version}")


def issue(*, session: Session, circulation_id: int, actor: str = circulation_service.SYSTEM_ACTOR,
          policy: PolicySet | None = None) -> Document:
    """Issue (or, for a correction, re-issue) the month's 通报 and attach it. Idempotent."""
    policy = policy or current_policy()
    circulation = session.get(Circulation, circulation_id)
    if circulation.document_id is not None:
        return session.get(Document, circulation.document_id)
    document_in = build(session=session, circulation=circulation, policy=policy)
    previous = session.get(Circulation, circulation.supersedes_id) if circulation.supersedes_id else None
    if previous is not None and previous.document_id is not None:
        doc = session.get(Document, previous.document_id)
        if doc.status == "in_force":
            doc = documents.reissue(session=session, actor=actor, document_id=doc.id, correction=document_in, policy=policy)
        else:  # already corrected or revoked: a new circular
            doc = documents.issue(session=session, actor=actor, document_in=document_in, policy=policy)
    else:
        doc = documents.issue(session=session, actor=actor, document_in=document_in, policy=policy)
    circulation_service.attach_document(session=session, circulation_id=circulation.id, document_id=doc.id, actor=actor)
    return doc


def cards_of(session: Session, circulation_id: int) -> list[Card]:
    return list(session.exec(select(Card).where(Card.circulation_id == circulation_id)).all())


def run(*, session: Session, month: str, actor: str = circulation_service.SYSTEM_ACTOR,
        policy: PolicySet | None = None) -> Circulation:
    """The whole month in one transaction (API, CLI fallback): record, delist, cards, circular.
    The Prefect flow runs the same steps as separate tasks."""
    policy = policy or current_policy()
    circulation, _ = circulation_service.record_month(session=session, month=month, actor=actor, policy=policy)
    circulation_service.delist_due(session=session, month=circulation.month, actor=actor, policy=policy)
    circulation_service.give_cards(session=session, circulation_id=circulation.id, actor=actor, policy=policy)
    issue(session=session, circulation_id=circulation.id, actor=actor, policy=policy)
    return circulation
