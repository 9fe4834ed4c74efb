"""When an active partner's checks and reviews run: spread over the day, per partner (pure, no I/O).

Partners activated together (a migration phase, a batch of approvals) would otherwise all wake at
the same instant every day, and all review at the same instant at the end of each period. Each
partner instead gets a fixed **phase** in ``[0, interval)`` from a stable hash of their id, and is
checked at ``epoch + phase + k * interval``: one check per interval, at the same time of day for
that partner, uniformly spread across partners whatever their activation times.
"""

import hashlib
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A review runs at most this share of its period after the boundary (demo periods of seconds stay prompt).
REVIEW_DELAY_SHARE = 10


def check_phase(partner_id: str, interval: timedelta) -> timedelta:
    """Where in each interval the partner's checks fall; the same on every worker, run and release.

    Not ``hash()``: Python salts it per process, so a replay on another worker would differ.
    """
    steps = _micros(max(interval, MICROSECOND))
    fraction = int.from_bytes(hashlib.sha256(partner_id.encode()).digest()[:8], "big")  # in [0, 2**64)
    return (steps * fraction >> 64) * MICROSECOND


def next_check(partner_id: str, interval: timedelta, after: datetime) -> datetime:
    """The partner's first check slot strictly after ``after``."""
    interval = max(interval, MICROSECOND)
    anchor = EPOCH + check_phase(partner_id, interval)
    return anchor + ((after - anchor) // interval + 1) * interval


def review_runs_at(partner_id: str, interval: timedelta, period: timedelta, boundary: datetime) -> datetime:
    """When the review of the period ending at ``boundary`` runs (it still counts up to ``boundary``).

    At the partner's first check slot at or after the boundary, so the review takes that day's
    check's place; for periods shorter than ten intervals (demos) that wait is scaled down to at
    most a tenth of the period.
    """
    interval = max(interval, MICROSECOND)
    to_slot = (EPOCH + check_phase(partner_id, interval) - boundary) % interval  # in [0, interval)
    spread = min(interval, period / REVIEW_DELAY_SHARE)
    return boundary + (_micros(to_slot) * _micros(spread) // _micros(interval)) * MICROSECOND


def _micros(span: timedelta) -> int:
    return span // MICROSECOND
