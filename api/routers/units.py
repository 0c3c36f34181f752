"""/api/v1/units: the unit tree (member units and areas), for pickers and integrations."""
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlmodel import Session

from api.deps import current_user
from domain.units import service as units
from domain.users.models import User
from httpkit.session import TransactionalRoute, get_session

router = APIRouter(prefix="/api/v1/units", tags=["units 单位"], route_class=TransactionalRoute)


class UnitOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None


@router.get("", response_model=list[UnitOut])
def list_units(code: str | None = Query(None, max_length=64), kind: str | None = Query(None, max_length=32),
               session: Session = Depends(get_session), user: User = Depends(current_user)) -> list[UnitOut]:
    """Every signed-in user may read the unit tree: names of institutions are not secret."""
    return [UnitOut.model_validate(u, from_attributes=True) for u in units.find(session=session, code=code, kind=kind)]
