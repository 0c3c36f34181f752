"""Fraud warnings (预警): what the anti-fraud centre's feed hands the office, a million a year.

A warning row carries no victim data (the dissuasion process keeps that, masked): only where and
when it arose, its risk level, and how its dissuasion ended. It is what the statistics count as
warnings handled (预警处置) and dissuaded (劝阻成功).
"""
from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from domain.timeutil import UTCDateTime

# pending: not yet dissuaded; the others mirror the dissuasion order's reported outcome
# (became_case: the person had already lost money, 已被骗).
OUTCOMES: tuple[str, ...] = ("pending", "dissuaded", "not_reached", "became_case", "cancelled")


class FraudWarning(SQLModel, table=True):
    __tablename__ = "warnings"
    __table_args__ = (
        # The statistics' one range scan: received in a period, by area, counted by outcome —
        # covered by this index, so a year of 1.2 million rows is read from the index alone.
        Index("ix_warnings_received_area_outcome", "received_at", "area_unit_id", "outcome"),
    )

    id: int | None = Field(default=None, primary_key=True)
    warning_number: str = Field(max_length=64, unique=True)
    area_unit_id: int = Field(foreign_key="units.id")
    risk_level: str = Field(max_length=16)
    received_at: datetime = Field(sa_column=Column(UTCDateTime, nullable=False))
    outcome: str = Field(default="pending", max_length=16)
    handled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime))
    process_id: int | None = Field(default=None, foreign_key="processes.id")


class WarningMonth(SQLModel, table=True):
    """Warnings received and dissuaded per Beijing calendar month and area, kept in step with the
    warnings in the same transaction (domain.warnings.service), so the statistics read a year as
    twelve thousand rows instead of a million. `lianban statistics rebuild` recounts it."""

    __tablename__ = "warning_months"

    month: str = Field(max_length=7, primary_key=True)  # "2026-10"
    area_unit_id: int = Field(foreign_key="units.id", primary_key=True)
    received: int = 0
    dissuaded: int = 0
