"""The JSON API under /api/v1 (for bank and carrier systems and scripts): one router per concept."""
from fastapi import APIRouter

from httpkit.problems import ERROR_RESPONSES

from api.routers import (admin, approvals, cases, circulation, documents, orders, process_actions, processes,
                         statistics, units)

PREFIX = "/api/"

# Every error status, in both shapes (httpkit/problems.py), on every operation.
router = APIRouter(responses=ERROR_RESPONSES)
for module in (cases, documents, approvals, admin, orders, processes, process_actions, units, circulation,
               statistics):
    router.include_router(module.router)
