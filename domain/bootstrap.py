"""Creating the schema through Alembic, so every database (SQLite or PostgreSQL) has the same
migration history from its first table on."""
from pathlib import Path

from alembic import command
from alembic.config import Config

from domain.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def migrate(database_url: str) -> None:
    """Bring the database to the newest schema (safe to run on every start)."""
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # "heads": features add their migrations on branches of their own; all of them apply.
    command.upgrade(alembic_config(database_url), "heads")
