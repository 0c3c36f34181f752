"""The JSON API under /api/v1 (for bank and carrier systems and scripts): one router per concept,
plus the routes of every registered process kind (api/routers/process_kinds.py)."""
from fastapi import APIRouter

from api.routers import (admin, approvals, cases, circulation, documents, order_batches, orders, processes, statistics,
                         units)
from api.routers.process_kinds import kind_router
from httpkit.problems import ERROR_RESPONSES

PREFIX = "/api/"


def build_router() -> APIRouter:
    """Built for each app: a process kind registered after start-up (a test's) gets its routes in
    the next app built. Every operation declares every error status, in both shapes (httpkit/problems.py)."""
    router = APIRouter(responses=ERROR_RESPONSES)
    for module in (cases, documents, approvals, admin, order_batches, orders, processes):
        router.include_router(module.router)
    router.include_router(kind_router())
    for module in (units, circulation, statistics):
        router.include_router(module.router)
    return router
