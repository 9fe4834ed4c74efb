"""Keyset pagination: a page continues after the ``(timestamp, id)`` of the previous page's last row.

Each list has an index on ``(filter columns..., timestamp, id)``, so a page is one index range
(scanned backwards for newest-first lists), however deep: no ``OFFSET`` walking past skipped rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from partnerflow.domain.cursors import Position

Row = TypeVar("Row")


@dataclass(frozen=True)
class KeysetPage(Generic[Row]):
    """Up to ``limit`` rows, and where the next page starts (None: this was the last page)."""

    rows: list[Row]
    next: Position | None


def ordered(statement: Any, at: Any, row_id: Any, *, descending: bool) -> Any:
    """``statement`` in keyset order: ``(at, id)``, both descending or both ascending."""
    if descending:
        return statement.order_by(at.desc(), row_id.desc())
    return statement.order_by(at, row_id)


def after(at: Any, row_id: Any, position: Position, *, descending: bool) -> ColumnElement[bool]:
    """Rows strictly after ``position`` in keyset order.

    Spelled ``at <= x AND (at < x OR id < y)`` rather than a row value, so both databases see a
    range on the indexed timestamp (and the rest as a filter on the few rows sharing it).
    """
    if descending:
        return and_(at <= position.at, or_(at < position.at, row_id < position.id))
    return and_(at >= position.at, or_(at > position.at, row_id > position.id))


def fetch(
    session: Session, statement: Any, limit: int, key: Callable[[Row], tuple[datetime, str]]
) -> KeysetPage[Row]:
    """Run ``statement`` (ordered, filtered) for ``limit`` rows and one more to learn if more follow."""
    return page_of(list(session.exec(statement.limit(limit + 1))), limit, key)


def page_of(rows: list[Row], limit: int, key: Callable[[Row], tuple[datetime, str]]) -> KeysetPage[Row]:
    """The page of ``rows`` (up to ``limit`` + 1 of them, in keyset order)."""
    if len(rows) <= limit:
        return KeysetPage(rows, None)
    rows = rows[:limit]
    return KeysetPage(rows, Position(*key(rows[-1])))
