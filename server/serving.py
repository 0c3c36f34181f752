"""How every web process is started: which proxies uvicorn believes about the client's address.

uvicorn trusts X-Forwarded-For from 127.0.0.1 by default, and the app listens there, so anyone
could pose as any address and every per-address limit counted per forged header. Forwarded
headers are believed only from `LIANBAN_TRUSTED_PROXIES` (none by default)."""
from domain.settings import Settings, get_settings


def trusted_proxies(settings: Settings | None = None) -> str:
    return ",".join(p.strip() for p in (settings or get_settings()).trusted_proxies.split(",") if p.strip())


def uvicorn_options(settings: Settings | None = None) -> dict:
    """Keyword arguments for `uvicorn.run`."""
    proxies = trusted_proxies(settings)
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None,
            "server_header": False}


def uvicorn_arguments(settings: Settings | None = None) -> list[str]:
    """Command-line flags for `python -m uvicorn server.main:app`."""
    proxies = trusted_proxies(settings)
    if proxies:
        return ["--proxy-headers", "--forwarded-allow-ips", proxies, "--no-server-header"]
    return ["--no-proxy-headers", "--no-server-header"]
