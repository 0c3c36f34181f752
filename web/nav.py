"""The navigation bar, by role. Labels are catalogue message ids."""
from dataclasses import dataclass

from fastapi import Request
from starlette.routing import NoMatchFound

from web.labels import N_

# The liaison's inbox (web/liaison.py); the office's orders list is the route "orders_list"
# (web/orders.py). An entry whose route does not exist shows as "coming".
ORDERS_ROUTE_NAME = "orders_inbox"


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    href: str | None
    roles: tuple[str, ...]
    route_name: str | None = None


ITEMS: tuple[NavItem, ...] = (
    NavItem("dashboard", N_("Dashboard"), "/office", ("office", "auditor", "admin")),
    NavItem("cases", N_("Cases"), "/cases", ("office", "auditor", "admin", "leader")),
    NavItem("register", N_("Register a case"), "/cases/new", ("office", "admin")),
    NavItem("queue", N_("Approval queue"), "/leader/queue", ("leader",)),
    NavItem("my_cases", N_("My cases"), "/leader/cases", ("leader",)),
    NavItem("orders", N_("Orders"), None, ("liaison", "police"), route_name=ORDERS_ROUTE_NAME),
    NavItem("office_orders", N_("Orders"), None, ("office", "auditor", "admin"), route_name="orders_list"),
    NavItem("processes", N_("Processes"), "/processes", ("office", "auditor", "admin", "liaison", "police")),
    NavItem("statistics", N_("Statistics"), "/statistics", ("office", "leader", "auditor", "admin")),
    NavItem("audit", N_("Audit trail"), "/audit", ("auditor", "admin")),
    NavItem("circulation", N_("Circulation"), "/circulation", ("office", "leader", "auditor", "admin", "police")),
    NavItem("users", N_("Users"), "/admin/users", ("admin",)),
)


def _route_path(request: Request, name: str) -> str | None:
    try:
        return str(request.app.url_path_for(name))
    except NoMatchFound:
        return None


def navigation(request: Request, user) -> list[dict]:
    if user is None:
        return []
    path = request.url.path
    entries = []
    for item in ITEMS:
        if user.role not in item.roles:
            continue
        href = _route_path(request, item.route_name) if item.route_name else item.href
        current = bool(href) and (path == href or (href != "/" and path.startswith(href + "/")))
        entries.append({"key": item.key, "label": item.label, "href": href, "current": current})
    # "/cases/new" is under "/cases": the more specific entry wins.
    if any(e["current"] and e["key"] == "register" for e in entries):
        for e in entries:
            e["current"] = e["current"] and e["key"] == "register"
    return entries


def home_path(user) -> str:
    """Where a person lands after signing in."""
    if user.role in ("office", "auditor", "admin"):
        return "/office"
    if user.role == "leader":
        return "/leader/queue"
    if user.role in ("liaison", "police"):
        return "/inbox"  # their unit's orders
    return "/home"
