"""One process serves both faces: the JSON API under /api/ and the web pages everywhere else."""
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from api import routes as api_routes
from api.errors import domain_error_json
from domain.errors import DomainError
from flows.nudge import warm_up
from httpkit.body_limit import BodyLimitMiddleware
from httpkit.problems import register_problem_schema
from server import ops
from web import routes as web_routes
from web.errors import domain_error_page

log = logging.getLogger("lianban.server")


@asynccontextmanager
async def _lifespan(app: FastAPI):
    warm_up()
    yield


def _document_problems(app: FastAPI) -> None:
    """The schema names `Problem` (RFC 9457) for the error responses every API operation declares."""
    plain = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = register_problem_schema(plain())
        return app.openapi_schema

    app.openapi = openapi


def create_app(engine=None) -> FastAPI:
    """The app; `engine` points it at a database of its own (tests), else the configured one."""
    app = FastAPI(title="lianban 联办", version="0.1.0", lifespan=_lifespan,
                  description="反诈联席会议办公室 案件流转 — case workflow of the anti-fraud joint office")
    app.state.engine = engine

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        # One handler per exception type in FastAPI: each face answers in its own way.
        log.info("domain_error code=%s status=%s path=%s", exc.code, exc.status, request.url.path)
        if request.url.path.startswith(api_routes.PREFIX):
            return domain_error_json(request, exc)
        return domain_error_page(request, exc)  # people get a page, not JSON

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"ok": True}

    app.include_router(api_routes.build_router())
    _document_problems(app)
    app.include_router(web_routes.router)
    web_routes.install(app)  # static assets, htmx from node_modules, CSRF + security headers, web error pages
    app.add_middleware(BodyLimitMiddleware)  # counts bytes before anyone reads them
    ops.install(app)  # /readyz, /metrics, request ids: outermost, so every answer has an id and a latency
    return app
