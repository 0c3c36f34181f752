"""Shared fixtures: a database of its own per test on SQLite and on PostgreSQL (copied from a
template migrated once per session), the demo city's units and users, an API client, the services'
clock, and one real Prefect server for the flow tests. The fixtures live in tests/support/; they
are imported here so every test sees them, and the helpers stay importable from `tests.conftest`."""
import pytest

from tests.support.apps import auth, case_body, client, served_demo_app, unit_id  # noqa: F401
from tests.support.clocks import AWKWARD_DAYS, ORDINARY_WORKDAY, awkward_day, clock  # noqa: F401
from tests.support.databases import (PG_ADMIN_URL, Fresh, city, database_templates, database_url,  # noqa: F401
                                     engine, postgres_available, session)
from tests.support.policies import (DEFAULT_POLICY, ROOT, short_deadlines, short_order_deadlines,  # noqa: F401
                                    write_policy)
from tests.support.ports import free_port  # noqa: F401
from tests.support.prefect import configure_environment, prefect_server, start_prefect_server, stop_process  # noqa: F401
from tests.support import hypothesis_profiles  # noqa: F401  (registers and loads the CI profile)


def pytest_configure(config):
    configure_environment()


# Tests xdist must keep on one worker. The flow tests share their worker's Prefect server (so a run
# starts one, not one per worker); the tests that start whole topologies of processes and time them
# do not run two at once.
SERIAL_GROUPS = {"prefect_server": "prefect"}
SERIAL_FILES = {"test_embedded_topology.py": "topology", "test_scale_out.py": "topology",
                "test_crash_loop.py": "topology"}
# The longest first (minutes of real processes each; measured on the 2-core machine): xdist hands
# out work in collection order, so these start at once on different workers, and the short tests
# fill in around them instead of one worker finishing alone with a long tail.
LONGEST_FIRST = ("test_embedded_topology.py", "test_scale_out.py", "test_bench_smoke.py", "tests/flows/",
                 "test_circulation.py", "tests/e2e/", "test_concurrency_pg.py")


def _rank(item) -> int:
    where = item.path.as_posix()
    return next((n for n, part in enumerate(LONGEST_FIRST) if part in where), len(LONGEST_FIRST))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        for fixture, group in SERIAL_GROUPS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.xdist_group(group))
        if item.path.name in SERIAL_FILES:
            item.add_marker(pytest.mark.xdist_group(SERIAL_FILES[item.path.name]))
    items.sort(key=_rank)  # stable: within a rank, the usual order
