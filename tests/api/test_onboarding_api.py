"""Onboarding over HTTP on the dev server: programs, terms, resources, webinars, tracking, checklist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import eventually, eventually_async
from icalendar import Calendar
from service import ALICE, Service, running_service
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings
from partnerflow.rendering.calendar import webinar_ics
from partnerflow.store.db import session_scope
from partnerflow.store.models import PerformanceEvent, TrackingLink, Webinar


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


def _in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_tracking_link_redirects_to_the_landing_page_and_counts_clicks(service: Service) -> None:
    pid = await service.approved_partner("track@example.com")
    await service.http.put(
        "/programs/default",
        json={"name": "Acme partners", "landing_url": "https://acme.example/join?utm=p"},
        headers=ALICE,
    )
    with session_scope(service.engine) as session:
        session.add(TrackingLink(code="ada123", partner_id=pid, program="default"))

    first = await service.http.get("/r/ada123", follow_redirects=False)
    second = await service.http.get("/r/ada123", follow_redirects=False)
    unknown = await service.http.get("/r/nope", follow_redirects=False)

    assert first.status_code == second.status_code == 302
    assert first.headers["location"] == "https://acme.example/join?utm=p&ref=ada123"
    assert unknown.status_code == 404

    def clicks() -> list[PerformanceEvent]:
        with session_scope(service.engine) as session:
            return list(session.exec(select(PerformanceEvent).where(PerformanceEvent.partner_id == pid)))

    recorded = await eventually(lambda: len(clicks()) == 2 and clicks())
    assert {event.type for event in recorded} == {"click"} and len({e.event_id for e in recorded}) == 2


async def test_terms_are_versioned_per_program_and_rendered(service: Service) -> None:
    first = await service.http.post(
        "/programs/default/terms",
        json={"body_markdown": "# Terms\n\n<script>x</script> **v1**"},
        headers=ALICE,
    )
    second = await service.http.post(
        "/programs/default/terms", json={"title": "Terms 2027", "body_markdown": "**v2**"}, headers=ALICE
    )
    other = await service.http.post(
        "/programs/agencies/terms", json={"body_markdown": "agency terms"}, headers=ALICE
    )
    current = await service.http.get("/programs/default/terms", headers=ALICE)
    missing = await service.http.get("/programs/nobody/terms", headers=ALICE)

    assert first.status_code == 201 and first.json()["version"] == 1
    assert "<strong>v1</strong>" in first.json()["body_html"] and "<script>" not in first.json()["body_html"]
    assert second.json()["version"] == 2 and other.json()["version"] == 1
    assert current.json()["title"] == "Terms 2027" and current.json()["published_by"] == "alice"
    assert missing.status_code == 404
    assert (
        await service.http.post("/programs/default/terms", json={"body_markdown": ""}, headers=ALICE)
    ).status_code == 422


async def test_resource_library_filters_by_locale(service: Service) -> None:
    for body in [
        {"title": "Logo", "kind": "logo", "url": "https://cdn.example/logo.zip"},
        {"title": "Guide FR", "kind": "guide", "url": "https://cdn.example/fr.pdf", "locale": "fr"},
        {"title": "Guide DE", "kind": "guide", "url": "https://cdn.example/de.pdf", "locale": "de"},
    ]:
        assert (
            await service.http.post("/programs/default/resources", json=body, headers=ALICE)
        ).status_code == 201
    french = (
        await service.http.get("/programs/default/resources", params={"locale": "fr"}, headers=ALICE)
    ).json()
    bad = await service.http.post(
        "/programs/default/resources", json={"title": "x", "kind": "poster", "url": "nope"}, headers=ALICE
    )

    assert sorted(r["title"] for r in french) == ["Guide FR", "Logo"]
    assert bad.status_code == 422 and {e["loc"][-1] for e in bad.json()["detail"]} == {"kind", "url"}


async def test_webinars_are_validated_and_attendance_moves_partners_on(service: Service) -> None:
    created = await service.http.post(
        "/webinars",
        json={
            "title": "Kickoff",
            "starts_at": _in_days(2),
            "join_url": "https://meet.example/k",
            "capacity": 5,
            "timezone": "Europe/Paris",
        },
        headers=ALICE,
    )
    past = await service.http.post(
        "/webinars",
        json={"title": "Old", "starts_at": _in_days(-1), "join_url": "https://m.example", "capacity": 5},
        headers=ALICE,
    )
    naive = await service.http.post(
        "/webinars",
        json={
            "title": "X",
            "starts_at": "2030-01-01T10:00:00",
            "join_url": "https://m.example",
            "capacity": 5,
        },
        headers=ALICE,
    )
    bad_zone = await service.http.post(
        "/webinars",
        json={
            "title": "X",
            "starts_at": _in_days(1),
            "join_url": "https://m.example",
            "capacity": 5,
            "timezone": "Mars/Base",
        },
        headers=ALICE,
    )

    assert created.status_code == 201
    webinar_id = created.json()["webinar_id"]
    assert (
        past.status_code == 422
        and past.json()["detail"][0]["loc"] == ["body", "starts_at"]
        and "future" in past.text
    )
    assert naive.status_code == 422 and bad_zone.status_code == 422 and "Mars/Base" in bad_zone.text

    pid = await service.approved_partner("attendee@example.com")
    result = await service.http.post(
        f"/webinars/{webinar_id}/attendance",
        json={"partner_ids": [pid, "ghost"], "emails": ["nobody@example.com"]},
        headers=ALICE,
    )
    assert result.status_code == 200
    statuses = {item["partner_id"]: item["status"] for item in result.json()["results"]}
    assert statuses == {pid: "recorded", "ghost": "unknown_partner", "nobody@example.com": "unknown_partner"}
    again = await service.http.post(
        f"/webinars/{webinar_id}/attendance", json={"emails": ["ATTENDEE@example.com"]}, headers=ALICE
    )
    assert again.json()["results"] == [{"partner_id": pid, "status": "already_recorded", "detail": ""}]
    assert (
        await service.http.post("/webinars/999/attendance", json={"partner_ids": [pid]}, headers=ALICE)
    ).status_code == 404
    assert (
        await service.http.post(f"/webinars/{webinar_id}/attendance", json={}, headers=ALICE)
    ).status_code == 422

    async def attended() -> bool:
        detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
        return bool(detail["checklist"]["webinar_attended"])

    assert await eventually_async(attended)


async def test_manager_checklist_endpoint(service: Service) -> None:
    pid = await service.approved_partner("manual@example.com")
    waived = await service.http.post(
        f"/partners/{pid}/checklist",
        json={"item": "webinar_attended", "waive": True, "note": "trained in person"},
        headers=ALICE,
    )
    bad_item = await service.http.post(f"/partners/{pid}/checklist", json={"item": "coffee"}, headers=ALICE)
    bad_waive = await service.http.post(
        f"/partners/{pid}/checklist", json={"item": "terms_accepted", "waive": True}, headers=ALICE
    )

    assert waived.status_code == 200 and waived.json()["checklist"]["webinar_attended"] is True
    assert any("waived by alice (trained in person)" in h["detail"] for h in waived.json()["history"])
    assert bad_item.status_code == 422 and bad_waive.status_code == 422

    rejected = (await service.signup({"email": "no@example.com", "name": "No"})).json()["partner_id"]
    await service.http.post(f"/partners/{rejected}/decision", json={"decision": "reject"}, headers=ALICE)
    closed = await service.http.post(
        f"/partners/{rejected}/checklist", json={"item": "terms_accepted"}, headers=ALICE
    )
    assert closed.status_code == 409


def test_webinar_invitation_is_a_valid_calendar_file() -> None:
    starts = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
    webinar = Webinar(id=7, title="Partner training", starts_at=starts, timezone="Europe/Warsaw", duration_minutes=45,
                      join_url="https://meet.example/7", capacity=10, created_at=starts - timedelta(days=3))  # fmt: skip

    settings = Settings(_env_file=None, public_url="https://partners.example.com")  # type: ignore[call-arg]
    calendar = Calendar.from_ical(webinar_ics(webinar, "ada@example.com", "Ada", settings))

    [event] = calendar.walk("VEVENT")
    assert calendar["METHOD"] == "REQUEST"
    assert event["SUMMARY"] == "Partner training" and event["UID"] == "webinar-7@partners.example.com"
    assert event.decoded("DTSTART") == starts and event.decoded("DTEND") == starts + timedelta(minutes=45)
    assert (
        str(event["ATTENDEE"]) == "mailto:ada@example.com" and event["LOCATION"] == "https://meet.example/7"
    )
