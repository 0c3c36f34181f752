"""Users and their roles; a leader also has a tier (CID head, deputy chief, bureau chief)."""
from typing import Literal

from sqlmodel import Field, SQLModel

Role = Literal["office", "liaison", "leader", "police", "auditor", "admin"]
ROLES: tuple[str, ...] = ("office", "liaison", "leader", "police", "auditor", "admin")
LEADER_TIERS: tuple[str, ...] = ("cid_head", "deputy", "chief")
LEADER_TIER_NAMES_ZH = {"cid_head": "刑侦支队长", "deputy": "分管局长", "chief": "局长"}


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    leader_tier: str | None = Field(default=None, max_length=16, index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    # SHA-256 of the API token: a leaked database does not leak usable tokens.
    token_hash: str | None = Field(default=None, max_length=64, unique=True, index=True)
    active: bool = True
    # argon2id hash of the web sign-in password (domain/accounts); None: API token only.
    password_hash: str | None = Field(default=None, max_length=255)
