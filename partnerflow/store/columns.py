"""Column helpers shared by the table modules: aware UTC timestamps, partner ids."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from sqlalchemy import Column, DateTime, Dialect, TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_partner_id() -> str:
    return uuid4().hex[:16]


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC datetimes")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def ts_column(**kwargs: object) -> Column[datetime]:
    return Column(UTCDateTime(), **kwargs)  # type: ignore[arg-type]
