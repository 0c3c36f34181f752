"""What operators need from the running app: a request id and a latency sample for every request,
`/readyz` (database and Prefect reachable) beside the liveness `/healthz`, and Prometheus `/metrics`."""
import os
import re
import time
import uuid

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain import ops
from domain.db import read_only
from httpkit.session import engine_of
from server.logs import request_id

# Not in the API contract (OpenAPI): probes for load balancers and Prometheus, answering 503 by design.
router = APIRouter(tags=["ops"], include_in_schema=False)
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """The caller's X-Request-ID when it is sane, else a new one; echoed back, on every log line,
    and the request's latency by route template (not by raw path: ids would explode the series)."""

    def __init__(self, app: ASGIApp, latency: Histogram):
        self.app, self.latency = app, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _GOOD_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", rid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.latency.labels(scope["method"], route, str(status)[0] + "xx").observe(time.perf_counter() - started)
            request_id.reset(token)


class _Figures:
    """Read at scrape time from the database: counts only."""

    def __init__(self, app: FastAPI):
        self.app = app

    def collect(self):
        from domain.db import get_engine

        engine = getattr(self.app.state, "engine", None) or get_engine()
        with Session(read_only(engine)) as session:
            figures = ops.figures(session=session)
        yield GaugeMetricFamily("lianban_cases", "cases registered (intakes)", value=figures["cases"])
        for name, key, doc in (("lianban_open_orders", "open_orders", "open orders by kind"),
                               ("lianban_overdue_orders", "overdue_orders", "open orders past a deadline, by kind")):
            family = GaugeMetricFamily(name, doc, labels=["kind"])
            for kind, count in sorted(figures[key].items()):
                family.add_metric([kind], count)
            yield family
        yield GaugeMetricFamily("lianban_audit_chain_length", "entries in the audit chain",
                                value=figures["audit_chain_length"])
        if figures["outbox_backlog"] is not None:
            yield GaugeMetricFamily("lianban_outbox_backlog", "undelivered outbox messages",
                                    value=figures["outbox_backlog"])


def install(app: FastAPI) -> None:
    registry = CollectorRegistry()
    latency = Histogram("lianban_http_request_seconds", "request latency by route", ["method", "route", "status"],
                        registry=registry, buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
    registry.register(_Figures(app))
    app.state.metrics_registry = registry
    app.add_middleware(RequestContextMiddleware, latency=latency)
    app.include_router(router)


@router.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)


def _database_ok(request: Request) -> bool:
    try:
        with Session(read_only(engine_of(request))) as session:
            return ops.database_reachable(session=session)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False


async def _prefect_ok() -> bool | None:
    url = os.environ.get("PREFECT_API_URL")
    if not url:
        return None  # not configured for this process
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            return (await client.get(f"{url.rstrip('/')}/health")).status_code == 200
    except httpx.HTTPError:
        return False


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers and Prefect (if configured) does; else 503 naming which.
    People can still work while Prefect is down (flows catch up): route traffic on /healthz and
    the database check, alert on this."""
    checks = {"database": await run_in_threadpool(_database_ok, request), "prefect": await _prefect_ok()}
    ready = all(ok is not False for ok in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)
