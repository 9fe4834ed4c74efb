"""The performance store (events, totals, tiers) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from helpers import add_partner
from sqlalchemy import Engine

from partnerflow.domain.kpis import DEFAULT_TIERS, TierRule, Totals
from partnerflow.store import partners, performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Program
from partnerflow.store.performance import NewEvent


def test_rate_for_falls_back_to_the_entry_tier() -> None:
    rules = [TierRule("pro", 1, 0.25, 1_000), TierRule("starter", 0, 0.05)]

    assert performance.rate_for("pro", rules) == 0.25
    assert performance.rate_for(None, rules) == 0.05
    assert performance.rate_for("gold", rules) == 0.05  # a tier the program no longer has
    assert performance.rate_for("gold", DEFAULT_TIERS) == 0.20


# --- store (SQLite and PostgreSQL) ---------------------------------------------------------------

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _program(engine: Engine, currency: str = "EUR", monthly_costs: float = 0.0) -> str:
    """A fresh program (PostgreSQL keeps programs between tests)."""
    program = f"p-{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as session:
        session.add(Program(id=program, name=program, landing_url="https://x.example", currency=currency,
                            monthly_costs=monthly_costs))  # fmt: skip
    return program


def _ingest(engine: Engine, events: list[NewEvent], program: str | None = None) -> performance.IngestResult:
    with session_scope(engine) as session:
        return performance.ingest(session, events, program)


def _event(event_id: str, partner_id: str, kind: str, at: datetime, amount: float | None = None) -> NewEvent:
    return NewEvent(event_id, partner_id, kind, at, amount, "EUR" if amount else None)


def test_ingest_is_idempotent_and_checks_partner_program_and_currency(any_engine: Engine) -> None:
    program, other = _program(any_engine), _program(any_engine)
    ada = add_partner(any_engine, "ada@example.com", program=program).id
    bob = add_partner(any_engine, "bob@example.com", program=other).id
    sale = _event("sale-1", ada, "conversion", T0, 120.0)

    first = _ingest(any_engine, [sale, sale, _event("click-1", ada, "click", T0)])
    again = _ingest(
        any_engine,
        [
            sale,
            _event("ghost-1", "nobody", "click", T0),
            NewEvent("usd-1", ada, "conversion", T0, 10.0, "USD"),
            _event("bob-1", bob, "click", T0),
            _event("click-2", ada, "click", T0),
        ],
        program=program,
    )

    assert (first.accepted, first.duplicates, first.errors) == (2, 1, {})
    assert (again.accepted, again.duplicates) == (1, 1)
    assert again.errors == {
        1: "unknown partner 'nobody'",
        2: f"currency USD does not match program {program}'s currency EUR; send amounts in the program's currency",
        3: f"partner {bob} is not in program {program}",
    }
    with session_scope(any_engine) as session:
        assert performance.totals(session, T0, T0 + timedelta(days=1), partner_id=ada) == Totals(
            clicks=2, conversions=1, conversion_amount=120.0
        )


def test_concurrent_deliveries_store_each_event_once(any_engine: Engine) -> None:
    program = _program(any_engine)
    ada = add_partner(any_engine, "race@example.com", program=program).id
    batch = [_event(f"race-{i}", ada, "conversion", T0, 10.0) for i in range(20)]
    barrier = threading.Barrier(4)
    results: list[performance.IngestResult] = []

    def deliver() -> None:
        barrier.wait()
        results.append(_ingest(any_engine, batch))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.accepted for r in results) == 20 and sum(r.duplicates for r in results) == 60
    with session_scope(any_engine) as session:
        assert performance.totals(session, T0, T0 + timedelta(days=1), program=program).conversions == 20


def test_totals_aggregate_by_type_in_a_half_open_period(any_engine: Engine) -> None:
    program, other = _program(any_engine), _program(any_engine)
    ada = add_partner(any_engine, "ada@example.com", program=program).id
    eve = add_partner(any_engine, "eve@example.com", program=program).id
    out = add_partner(any_engine, "out@example.com", program=other).id
    end = T0 + timedelta(days=7)
    _ingest(
        any_engine,
        [
            _event("before", ada, "conversion", T0 - timedelta(microseconds=1), 1000.0),
            _event("start", ada, "conversion", T0, 100.10),
            _event("mid", ada, "conversion", T0 + timedelta(days=3), 200.20),
            _event("refund", ada, "refund", T0 + timedelta(days=4), 50.05),
            _event("lead", ada, "lead", T0 + timedelta(days=1)),
            _event("c1", ada, "click", T0 + timedelta(hours=1)),
            _event("c2", eve, "click", T0 + timedelta(hours=2)),
            _event("c3", out, "click", T0 + timedelta(hours=2)),
            _event("at-end", ada, "conversion", end, 999.0),
        ],
    )

    with session_scope(any_engine) as session:
        of_ada = performance.totals(session, T0, end, partner_id=ada)
        of_program = performance.totals(session, T0, end, program=program)
        everything = performance.totals(session, T0, end)
        by_partner = performance.totals_by_partner(session, program, T0, end)

    assert of_ada == Totals(clicks=1, leads=1, conversions=2, refunds=1, conversion_amount=300.3,
                            refund_amount=50.05)  # fmt: skip
    assert of_ada.net_revenue == 250.25
    assert of_program == Totals(clicks=2, leads=1, conversions=2, refunds=1, conversion_amount=300.3,
                                refund_amount=50.05)  # fmt: skip
    assert everything.clicks == 3
    assert by_partner == {ada: of_ada, eve: Totals(clicks=1)}


def test_revenue_by_partner_includes_earning_partners_without_events(any_engine: Engine) -> None:
    program = _program(any_engine)
    seller = add_partner(any_engine, "seller@example.com", program=program).id
    idle = add_partner(any_engine, "idle@example.com", program=program).id
    applicant = add_partner(any_engine, "applicant@example.com", program=program).id
    refunded = add_partner(any_engine, "refunded@example.com", program=program).id
    with session_scope(any_engine) as session:
        for partner_id in (seller, idle, refunded):
            partners.set_stage(session, partner_id, "active")
    _ingest(
        any_engine,
        [
            _event("s1", seller, "conversion", T0, 300.0),
            _event("s2", seller, "refund", T0, 100.0),
            _event("r1", refunded, "refund", T0, 40.0),
        ],
    )

    with session_scope(any_engine) as session:
        earning = performance.revenue_by_partner(session, program, T0, T0 + timedelta(days=1))
        everyone = performance.revenue_by_partner(session, program, T0, T0 + timedelta(days=1), stages=None)

    assert earning == {seller: 200.0, idle: 0.0, refunded: -40.0}
    assert everyone == {**earning, applicant: 0.0}


def test_first_and_last_event_by_type(any_engine: Engine) -> None:
    ada = add_partner(any_engine, "ada@example.com", program=_program(any_engine)).id
    _ingest(
        any_engine,
        [
            _event("c1", ada, "click", T0 + timedelta(days=2)),
            _event("c2", ada, "click", T0 + timedelta(days=1)),
            _event("s1", ada, "conversion", T0 + timedelta(days=5), 10.0),
        ],
    )

    with session_scope(any_engine) as session:
        assert performance.first_event_at(session, ada) == T0 + timedelta(days=1)
        assert performance.last_event_at(session, ada) == T0 + timedelta(days=5)
        assert performance.last_event_at(session, ada, ["click", "lead"]) == T0 + timedelta(days=2)
        assert performance.first_event_at(session, ada, ["conversion"]) == T0 + timedelta(days=5)
        assert performance.last_event_at(session, ada, ["refund"]) is None
        assert performance.last_event_at(session, "nobody") is None


def test_tier_rules_default_until_replaced(any_engine: Engine) -> None:
    program = _program(any_engine)
    custom = [TierRule("starter", 0, 0.05), TierRule("pro", 1, 0.25, 1_000.0, 10)]

    with session_scope(any_engine) as session:
        assert performance.tier_rules(session, program) == list(DEFAULT_TIERS)
        performance.replace_tiers(session, program, DEFAULT_TIERS)
        performance.replace_tiers(session, program, list(reversed(custom)))
    with session_scope(any_engine) as session:
        assert performance.tier_rules(session, program) == custom
