"""The FastAPI application: JSON API under /api/v1 and the web front, one process."""
import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.routers import admin, approvals, cases, documents, orders, processes, units
from domain.errors import DomainError
from flows.nudge import warm_up

log = logging.getLogger("lianban.api")


def _error_body(exc: DomainError, request: Request) -> dict:
    language = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "zh"
    loc = ["body", exc.field] if exc.field else []
    return {"detail": [{"loc": loc, "msg": exc.message(language), "type": exc.code}]}


@asynccontextmanager
async def _lifespan(app: FastAPI):
    warm_up()
    yield


def create_app(engine=None) -> FastAPI:
    app = FastAPI(title="lianban 联办", version="0.1.0", lifespan=_lifespan,
                  description="反诈联席会议办公室 案件流转 — case workflow of the anti-fraud joint office")
    app.state.engine = engine

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        log.info("domain_error code=%s status=%s path=%s", exc.code, exc.status, request.url.path)
        if not request.url.path.startswith("/api/"):  # a web page: people get a page, not JSON
            from web.errors import domain_error_page

            return domain_error_page(request, exc)
        return JSONResponse(status_code=exc.status, content=_error_body(exc, request))

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        return {"ok": True}

    app.include_router(cases.router)
    app.include_router(documents.router)  # /api/v1/documents, /api/v1/verify and the public /verify page
    app.include_router(approvals.router)
    app.include_router(admin.router)
    app.include_router(orders.router)
    app.include_router(processes.router)
    from api.routers.process_kinds import kind_router  # start each registered kind, act on it

    app.include_router(kind_router())
    app.include_router(units.router)
    from api.routers import circulation  # 月通报

    app.include_router(circulation.router)
    from api.routers import statistics  # 统计 and the warning feed
    app.include_router(statistics.router)

    from web.routes import install as install_web, router as web_router  # the HTMX front shares the process
    app.include_router(web_router)
    install_web(app)  # static assets, htmx from node_modules, CSRF + security headers, web error pages
    return app
