"""A demo city (荆州-like): the unit tree, a user of every role, and a few cases.

Demo API tokens are predictable on purpose (`demo-<username>`) so the README's examples work;
a real deployment creates users on the admin pages (and sets passwords with `lianban user password`).
"""
import random
from datetime import timedelta

from sqlmodel import Session, select

from domain.accounts.service import demo_password_hash
from domain.cases import service as cases
from domain.timeutil import utcnow
from domain.units.models import Unit
from domain.users.models import User
from domain.users.service import hash_token
from domain.warnings import service as warnings
from domain.warnings.models import FraudWarning

# (code, name, kind, parent code, population)
UNITS: list[tuple[str, str, str, str | None, int | None]] = [
    ("city", "荆州市", "government", None, 5_230_000),
    ("office", "荆州市打击治理电信网络新型违法犯罪联席会议办公室", "office", "city", None),
    ("psb", "荆州市公安局", "police", "city", None),
    ("psb.cid", "荆州市公安局刑事侦查支队", "police", "psb", None),
    ("psb.shashi.station", "沙市区公安分局中山派出所", "police", "psb", None),
    ("shashi", "沙市区", "county", "city", 600_000),
    ("shashi.zhongshan", "中山街道", "town", "shashi", 80_000),
    ("shashi.zhongshan.v1", "三湾社区", "village", "shashi.zhongshan", 9_000),
    ("jiangling", "江陵县", "county", "city", 330_000),
    ("jiangling.haoxue", "郝穴镇", "town", "jiangling", 60_000),
    ("jiangling.haoxue.v1", "熊河村", "village", "jiangling.haoxue", 3_200),
    ("shishou", "石首市", "county", "city", 540_000),
    ("shishou.bijiashan", "笔架山街道", "town", "shishou", 70_000),
    ("bank.icbc", "中国工商银行", "bank", "city", None),
    ("bank.icbc.jz", "工商银行荆州分行", "bank_branch", "bank.icbc", None),
    ("bank.icbc.jz.jiangling", "工商银行江陵支行", "bank_branch", "bank.icbc.jz", None),
    ("bank.icbc.jz.jiangling.haoxue", "工商银行江陵郝穴营业部", "bank_outlet", "bank.icbc.jz.jiangling", None),
    ("bank.ccb", "中国建设银行", "bank", "city", None),
    ("bank.ccb.jz", "建设银行荆州分行", "bank_branch", "bank.ccb", None),
    ("carrier.cmcc", "中国移动", "carrier", "city", None),
    ("carrier.cmcc.jz", "中国移动荆州分公司", "carrier_outlet", "carrier.cmcc", None),
    ("carrier.cmcc.jz.shashi", "中国移动沙市中山营业厅", "carrier_outlet", "carrier.cmcc.jz", None),
    ("carrier.ctcc", "中国电信", "carrier", "city", None),
    ("carrier.ctcc.jz", "中国电信荆州分公司", "carrier_outlet", "carrier.ctcc", None),
    ("regulator.samr", "荆州市市场监督管理局", "regulator", "city", None),
]

# (username, display name, role, leader tier, unit code)
USERS: list[tuple[str, str, str, str | None, str]] = [
    ("office", "联办值班员 王敏", "office", None, "office"),
    ("chief", "局长 李建国", "leader", "chief", "psb"),
    ("deputy", "分管副局长 张卫东", "leader", "deputy", "psb"),
    ("cid_head", "刑侦支队长 陈刚", "leader", "cid_head", "psb.cid"),
    ("liaison_icbc", "工行联络员 刘芳", "liaison", None, "bank.icbc.jz"),
    ("liaison_ccb", "建行联络员 赵磊", "liaison", None, "bank.ccb.jz"),
    ("liaison_icbc_jiangling", "工行江陵支行联络员 钱进", "liaison", None, "bank.icbc.jz.jiangling"),
    ("liaison_cmcc", "移动联络员 孙丽", "liaison", None, "carrier.cmcc.jz"),
    ("police_station", "中山派出所 周强", "police", None, "psb.shashi.station"),
    ("police_cid", "刑侦支队 内鬼线索专班 郑伟", "police", None, "psb.cid"),
    ("auditor", "督导 吴静", "auditor", None, "office"),
    ("admin", "系统管理员", "admin", None, "office"),
]

# (case number, amount, fraud type, victim, phone, area code, hours ago) — amounts from seed 000
CASES = [
    ("JZ-2026-0001", "2750000.00", "冒充领导", "徐某某", "13800001234", "shashi.zhongshan", 5),
    ("JZ-2026-0002", "280000.00", "冒充领导", "黄某", "13900005678", "jiangling.haoxue.v1", 3),
    ("JZ-2026-0003", "600000.00", "虚假投资理财", "周某某", "13700002468", "shishou.bijiashan", 2),
    ("JZ-2026-0004", "36000.00", "刷单返利", "郑某", "13600001357", "shashi.zhongshan.v1", 1),
]


def demo_token(username: str) -> str:
    return f"demo-{username}"


def load(*, session: Session, with_cases: bool = True, with_history: bool = False) -> bool:
    """Load the demo city into an empty database. Returns False (and changes nothing) if users exist.
    `with_history` adds thirteen months of warnings and small cases with results, so the statistics
    page has something to compare (环比, 同比) on a fresh install."""
    if session.exec(select(User.id).limit(1)).first() is not None:
        return False
    by_code: dict[str, Unit] = {}
    for code, name, kind, parent, population in UNITS:
        unit = Unit(code=code, name=name, kind=kind, population=population,
                    parent_id=by_code[parent].id if parent else None)
        session.add(unit)
        session.flush()
        by_code[code] = unit
    users: dict[str, User] = {}
    for username, display, role, tier, unit_code in USERS:
        user = User(username=username, display_name=display, role=role, leader_tier=tier,
                    unit_id=by_code[unit_code].id, token_hash=hash_token(demo_token(username)),
                    password_hash=demo_password_hash(demo_token(username)))  # web password: demo-<username>
        session.add(user)
        users[username] = user
    session.flush()
    if with_history:  # first, so the demo's own cases are the newest in every list
        _history(session, users["office"])
    if with_cases:
        for number, amount, fraud_type, victim, phone, area, hours_ago in CASES:
            cases.register(session=session, actor=users["office"], case_in=cases.CaseIn(
                case_number=number, amount_cny=amount, fraud_type=fraud_type, victim_name=victim,
                victim_phone=phone, area=area, reported_at=utcnow() - timedelta(hours=hours_ago)))
    return True


HISTORY_AREAS = ("shashi.zhongshan.v1", "shashi.zhongshan", "jiangling.haoxue.v1", "jiangling.haoxue",
                 "shishou.bijiashan", "shishou")


def _history(session: Session, office: User) -> None:
    """Thirteen months of past warnings and small cases (below every leader tier), the same on every
    install (a fixed seed): about 40 warnings and 2 cases a month, three in four warnings dissuaded."""
    rng = random.Random(2026)
    now = utcnow()
    items, dissuaded = [], []
    for day in range(395, 0, -1):
        for n in range(rng.choice((0, 1, 1, 2, 2, 3))):
            number = f"YJ-DEMO-{day:03d}-{n}"
            items.append(warnings.WarningIn(warning_number=number, area=rng.choice(HISTORY_AREAS),
                                            risk_level=rng.choice(("high", "medium", "low")),
                                            received_at=now - timedelta(days=day, hours=rng.randint(0, 20))))
            if rng.random() < 0.75:
                dissuaded.append(number)
    warnings.receive(session=session, actor=office, items=items)
    for row in session.exec(select(FraudWarning).where(FraudWarning.warning_number.in_(dissuaded))).all():
        warnings.set_outcome(session=session, warning=row, outcome="dissuaded", at=row.received_at + timedelta(hours=2))
    for day in range(390, 5, -15):
        case = cases.register(session=session, actor=office, case_in=cases.CaseIn(
            case_number=f"JZ-HIST-{day:03d}", amount_cny=str(rng.randint(5, 180) * 1000), fraud_type=rng.choice(
                ("刷单返利", "虚假投资理财", "冒充客服", "虚假网络贷款")), victim_name="历史案例", victim_phone="13800000000",
            area=rng.choice(HISTORY_AREAS), reported_at=now - timedelta(days=day)))
        if rng.random() < 0.6:
            cases.record_result(session=session, actor=office, case_id=case.id,
                                solved_at=now - timedelta(days=day - rng.randint(1, 5)),
                                suspects_caught=rng.randint(1, 4), recovered_cny=str(case.amount_fen // 100 // 3))
            case.recovered_at = case.solved_at  # history: the money came back when the case was solved
