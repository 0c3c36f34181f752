"""The web front: the HTMX pages people use (and the public verification page), one module per
journey, and what the app needs to serve them (static files, htmx from node_modules, the security
middleware, error pages)."""
from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from domain.settings import PROJECT_ROOT
from web import (admin, audit, auth, bulk, case_life, case_reveal, circulation, language, leader, liaison, office,
                 orders, process_start, processes, statistics, verify)
from web.errors import install_error_pages
from web.security import WebSecurityMiddleware
from web.templating import templates  # noqa: F401 — the one Jinja2 environment of the web pages

STATIC = PROJECT_ROOT / "web" / "static"
# htmx and its SSE extension come from the npm registry (scripts/setup.sh runs `npm ci`), never a CDN.
VENDOR = {
    "/static/vendor/htmx": PROJECT_ROOT / "node_modules" / "htmx.org" / "dist",
    "/static/vendor/htmx-ext-sse": PROJECT_ROOT / "node_modules" / "htmx-ext-sse" / "dist",
}

router = APIRouter(include_in_schema=False)
# process_start before processes: /processes/new/… is not a process id; bulk before orders: /orders/accept-reports.
for module in (verify, auth, language, office, case_life, case_reveal, leader, bulk, orders, liaison, admin, statistics,
               circulation, audit, process_start, processes):
    router.include_router(module.router)


def install(app: FastAPI) -> None:
    """Mount the assets, add the middleware and the web error pages (call once, in server.app.create_app)."""
    for path, folder in VENDOR.items():
        # check_dir=False: the app still starts before `npm ci` ran; pages then lack htmx only.
        app.mount(path, StaticFiles(directory=folder, check_dir=False), name=path.rsplit("/", 1)[-1])
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(WebSecurityMiddleware)
    install_error_pages(app)
