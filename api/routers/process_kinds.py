"""POST /api/v1/processes/<slug> to start each registered process kind, and
POST /api/v1/processes/{process_id}/<action> for what the office records on a running one (验收,
申诉, 续冻): derived from domain/processes/registry.py, one JSON schema per kind built from its
declared fields. Results of referrals and dissuasions are reported on their order
(POST /api/v1/orders/{id}/report with `outcome`)."""
from collections.abc import Callable
from datetime import date, datetime

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlmodel import Session

from api.deps import current_user
from api.fields import Amount
from api.routers.processes import ProcessOut
from domain.processes import queries as process_queries
from domain.processes import registry
from domain.processes.models import Process
from domain.processes.registry import FormField, ProcessAction, ProcessKind
from domain.users.models import User
from httpkit.ids import RowId
from httpkit.session import TransactionalRoute, get_session

TAGS = ["processes 流程"]
# A declared field's type as JSON carries it; the kind's own function validates the rest.
JSON_TYPES: dict[str, object] = {
    "unit": RowId, "case": RowId, "unit_or_code": RowId | str, "unit_list": list[RowId], "text": str,
    "text_list": list[str], "amount": Amount, "bool": bool, "choice": str, "choice_list": list[str],
    "date": date, "datetime": datetime,
}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_"))


def body_schema(name: str, fields: tuple[FormField, ...]) -> type[BaseModel]:
    """The JSON body of a start or action route: required fields first-class, optional ones default
    to None (lists to [])."""
    declared = {}
    for f in fields:
        annotation = JSON_TYPES[f.type]
        info = {"description": f.hints["description"]} if "description" in f.hints else {}
        if f.required:
            declared[f.name] = (annotation, Field(**info))
        elif f.type.endswith("_list"):
            declared[f.name] = (annotation, Field(default=[], **info))
        else:
            declared[f.name] = (annotation | None, Field(default=None, **info))
    return create_model(f"{_camel(name)}In", __base__=Strict, **declared)


def _out(session: Session, user: User, process: Process) -> ProcessOut:
    session.commit()
    return ProcessOut.of(process, process_queries.visible_data(session=session, actor=user, process=process))


def _start_endpoint(kind: ProcessKind) -> Callable:
    schema = body_schema(kind.name, kind.start_fields)

    def start(body: schema, session: Session = Depends(get_session), user: User = Depends(current_user)):  # type: ignore[valid-type]
        return _out(session, user, registry.get(kind.name).start(session=session, actor=user, **body.model_dump()))

    start.__doc__ = kind.description or f"{kind.label_zh}: start one."
    return start


def _action_endpoint(kind: ProcessKind, action: ProcessAction) -> Callable:
    def act(process_id: RowId, session: Session, user: User, fields: dict) -> ProcessOut:
        return _out(session, user, action.handler(session=session, actor=user, process_id=process_id, **fields))

    if not action.fields:
        def endpoint(process_id: RowId, session: Session = Depends(get_session), user: User = Depends(current_user)):
            return act(process_id, session, user, {})
    else:
        schema = body_schema(f"{kind.name}_{action.slug}", action.fields)

        def endpoint(process_id: RowId, body: schema, session: Session = Depends(get_session),  # type: ignore[valid-type]
                     user: User = Depends(current_user)):
            return act(process_id, session, user, body.model_dump())
    endpoint.__doc__ = action.description or f"{action.label_zh} ({kind.label_zh})"
    return endpoint


def kind_router() -> APIRouter:
    """The routes of every kind registered now (the app builds this when it starts)."""
    router = APIRouter(prefix="/api/v1", tags=TAGS, route_class=TransactionalRoute)
    for kind in registry.kinds():
        router.add_api_route(f"/processes/{kind.slug}", _start_endpoint(kind), methods=["POST"],
                             status_code=status.HTTP_201_CREATED, response_model=ProcessOut,
                             name=f"start_{kind.name}", summary=f"Start {kind.label_zh} ({kind.label_en})")
        for action in kind.actions:
            router.add_api_route(f"/processes/{{process_id}}/{action.slug}", _action_endpoint(kind, action),
                                 methods=["POST"], response_model=ProcessOut, name=f"{kind.name}_{action.slug}",
                                 summary=f"{action.label_zh} ({action.label_en})")
    return router
