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
    # Demo mode (`lianban up --demo`): the demo city's public tokens and passwords (demo-<username>)
    # are accepted. Off in production, even on a database the demo was once loaded into.
    demo: bool = False
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto the web server believes, comma-separated
    # addresses or networks (uvicorn's forwarded_allow_ips). Empty: none, the socket's address counts.
    trusted_proxies: str = ""
    # The key that signs audit checkpoints (never in the database); default: home/keys/audit-checkpoint.key.
    audit_key_file: Path | None = None
    # Minutes between two signed audit checkpoints written by `lianban up` (0: only on demand).
    audit_checkpoint_minutes: float = 10.0

    # The scale-out mode (docs/scaling.md): `embedded` runs everything from `lianban up`'s one
    # supervisor on SQLite; `scaled` runs our data on PostgreSQL (`database_url`), the Prefect server
    # on PostgreSQL with its services apart, a process work pool with its workers, and several web
    # processes. Every process of either topology is started from the same code.
    topology: str = "embedded"
    # Prefect's own database (scaled): e.g. postgresql+asyncpg://postgres@db:5432/prefect.
    prefect_database_url: str = ""
    # Redis for Prefect's messaging, caches, leases and docket (prefect-redis): needed as soon as
    # the services run apart from the API server, e.g. redis://127.0.0.1:6379/0.
    redis_url: str = ""
    # Host the Prefect API servers bind to and clients reach (one machine: 127.0.0.1).
    prefect_host: str = "127.0.0.1"
    # Ports of the Prefect API servers, comma-separated (default: prefect_port and the next one).
    prefect_ports: str = ""
    # The API URL this machine's Prefect clients use (several servers: the load balancer's);
    # default: the first API server.
    prefect_api_url: str = ""
    # Background tasks (the nudges) queue in one API server's memory (Prefect 3.8.8): the web
    # processes and the task worker must all use this same server. Default: `prefect_api_url`.
    task_api_url: str = ""
    # Ports of the web processes `up --topology scaled` starts, comma-separated (default: port, port+1).
    web_ports: str = ""
    work_pool: str = "lianban"
    # Pool workers `up --topology scaled` starts on this machine.
    pool_workers: int = 2
    # Where the flows' code is on the worker machines (a checkout of this repository).
    flow_source: Path = PROJECT_ROOT

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'lianban.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
