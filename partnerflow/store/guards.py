"""Shared guards of the API processes: seen signed requests (replay protection) and rate-limit counters.

Both live in the database so that every API process, and a restarted one, sees the same
record. Rows expire: seen requests when their signature's timestamp window has passed, counters
at the end of their window; old rows are purged opportunistically by the next writers.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from partnerflow.store.db import session_scope
from partnerflow.store.models import _ts, utcnow

PURGE_CHANCE = 0.05  # about one writer in 20 deletes expired rows (one indexed DELETE)


class SeenRequest(SQLModel, table=True):
    """A verified signed request, remembered while its timestamp is inside the accepted window."""

    __tablename__ = "seen_requests"

    key: str = Field(primary_key=True, max_length=64)  # sha256 of source, timestamp and signature
    source: str = Field(max_length=32)  # e.g. "slack"
    expires_at: datetime = Field(sa_column=_ts(nullable=False, index=True))


class RateLimitCounter(SQLModel, table=True):
    """Hits of one rate-limit key in its current fixed window (PARTNERFLOW_RATE_LIMIT_STORAGE=database)."""

    __tablename__ = "rate_limit_counters"

    key: str = Field(primary_key=True, max_length=255)
    count: int = 0
    expires_at: datetime = Field(sa_column=_ts(nullable=False, index=True))


def request_key(source: str, timestamp: str, signature: str) -> str:
    return hashlib.sha256(f"{source}\n{timestamp}\n{signature}".encode()).hexdigest()


def first_time(engine: Engine, source: str, key: str, expires_at: datetime) -> bool:
    """Remember ``key``; False when any process remembered it before (a replay)."""
    now = utcnow()
    try:
        with session_scope(engine) as session:
            session.add(SeenRequest(key=key, source=source, expires_at=expires_at))
    except IntegrityError:
        return False
    if random.random() < PURGE_CHANCE:
        purge_expired(engine, now)
    return True


def purge_expired(engine: Engine, now: datetime | None = None) -> int:
    """Delete seen requests and counters whose window has passed; how many rows went."""
    now = now or utcnow()
    with session_scope(engine) as session:
        gone = session.execute(delete(SeenRequest).where(col(SeenRequest.expires_at) < now))
        counters = session.execute(delete(RateLimitCounter).where(col(RateLimitCounter.expires_at) < now))
    return int(gone.rowcount or 0) + int(counters.rowcount or 0)  # type: ignore[attr-defined]


def hit(engine: Engine, key: str, window: timedelta, amount: int = 1) -> tuple[int, datetime]:
    """Add ``amount`` to ``key``'s counter (a new window if the last one ended); its count and end.

    One atomic upsert, so concurrent API processes never lose a hit.
    """
    now = utcnow()
    ends = now + window
    table = RateLimitCounter.__table__  # type: ignore[attr-defined]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    expired = table.c.expires_at <= now
    statement = dialect.insert(table).values(key=key, count=amount, expires_at=ends)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "count": case((expired, amount), else_=table.c.count + amount),
            "expires_at": case((expired, ends), else_=table.c.expires_at),
        },
    ).returning(table.c.count, table.c.expires_at)
    with session_scope(engine) as session:
        count, expires_at = session.execute(statement).one()
    if random.random() < PURGE_CHANCE / 10:
        purge_expired(engine, now)
    return int(count), _aware(expires_at)


def counter(session: Session, key: str) -> RateLimitCounter | None:
    """The live counter of ``key``, or None when it has none or its window has passed."""
    row = session.exec(select(RateLimitCounter).where(RateLimitCounter.key == key)).first()
    return row if row is not None and row.expires_at > utcnow() else None


def clear(engine: Engine, key: str | None = None) -> None:
    """Forget one key's counter, or every counter."""
    with session_scope(engine) as session:
        statement = delete(RateLimitCounter)
        if key is not None:
            statement = statement.where(col(RateLimitCounter.key) == key)
        session.execute(statement)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
