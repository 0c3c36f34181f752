"""/api/v1/audit and /api/v1/policy: oversight and policy administration."""
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import current_user
from domain.audit import checkpoints
from domain.errors import InvalidInput
from domain.policy import current_policy, get_policy_store
from domain.users.models import User
from domain.users.service import require_role
from httpkit.session import TransactionalRoute, get_session
from policies.loader import PolicyError, PolicySet

router = APIRouter(prefix="/api/v1", tags=["oversight 督导"], route_class=TransactionalRoute)


class ChainReportOut(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    reason: str | None


class PolicyOut(BaseModel):
    folder: str
    version: str
    files: dict[str, str]


def _policy_out(policy: PolicySet) -> PolicyOut:
    return PolicyOut(folder=policy.folder, version=policy.version, files=policy.file_hashes)


@router.get("/audit/verify", response_model=ChainReportOut)
def verify_audit(session: Session = Depends(get_session), user: User = Depends(current_user)) -> ChainReportOut:
    require_role(user, "auditor", "admin")
    report = checkpoints.check(session=session)  # also against the signed checkpoints
    return ChainReportOut(ok=report.ok, checked=report.checked, broken_seq=report.broken_seq, reason=report.reason)


@router.get("/policy", response_model=PolicyOut)
def running_policy(user: User = Depends(current_user)) -> PolicyOut:
    return _policy_out(current_policy())


@router.post("/policy/reload", response_model=PolicyOut)
def reload_policy(user: User = Depends(current_user)) -> PolicyOut:
    """Re-read the policy folder. A bad file is refused with its line and reason; the running policy stays."""
    require_role(user, "admin")
    try:
        return _policy_out(get_policy_store().reload())
    except PolicyError as exc:
        raise InvalidInput("bad_policy", f"策略文件有误，未生效：{exc}", f"policy refused, still running the old one: {exc}",
                           field=f"{exc.file}:{exc.line}") from None
