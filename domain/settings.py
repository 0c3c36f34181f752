"""Runtime configuration, read from the environment (prefix LIANBAN_) or a .env file.

The embedded default needs no configuration at all: SQLite under ./var and the default policy.
Production switches to PostgreSQL and a remote Prefect server by setting variables only.
"""
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LIANBAN_", env_file=".env", extra="ignore")

    home: Path = PROJECT_ROOT / "var"
    database_url: str = ""  # empty: SQLite file under `home`
    policy_dir: Path = PROJECT_ROOT / "policies" / "default"
    # Seconds between two passes of the escalation watch when nothing nudges it.
    watch_poll_seconds: float = 1.0
    # Seconds one watch flow run lasts before the next scheduled run takes over.
    watch_window_seconds: int = 60
    # Whether the web/API process nudges the task worker after a human decision.
    nudge_enabled: bool = True
    nudge_timeout_seconds: float = 2.0
    host: str = "127.0.0.1"
    port: int = 8000
    prefect_port: int = 4200
    # PDF documents: the Jinja2 templates (a city may point this at its own folder) and the public
    # address printed in each document's verification QR code (…/verify/<code>).
    document_templates: Path = PROJECT_ROOT / "web" / "documents"
    public_base_url: str = "http://127.0.0.1:8000"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'lianban.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
