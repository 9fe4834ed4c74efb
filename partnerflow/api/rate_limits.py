"""Rate limits on the routes anyone can reach, with the kept ``limits`` library.

Each limit is a setting in ``limits`` notation (``PARTNERFLOW_RATE_LIMIT_LOGIN_IP="20 per 15
minutes"``; empty turns it off), counted in fixed windows in the storage that
``PARTNERFLOW_RATE_LIMIT_STORAGE`` names: ``memory://`` (per process, the default), ``database``
(our database, shared by every API process) or any storage URI ``limits`` knows, such as
``redis://host:6379`` (needs the ``redis`` package). Over a limit a route answers **429** with
``Retry-After``; ``rate_limit(name)`` is the reusable dependency (e.g. the hosted application form:
``Depends(rate_limit("apply"))``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from fastapi import HTTPException, Request, status
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from partnerflow.api.rate_limit_storage import DatabaseStorage
from partnerflow.config import Settings

DATABASE = "database"


class RateLimits:
    """The process's limiter: the configured limits over one storage."""

    def __init__(self, settings: Settings, storage: Storage) -> None:
        self.settings = settings
        self.limiter = FixedWindowRateLimiter(storage)
        self._items: dict[str, RateLimitItem | None] = {}

    def item(self, name: str) -> RateLimitItem | None:
        """The limit named ``name`` (setting ``rate_limit_<name>``); None when switched off."""
        if name not in self._items:
            spec = str(getattr(self.settings, f"rate_limit_{name}")).strip()
            self._items[name] = parse(spec) if spec else None
        return self._items[name]

    def hit(self, name: str, key: str) -> float | None:
        """Count one request; None while within the limit, else the seconds until it resets."""
        item = self.item(name)
        if item is None or self.limiter.hit(item, name, key):
            return None
        reset, _ = self.limiter.get_window_stats(item, name, key)
        return max(reset - time.time(), 1.0)


def limits_for(request: Request) -> RateLimits:
    """The app's limiter, made on first use (the database storage needs the app's engine)."""
    state = request.app.state
    limiter: RateLimits | None = getattr(state, "rate_limits", None)
    if limiter is None:
        settings: Settings = state.settings
        uri = settings.rate_limit_storage.strip()
        storage = DatabaseStorage(state.engine) if uri == DATABASE else storage_from_string(uri)
        if not isinstance(storage, Storage):
            raise ValueError(f"PARTNERFLOW_RATE_LIMIT_STORAGE={uri!r} is an async storage; use a sync one")
        limiter = state.rate_limits = RateLimits(settings, storage)
    return limiter


def client_ip(request: Request) -> str:
    """The caller's address (behind a proxy: as uvicorn's --proxy-headers resolved it)."""
    return request.client.host if request.client else "unknown"


def too_many(retry_after: float, what: str) -> HTTPException:
    seconds = math.ceil(retry_after)
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many {what} from your address; try again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


def rate_limit(
    name: str, what: str = "requests", key: Callable[[Request], str] = client_ip
) -> Callable[[Request], None]:
    """A dependency counting each request under limit ``name`` per ``key`` (default: per IP); 429 over it."""

    def dependency(request: Request) -> None:
        retry_after = limits_for(request).hit(name, key(request))
        if retry_after is not None:
            raise too_many(retry_after, what)

    dependency.__name__ = f"rate_limit_{name}"
    return dependency
