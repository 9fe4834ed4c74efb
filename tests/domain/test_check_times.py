"""Check and review times of active partners: spread over the day, one check per interval, exact."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from partnerflow.domain.check_times import check_phase, next_check, review_runs_at

DAY = timedelta(days=1)
ACTIVATED = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # a bulk import: everyone at the same instant


def test_partners_activated_together_are_checked_evenly_over_the_day() -> None:
    ids = [f"p{n:06d}" for n in range(24_000)]
    hours = Counter(next_check(pid, DAY, ACTIVATED).hour for pid in ids)
    assert sorted(hours) == list(range(24))
    assert max(hours.values()) / (len(ids) / 24) < 1.1  # all of them at midnight was 24


def test_the_phase_is_stable_and_within_the_interval() -> None:
    # sha256, not hash(): the same on every worker process and release (this value must never change).
    assert check_phase("p000001", DAY) == check_phase("p000001", DAY)
    assert check_phase("partner-a", DAY) == timedelta(seconds=68_108, microseconds=194_298)
    for interval in (timedelta(seconds=1), timedelta(hours=2), DAY, timedelta(days=7)):
        assert timedelta(0) <= check_phase("partner-a", interval) < interval


def test_checks_come_once_per_interval_at_the_same_time_of_day() -> None:
    pid, interval = "partner-a", timedelta(hours=24)
    checks = [next_check(pid, interval, ACTIVATED)]
    for _ in range(30):
        # An activity finishes a little after the wake-up; the next slot is still one interval on.
        checks.append(next_check(pid, interval, checks[-1] + timedelta(seconds=3)))
    assert ACTIVATED < checks[0] <= ACTIVATED + interval
    assert {b - a for a, b in pairwise(checks)} == {interval}
    assert {c.time() for c in checks} == {checks[0].time()}
    assert next_check(pid, interval, checks[3]) == checks[4]  # strictly after: a check never repeats


def test_a_review_takes_the_place_of_the_first_check_on_or_after_its_boundary() -> None:
    pid, period = "partner-a", timedelta(days=90)
    boundary = ACTIVATED + period
    runs = review_runs_at(pid, DAY, period, boundary)
    assert boundary <= runs < boundary + DAY
    assert runs == next_check(pid, DAY, boundary - timedelta(microseconds=1))
    on_a_slot = next_check(pid, DAY, boundary)
    assert review_runs_at(pid, DAY, period, on_a_slot) == on_a_slot  # no wait when the boundary is a slot


def test_reviews_of_partners_activated_together_spread_over_the_day_after_the_boundary() -> None:
    period = timedelta(days=90)
    boundary = ACTIVATED + period
    runs = [review_runs_at(f"p{n:06d}", DAY, period, boundary) for n in range(2_400)]
    assert all(boundary <= r < boundary + DAY for r in runs)
    assert len(Counter(r.hour for r in runs)) == 24


def test_a_short_demo_period_reviews_within_a_tenth_of_the_period() -> None:
    period = timedelta(seconds=26)  # review_period_days 0.0003 with the daily check interval
    boundary = ACTIVATED + period
    delays = [review_runs_at(f"p{n}", DAY, period, boundary) - boundary for n in range(500)]
    assert all(timedelta(0) <= d < timedelta(seconds=2.6) for d in delays)
    assert len(set(delays)) > 400
