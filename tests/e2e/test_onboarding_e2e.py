"""Signup → approve → terms in the portal → webinar attended → active, on the real dev server."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import eventually_async, messages
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


def _link(text: str, path: str) -> str:
    match = re.search(rf"https?://\S+?({re.escape(path)}\S+)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


async def test_a_partner_goes_from_signup_to_active(service: Service) -> None:
    http = service.http
    await http.put(
        "/programs/default", json={"name": "Acme", "landing_url": "https://acme.example/"}, headers=ALICE
    )
    await http.post(
        "/programs/default/terms", json={"body_markdown": "## Terms\n\nBe **honest**."}, headers=ALICE
    )
    await http.post(
        "/programs/default/resources",
        json={"title": "Logo", "kind": "logo", "url": "https://cdn.acme.example/logo.zip"},
        headers=ALICE,
    )
    starts = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    webinar = await http.post(
        "/webinars",
        json={
            "title": "Kickoff",
            "starts_at": starts,
            "join_url": "https://meet.example/k",
            "capacity": 20,
            "timezone": "Europe/Berlin",
        },
        headers=ALICE,
    )
    webinar_id = webinar.json()["webinar_id"]

    pid = await service.approved_partner("heidi@example.com", name="Heidi", locale="de")

    async def sent(template: str) -> str:
        async def find() -> str:
            items = (
                await http.get("/outbox", params={"partner_id": pid, "status": "sent"}, headers=ALICE)
            ).json()["items"]
            return next((item["body_text"] for item in items if item["template"] == template), "")

        return await eventually_async(find)

    portal_path = _link(await sent("welcome"), "/portal/")
    page = await http.get(portal_path)
    assert page.status_code == 200 and "Heidi" in page.text and "<strong>honest</strong>" in page.text
    accepted = await http.post(
        f"{portal_path}/terms/accept",
        data={"version": "1"},
        headers={"User-Agent": "e2e-browser"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303

    tracking_path = _link(await sent("welcome_kit"), "/r/")
    assert (
        (await http.get(tracking_path, follow_redirects=False))
        .headers["location"]
        .startswith("https://acme.example/")
    )
    await sent("webinar_invite")

    attendance = await http.post(
        f"/webinars/{webinar_id}/attendance", json={"partner_ids": [pid]}, headers=ALICE
    )
    assert attendance.json()["results"][0]["status"] == "recorded"
    await sent("onboarding_complete")

    detail = (await http.get(f"/partners/{pid}", headers=ALICE)).json()
    assert detail["stage"] == "active" and all(detail["checklist"].values())
    emails = Counter(m.template for m in messages(service.engine, partner_id=pid, channel="email"))
    assert emails == Counter(
        ["application_received", "welcome", "welcome_kit", "webinar_invite", "onboarding_complete"]
    )
    slack = Counter(m.template for m in messages(service.engine, partner_id=pid, channel="slack"))
    assert slack == Counter(["application_submitted", "onboarding_complete"])
    listing = (await http.get("/partners", params={"stage": "active"}, headers=ALICE)).json()["items"]
    assert [item["partner_id"] for item in listing] == [pid]
