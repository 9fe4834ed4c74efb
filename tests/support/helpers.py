"""Small helpers shared by tests."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import Engine

from partnerflow.domain.signup import SignupPayload
from partnerflow.store import outbox
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign, OutboxMessage, Partner, Prospect
from partnerflow.store.partners import register_signup

T = TypeVar("T")


async def eventually(check: Callable[[], T], timeout: float = 15, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns something truthy (and return it), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {result!r})")
        await asyncio.sleep(interval)


def add_partner(engine: Engine, email: str = "ada@example.com", **fields: object) -> Partner:
    payload = SignupPayload.model_validate({"email": email, "name": "Ada Lovelace", **fields})
    with session_scope(engine) as session:
        partner, _ = register_signup(session, payload)
    return partner


def messages(engine: Engine, **filters: object) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        return outbox.list_messages(session, limit=1000, **filters)  # type: ignore[arg-type]


def message_keys(engine: Engine, **filters: object) -> list[str]:
    return sorted(message.idempotency_key for message in messages(engine, **filters))


async def eventually_async(
    check: Callable[[], Awaitable[T]], timeout: float = 15, interval: float = 0.1
) -> T:
    """Like ``eventually`` for an async check (e.g. an HTTP call)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {result!r})")
        await asyncio.sleep(interval)


def offset_ids(engine: Engine) -> None:
    """Start campaign and prospect ids at a random offset: the dev server outlives each test's database."""
    base = random.randrange(10**6, 10**9)
    with session_scope(engine) as session:
        session.add(Prospect(id=base, program="-seed-", email="seed@example.invalid", status="converted"))
        session.add(Campaign(id=base, name="seed", program="-seed-", steps="[]", status="completed"))
