"""/api/v1/processes: start the outlet suspension, insider referral, disciplinary and dissuasion
processes, and record what people decide along the way (inspection, appeal). The rules are in
domain/processes/*; results of referrals and dissuasions are reported on their order
(POST /api/v1/orders/{id}/report with `outcome`)."""
from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from api.deps import current_user
from api.routers.processes import ProcessOut
from domain.processes import disciplinary, dissuasion, referral, suspension
from domain.processes import queries as process_queries
from domain.processes.models import Process
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import get_session

router = APIRouter(prefix="/api/v1", tags=["processes 流程"])


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SuspensionIn(Strict):
    outlet_unit_id: RowId = Field(description="the carrier or bank outlet (营业厅/网点) to suspend")
    reason: str
    case_id: RowId | None = None


class InspectionIn(Strict):
    passed: bool = Field(description="验收通过: true reopens the outlet, false extends the suspension")
    findings: str | None = Field(default=None, description="验收意见; required when not passed")


class ReferralIn(Strict):
    employer_unit_id: RowId = Field(description="the bank or carrier unit the suspected insider works for")
    employee_name: str
    facts: str
    case_id: RowId | None = None


class DisciplinaryIn(Strict):
    person_name: str
    id_number: str = Field(description="18-character resident ID number; shown masked everywhere")
    ground: str = Field(description="a key of the policy's years_by_ground, e.g. convicted, card_dealing")
    measures: list[str] = Field(description="suspend_non_counter, receive_only, limit_card_opening, limit_calls")
    addressee_unit_ids: list[RowId] = Field(description="banks and carriers that carry out the measures")
    case_id: RowId | None = None


class AppealIn(Strict):
    grounds: str = Field(description="申诉理由, as the person gave them")


class AppealDecisionIn(Strict):
    upheld: bool = Field(description="申诉成立: true lifts every measure at once")
    reason: str


class DissuasionIn(Strict):
    area: RowId | str = Field(description="the victim's area: unit id or code (county, town or village)")
    risk_level: str = Field(description="high, medium or low")
    victim_name: str
    victim_phone: str
    warning_number: str | None = Field(default=None, description="预警编号: the same number starts one process only")
    case_id: RowId | None = None


def _out(session: Session, user: User, process: Process) -> ProcessOut:
    session.commit()
    return ProcessOut.of(process, process_queries.visible_data(session=session, actor=user, process=process))


@router.post("/processes/outlet-suspension", status_code=status.HTTP_201_CREATED, response_model=ProcessOut)
def start_suspension(body: SuspensionIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """停业整顿: the outlet is ordered to suspend, rectify, and is inspected before it reopens."""
    return _out(session, user, suspension.start(session=session, actor=user, **body.model_dump()))


@router.post("/processes/{process_id}/inspection", response_model=ProcessOut)
def record_inspection(process_id: RowId, body: InspectionIn, session: Session = Depends(get_session),
                      user: User = Depends(current_user)):
    """验收: passed → the outlet reopens; failed → another rectification round."""
    return _out(session, user, suspension.record_inspection(session=session, actor=user, process_id=process_id,
                                                            **body.model_dump()))


@router.post("/processes/insider-referral", status_code=status.HTTP_201_CREATED, response_model=ProcessOut)
def report_insider(body: ReferralIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """行业内鬼: referred to the police, sealed from the employer until it is closed; the reporting
    unit sees its stage and outcome only."""
    return _out(session, user, referral.report_insider(session=session, actor=user, **body.model_dump()))


@router.post("/processes/disciplinary", status_code=status.HTTP_201_CREATED, response_model=ProcessOut)
def start_disciplinary(body: DisciplinaryIn, session: Session = Depends(get_session),
                       user: User = Depends(current_user)):
    """惩戒: one order per measure and unit for the policy's period (consecutive periods capped)."""
    return _out(session, user, disciplinary.start(session=session, actor=user, **body.model_dump()))


@router.post("/processes/{process_id}/appeal", response_model=ProcessOut)
def record_appeal(process_id: RowId, body: AppealIn, session: Session = Depends(get_session),
                  user: User = Depends(current_user)):
    return _out(session, user, disciplinary.record_appeal(session=session, actor=user, process_id=process_id,
                                                          grounds=body.grounds))


@router.post("/processes/{process_id}/appeal-decision", response_model=ProcessOut)
def decide_appeal(process_id: RowId, body: AppealDecisionIn, session: Session = Depends(get_session),
                  user: User = Depends(current_user)):
    return _out(session, user, disciplinary.decide_appeal(session=session, actor=user, process_id=process_id,
                                                          **body.model_dump()))


@router.post("/processes/dissuasion", status_code=status.HTTP_201_CREATED, response_model=ProcessOut)
def start_dissuasion(body: DissuasionIn, session: Session = Depends(get_session), user: User = Depends(current_user)):
    """劝阻: high → home visit, medium → call, low → SMS, by the station serving the victim's area."""
    return _out(session, user, dissuasion.start(session=session, actor=user, **body.model_dump()))
