"""The monthly circulation (通报): one record per month and version with its ranking rows, the
yellow and red cards it caused, and the areas listed for rectification (挂牌整治).

Fraud-involved phone cards (FraudCard) live here too: the carriers' outlets are ranked by them,
as the banks' branches are ranked by fraud-involved accounts (processes.models.FraudAccount).
"""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime

CARD_COLOURS = ("yellow", "red")
CARD_NAMES_ZH = {"yellow": "黄牌警告", "red": "红牌警告"}
LISTING_STATUSES = ("listed", "delisted")


class Circulation(SQLModel, table=True):
    """One month's ranking as circulated. Re-running the month returns this row; a correction is
    version + 1 pointing at the version it replaces (which becomes superseded)."""

    __tablename__ = "circulations"
    __table_args__ = (UniqueConstraint("month", "version", name="uq_circulations_month_version"),)

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, index=True)  # "2026-10", Beijing calendar month
    version: int = 1
    supersedes_id: int | None = Field(default=None, foreign_key="circulations.id", unique=True)
    status: str = Field(default="current", max_length=16, index=True)  # current | superseded
    reason: str | None = Field(default=None, max_length=500)  # why a correction was made
    policy_version: str = Field(max_length=64)  # circulation.yaml's hash
    # Per ranking id: the measure used and the areas that fell back to counts (no population).
    notes: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    created_by: str = Field(max_length=64)
    document_id: int | None = Field(default=None, foreign_key="documents.id")  # the 通报 PDF


class CirculationRow(SQLModel, table=True):
    """One ranked unit of one ranking (county / town / village / bank_branch …) of a circulation."""

    __tablename__ = "circulation_rows"
    __table_args__ = (UniqueConstraint("circulation_id", "ranking_id", "rank", name="uq_circulation_rows_rank"),)

    id: int | None = Field(default=None, primary_key=True)
    circulation_id: int = Field(foreign_key="circulations.id", index=True)
    ranking_id: str = Field(max_length=32)
    rank: int
    unit_id: int = Field(foreign_key="units.id", index=True)
    count: int  # cases, or fraud-involved accounts / cards
    amount_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    population: int | None = None
    measure: str = Field(max_length=16)  # count | per_10k | count_fallback (no population)
    rate_per_10k: str | None = Field(default=None, max_length=24)  # Decimal as text, 4 places


class Card(SQLModel, table=True):
    """黄牌/红牌. A unit holds a colour while a card of it lies within the rolling window and after
    the unit was last delisted; at most one card per unit, colour and month."""

    __tablename__ = "circulation_cards"
    __table_args__ = (UniqueConstraint("unit_id", "colour", "month", name="uq_circulation_cards_month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    colour: str = Field(max_length=8)
    ranking_id: str = Field(max_length=32)
    month: str = Field(max_length=7)  # the month whose circulation gave the card
    period_start: str = Field(max_length=7)  # first month that could count
    circulation_id: int = Field(foreign_key="circulations.id")
    # The circulations that caused it: [{"month": "2026-08", "circulation_id": 3}, …]
    caused_by: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    issued_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))


class Listing(SQLModel, table=True):
    """挂牌整治: a red card lists the unit; a rectification order goes to it; it is delisted (出列)
    after the order is accepted and the policy's clean months have passed."""

    __tablename__ = "circulation_listings"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    card_id: int = Field(foreign_key="circulation_cards.id", unique=True)
    listed_month: str = Field(max_length=7)
    status: str = Field(default="listed", max_length=16, index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    listed_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    delisted_month: str | None = Field(default=None, max_length=7)
    delisted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))


class FraudCard(SQLModel, table=True):
    """A fraud-involved phone card, recorded against the carrier outlet that sold it (两卡)."""

    __tablename__ = "fraud_cards"
    __table_args__ = (UniqueConstraint("phone_number", name="uq_fraud_cards_number"),)

    id: int | None = Field(default=None, primary_key=True)
    phone_number: str = Field(max_length=20)
    selling_unit_id: int = Field(foreign_key="units.id", index=True)
    sold_on: datetime = Field(sa_column=Column(UTCDateTime, nullable=False, index=True))
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    recorded_by: str = Field(max_length=64)
