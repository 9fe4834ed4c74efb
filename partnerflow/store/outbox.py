"""The outbox: every message is recorded under its idempotency key before it is sent."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from partnerflow.store.models import OutboxMessage, utcnow


@dataclass
class Draft:
    """A rendered message, ready to be recorded and sent."""

    idempotency_key: str
    channel: str
    recipient: str
    template: str
    subject: str
    body_text: str
    body_html: str | None = None
    partner_id: str | None = None


def claim(session: Session, draft: Draft, backend: str) -> OutboxMessage:
    """Record ``draft`` (or find its earlier record) and count one delivery attempt.

    The caller sends only when the returned row's status is not ``sent``. A new key (the usual
    case) is one ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` with its first attempt counted:
    no read first, no savepoint (which on SQLite is a commit of its own), no second write.
    """
    message = OutboxMessage(**draft.__dict__, backend=backend, attempts=1)
    values = {column.name: getattr(message, column.name) for column in _TABLE.columns if column.name != "id"}
    insert = _insert_new(session.get_bind().dialect.name)
    new_id = session.connection().execute(insert, values).scalar()
    if new_id is not None:
        message.id = new_id
        return message
    found = get_by_key(session, draft.idempotency_key)
    if found is None:  # deleted between the two statements: nothing sensible to do but retry
        raise LookupError(f"outbox message {draft.idempotency_key!r} vanished while claimed")
    if found.status != "sent":
        found.attempts += 1
        found.backend = backend
        found.updated_at = utcnow()
        session.add(found)
    return found


_TABLE: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


@functools.cache
def _insert_new(dialect: str) -> Insert:
    """Built once per dialect (values come as parameters): the statement is a cache hit each time."""
    insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[dialect]
    statement: Any = insert(_TABLE)
    return statement.on_conflict_do_nothing(index_elements=[_TABLE.c.idempotency_key]).returning(_TABLE.c.id)


_MARK_SENT: Update = (
    update(_TABLE)
    .where(_TABLE.c.idempotency_key == bindparam("key"))
    .values(
        status="sent",
        provider_message_id=bindparam("provider_message_id"),
        error=None,
        sent_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
)


def get_by_key(session: Session, key: str) -> OutboxMessage | None:
    return session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).first()


def mark_sent(session: Session, key: str, provider_message_id: str | None) -> None:
    """One UPDATE by key (no read first)."""
    session.flush()  # an attempt counted on a row loaded in this session goes first
    parameters = {"key": key, "provider_message_id": provider_message_id, "now": utcnow()}
    if session.connection().execute(_MARK_SENT, parameters).rowcount == 0:
        raise LookupError(f"outbox message {key!r} not found")


def mark_failed(session: Session, key: str, error: str, permanent: bool) -> None:
    """Note a failed attempt; only a permanent failure changes the status to ``failed``."""
    message = _require(session, key)
    message.error = error[:2000]
    if permanent:
        message.status = "failed"
    message.updated_at = utcnow()
    session.add(message)


def list_messages(
    session: Session,
    to: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    partner_id: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
    if to:
        statement = statement.where(func.lower(OutboxMessage.recipient) == to.strip().lower())
    if status:
        statement = statement.where(OutboxMessage.status == status)
    if channel:
        statement = statement.where(OutboxMessage.channel == channel)
    if partner_id:
        statement = statement.where(OutboxMessage.partner_id == partner_id)
    return list(session.exec(statement.offset(offset).limit(limit)))


def _require(session: Session, key: str) -> OutboxMessage:
    message = get_by_key(session, key)
    if message is None:
        raise LookupError(f"outbox message {key!r} not found")
    return message
