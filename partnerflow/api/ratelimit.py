"""Per-client rate limits for public forms: the ``limits`` package, in memory, per API process.

A deliberately tiny seam (``too_many``): the shared rate-limit dependency of the resilience work
can replace it without touching the routes. Limits are counted per process; behind several API
processes each counts its own (put a shared storage behind ``_limiter`` to count them together).
The client is ``request.client.host``: run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` behind a proxy, so a spoofed ``X-Forwarded-For`` cannot reset the count.
"""

from __future__ import annotations

import math
import time

from fastapi import FastAPI, Request
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


def too_many(request: Request, scope: str, rules: str) -> int | None:
    """Count one request of the client in ``scope``; the seconds to wait when it is over ``rules``
    (``"5/minute;30/hour"``), else None."""
    client = request.client.host if request.client else "unknown"
    limiter = _limiter(request.app)
    for item in parse_many(rules):
        if not limiter.hit(item, scope, client):
            reset_at, _remaining = limiter.get_window_stats(item, scope, client)
            return max(1, math.ceil(reset_at - time.time()))
    return None


def _limiter(app: FastAPI) -> MovingWindowRateLimiter:
    """One limiter per app (so each test's app counts on its own)."""
    limiter = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        limiter = app.state.rate_limiter = MovingWindowRateLimiter(MemoryStorage())
    return limiter
