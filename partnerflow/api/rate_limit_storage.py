"""A ``limits`` storage on our own database (PARTNERFLOW_RATE_LIMIT_STORAGE=database).

Every API process counts in the same ``rate_limit_counters`` table, so a limit holds however
many processes serve; one atomic upsert per hit. Fixed windows only (``FixedWindowRateLimiter``).
"""

from __future__ import annotations

import time
from datetime import timedelta

from limits.storage import Storage
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from partnerflow.store import guards
from partnerflow.store.db import session_scope


class DatabaseStorage(Storage):
    """Counters in the ``rate_limit_counters`` table (store/guards.py)."""

    STORAGE_SCHEME = ["partnerflow+database"]

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return guards.hit(self.engine, key, timedelta(seconds=expiry), amount)[0]

    def get(self, key: str) -> int:
        with session_scope(self.engine) as session:
            row = guards.counter(session, key)
            return row.count if row else 0

    def get_expiry(self, key: str) -> float:
        with session_scope(self.engine) as session:
            row = guards.counter(session, key)
            return row.expires_at.timestamp() if row else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        guards.clear(self.engine)
        return None

    def clear(self, key: str) -> None:
        guards.clear(self.engine, key)
