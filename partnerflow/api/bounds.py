"""Bounds of the integers the API accepts in paths and queries (a wild one is a 422, never a 500).

Every id lives in a 32-bit ``INTEGER`` column (PostgreSQL's ``int4``; SQLite is wider): a larger
value could never name a row, and the database driver refuses to even compare with it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from partnerflow.domain.cursors import MAX_CURSOR_LENGTH
from partnerflow.domain.limits import MAX_ID, MAX_INT64

MAX_OFFSET = MAX_INT64  # OFFSET takes a 64-bit integer in SQLite and PostgreSQL

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description=f"a positive id (at most {MAX_ID})")]
OptionalRowId = Annotated[int | None, Query(ge=1, le=MAX_ID, description=f"a positive id (at most {MAX_ID})")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]
PageNumber = Annotated[int, Query(ge=1, le=MAX_ID, description="1-based; past the last page shows the last")]
ProgramId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[\w.-]+$", description="letters, digits, _ . - (≤ 64)")
]
Cursor = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, description="where the previous page ended (its `next`, opaque)"),
]
