"""Keyset pages of partners and pending applications on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from partnerflow.api.dashboard import queries
from partnerflow.domain.cursors import Position
from partnerflow.store import partners
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner

BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _fill(engine: Engine) -> list[dict[str, object]]:
    """37 partners over 4 programs and 3 stages; every timestamp shared by 3 partners (ties)."""
    rows: list[dict[str, object]] = [
        {"id": f"p{index:03d}", "program": f"prog{index % 4}", "email": f"p{index}@example.com",
         "name": f"P {index}", "locale": "en", "stage": ("applied", "active", "rejected")[index % 3],
         "created_at": BASE + timedelta(seconds=index // 3),
         "stage_changed_at": BASE + timedelta(minutes=index // 3)}
        for index in range(37)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Partner), rows)
        connection.execute(
            insert(Application),
            [{"partner_id": row["id"], "submitted_at": row["created_at"],
              "status": "pending" if row["stage"] == "applied" else "approved"} for row in rows],
        )  # fmt: skip
    return rows


def _walk(engine: Engine, limit: int, **filters: str) -> list[list[str]]:
    pages: list[list[str]] = []
    after: Position | None = None
    with session_scope(engine) as session:
        while True:
            page = partners.list_partners(session, limit=limit, after=after, **filters)
            pages.append([row.id for row in page.rows])
            if page.next is None:
                return pages
            after = page.next


def test_pages_follow_newest_first_without_repeats_or_gaps_across_ties(any_engine: Engine) -> None:
    rows = _fill(any_engine)
    expected = [r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)]
    for limit in (1, 2, 3, 5, 36, 37, 100):
        pages = _walk(any_engine, limit)
        assert [pid for page in pages for pid in page] == expected, f"limit {limit}"
        assert all(len(page) == limit for page in pages[:-1]) and 0 < len(pages[-1]) <= limit
    assert _walk(any_engine, 3)[0] == ["p036", "p035", "p034"]  # 34..35 share a second: id breaks the tie


def test_every_filter_pages_through_its_own_partners(any_engine: Engine) -> None:
    rows = _fill(any_engine)
    newest = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    cases: list[dict[str, str]] = [
        {"stage": "active"},
        {"program": "prog1"},
        {"stage": "applied", "program": "prog2"},
    ]
    for filters in cases:
        expected = [r["id"] for r in newest if all(r[key] == value for key, value in filters.items())]
        assert expected, filters
        assert [pid for page in _walk(any_engine, 4, **filters) for pid in page] == expected, filters


def test_rows_added_meanwhile_do_not_shift_the_next_page(any_engine: Engine) -> None:
    _fill(any_engine)
    with session_scope(any_engine) as session:
        first = partners.list_partners(session, limit=10)
    with any_engine.begin() as connection:  # a newer signup arrives while the manager reads page 1
        connection.execute(insert(Partner), [{"id": "late", "program": "prog0", "email": "late@example.com",
            "name": "Late", "locale": "en", "stage": "applied", "created_at": BASE + timedelta(days=1),
            "stage_changed_at": BASE}])  # fmt: skip
    with session_scope(any_engine) as session:
        second = partners.list_partners(session, limit=10, after=first.next)
        by_offset = partners.list_partners(session, limit=10, offset=10)
    assert second.rows[0].id == "p026"  # right after page 1's last (p027)
    assert by_offset.rows[0].id == "p027"  # OFFSET repeats the last row: why cursors


def test_stage_and_applications_pages_are_oldest_first(any_engine: Engine) -> None:
    rows = _fill(any_engine)
    active = [
        r["id"]
        for r in sorted(rows, key=lambda r: (r["stage_changed_at"], r["id"]))
        if r["stage"] == "active"
    ]
    pending = [
        r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"])) if r["stage"] == "applied"
    ]
    seen_active: list[str] = []
    seen_pending: list[str] = []
    after_active: Position | None = None
    after_pending: Position | None = None
    with session_scope(any_engine) as session:
        while True:
            page = queries.partners_in_stage(session, "active", after_active, 4)
            seen_active += [row.id for row in page.rows]
            if not (after_active := page.next):
                break
        while True:
            apps = queries.pending_applications(session, after_pending, 4)
            seen_pending += [row.id for row in apps.rows]
            if not (after_pending := apps.next):
                break
        assert queries.pending_count(session) == len(pending)
    assert seen_active == active and seen_pending == pending
