"""The JSON API under /api/v1 (for bank and carrier systems and scripts): one router per concept."""
from fastapi import APIRouter

from api.routers import (admin, approvals, cases, circulation, documents, orders, process_actions, processes,
                         statistics, units)

PREFIX = "/api/"

router = APIRouter()
for module in (cases, documents, approvals, admin, orders, processes, process_actions, units, circulation,
               statistics):
    router.include_router(module.router)
