"""Row ids as a request may carry them (path, query, form, JSON)."""
from typing import Annotated

from annotated_types import Interval

# Row ids are 32-bit integers (PostgreSQL INTEGER). A number outside that range names no row, and
# must not reach the database either (SQLite and psycopg fail on it instead of finding nothing).
MAX_ID = 2_147_483_647
RowId = Annotated[int, Interval(ge=1, le=MAX_ID)]
