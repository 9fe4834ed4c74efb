"""PATCH /webinars/{id} and POST /webinars/{id}/cancel over HTTP, on the dev server with the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually, messages
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.store.db import session_scope
from partnerflow.store.models import Webinar, WebinarSeat


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


def _in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0).isoformat()


async def _webinar(service: Service, **fields: Any) -> dict[str, Any]:
    body = {"title": "Kickoff", "starts_at": _in_days(2), "join_url": "https://meet.example/k", "capacity": 5}
    response = await service.http.post("/webinars", json=body | fields, headers=ALICE)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _stored(service: Service, **fields: Any) -> int:
    with session_scope(service.engine) as session:
        webinar = Webinar(title="Old", join_url="https://meet.example/o", capacity=5, **fields)
        session.add(webinar)
        session.flush()
        assert webinar.id is not None
        return webinar.id


async def test_reschedule_and_cancel_answer_with_the_webinar_and_refuse_what_cannot_change(
    service: Service,
) -> None:
    webinar = await _webinar(service, timezone="Europe/Paris")
    wid = webinar["webinar_id"]
    assert (webinar["sequence"], webinar["cancelled_at"]) == (0, None)
    patch = service.http.patch

    assert (await patch(f"/webinars/{wid}", json={"title": "X"})).status_code == 401
    assert (await patch("/webinars/999", json={"title": "X"}, headers=ALICE)).status_code == 404
    empty = await patch(f"/webinars/{wid}", json={}, headers=ALICE)
    nulls = await patch(f"/webinars/{wid}", json={"title": None}, headers=ALICE)
    past = await patch(f"/webinars/{wid}", json={"starts_at": _in_days(-1)}, headers=ALICE)
    naive = await patch(f"/webinars/{wid}", json={"starts_at": "2030-01-01T10:00:00"}, headers=ALICE)
    zone = await patch(f"/webinars/{wid}", json={"timezone": "Mars/Base"}, headers=ALICE)
    long = await patch(f"/webinars/{wid}", json={"duration_minutes": 0}, headers=ALICE)
    assert [r.status_code for r in (empty, nulls, past, naive, zone, long)] == [422] * 6
    assert "at least one" in empty.text and "future" in past.json()["detail"] and "Mars/Base" in zone.text

    new_start = _in_days(3)
    moved = await patch(f"/webinars/{wid}", json={"starts_at": new_start}, headers=ALICE)
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["sequence"], body["changed"], body["partners_notified"]) == (1, ["starts_at"], 0)
    assert datetime.fromisoformat(body["starts_at"]) == datetime.fromisoformat(new_start)
    assert body["timezone"] == "Europe/Paris" and body["seats_taken"] == 0

    same = await patch(f"/webinars/{wid}", json={"starts_at": new_start, "title": "Kickoff"}, headers=ALICE)
    assert same.status_code == 200 and (same.json()["sequence"], same.json()["changed"]) == (1, [])

    details = await patch(
        f"/webinars/{wid}", json={"title": "Kickoff 2", "join_url": "https://meet.example/k2"}, headers=ALICE
    )
    assert details.json()["sequence"] == 2 and sorted(details.json()["changed"]) == ["join_url", "title"]

    assert (await service.http.post(f"/webinars/{wid}/cancel", json={})).status_code == 401
    assert (await service.http.post("/webinars/999/cancel", headers=ALICE)).status_code == 404
    cancelled = await service.http.post(
        f"/webinars/{wid}/cancel", json={"reason": "trainer ill"}, headers=ALICE
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["sequence"] == 3 and body["cancelled_at"] and body["cancel_reason"] == "trainer ill"
    assert body["title"] == "Kickoff 2" and body["changed"] == ["cancelled_at"]

    again = await service.http.post(f"/webinars/{wid}/cancel", headers=ALICE)
    changed = await patch(f"/webinars/{wid}", json={"title": "Back"}, headers=ALICE)
    attendance = await service.http.post(
        f"/webinars/{wid}/attendance", json={"emails": ["a@example.com"]}, headers=ALICE
    )
    assert [r.status_code for r in (again, changed, attendance)] == [409, 409, 409]
    assert "cancelled" in again.json()["detail"]

    listed = await service.http.get("/webinars", params={"upcoming": "false"}, headers=ALICE)
    [row] = [w for w in listed.json() if w["webinar_id"] == wid]
    assert row["cancelled_at"] and row["sequence"] == 3

    other = (await _webinar(service))["webinar_id"]
    no_body = await service.http.post(f"/webinars/{other}/cancel", headers=ALICE)
    assert no_body.status_code == 200 and no_body.json()["cancel_reason"] is None


async def test_a_past_session_cannot_be_rescheduled_nor_cancelled_once_over(service: Service) -> None:
    now = datetime.now(UTC)
    started = _stored(service, starts_at=now - timedelta(minutes=10), duration_minutes=60)
    over = _stored(service, starts_at=now - timedelta(days=1), duration_minutes=60)

    rescheduled = await service.http.patch(
        f"/webinars/{started}", json={"starts_at": _in_days(1)}, headers=ALICE
    )
    assert rescheduled.status_code == 422
    assert "past session cannot be rescheduled" in rescheduled.json()["detail"]
    ended = await service.http.post(f"/webinars/{over}/cancel", headers=ALICE)
    assert ended.status_code == 422 and "past session cannot be cancelled" in ended.json()["detail"]
    # A session under way can still be called off (its invitees are offered the next one).
    assert (await service.http.post(f"/webinars/{started}/cancel", headers=ALICE)).status_code == 200


async def test_invited_partners_workflows_send_the_calendar_update(service: Service) -> None:
    wid = (await _webinar(service))["webinar_id"]
    pid = await service.approved_partner("seat@example.com")
    bystander = await service.approved_partner("noseat@example.com")
    with session_scope(service.engine) as session:
        session.add(WebinarSeat(webinar_id=wid, partner_id=pid))

    moved = await service.http.patch(f"/webinars/{wid}", json={"starts_at": _in_days(4)}, headers=ALICE)
    assert moved.json()["partners_notified"] == 1

    key = f"partner:{pid}:webinar-changed:{wid}:1"
    sent = await eventually(
        lambda: [m for m in messages(service.engine, partner_id=pid) if m.idempotency_key == key]
    )
    assert sent[0].template == "webinar_updated" and sent[0].subject.startswith("New date")
    cancelled = await service.http.post(f"/webinars/{wid}/cancel", headers=ALICE)
    assert cancelled.json()["partners_notified"] == 1
    key = f"partner:{pid}:webinar-changed:{wid}:2"
    sent = await eventually(
        lambda: [m for m in messages(service.engine, partner_id=pid) if m.idempotency_key == key]
    )
    assert sent[0].template == "webinar_cancelled"
    assert not [m for m in messages(service.engine, partner_id=bystander) if "webinar" in m.template]
