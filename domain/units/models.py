"""Units: member units and organisational nodes, in one tree (bank → city branch → sub-branch →
outlet; carrier → outlet; county → town → village; police bureau → detachment → station)."""
from typing import Literal

from sqlmodel import Field, SQLModel

UnitKind = Literal[
    "office", "police", "county", "town", "village",
    "bank", "bank_branch", "bank_outlet", "carrier", "carrier_outlet",
    "regulator", "court", "procuratorate", "government",
]


class Unit(SQLModel, table=True):
    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32, index=True)
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    population: int | None = None  # residents, for 万人占比 in the circulation ranking
