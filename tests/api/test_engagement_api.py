"""Engagement over HTTP on the dev server: pause/resume, offboard, reviews, unsubscribe, digest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import make_settings, partnerflow_worker
from helpers import add_partner, eventually, eventually_async, messages
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.rendering.tokens import make_unsubscribe_token
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import Partner
from partnerflow.worker import ensure_digest_schedule


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def active_partner(service: Service, email: str) -> str:
    pid = await service.approved_partner(email)
    for item in ("terms_accepted", "webinar_attended"):
        body = {"item": item, "waive": item == "webinar_attended"}
        assert (
            await service.http.post(f"/partners/{pid}/checklist", json=body, headers=ALICE)
        ).status_code == 200

    async def is_active() -> bool:
        return (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()["stage"] == "active"

    await eventually_async(is_active)
    return pid


async def test_pause_resume_and_offboard(service: Service) -> None:
    pid = await active_partner(service, "pia@example.com")
    http = service.http

    paused = await http.post(f"/partners/{pid}/pause", headers=ALICE)
    resumed = await http.post(f"/partners/{pid}/resume", headers=ALICE)
    no_proposal = await http.post(f"/partners/{pid}/tier-decision", json={"approve": True}, headers=ALICE)
    no_reason = await http.post(f"/partners/{pid}/offboard", json={"reason": ""}, headers=ALICE)
    offboarded = await http.post(
        f"/partners/{pid}/offboard", json={"reason": "closed their site"}, headers=ALICE
    )
    again = await http.post(f"/partners/{pid}/offboard", json={"reason": "twice"}, headers=ALICE)

    assert (paused.status_code, paused.json()["detail"]) == (200, "paused")
    assert (resumed.status_code, resumed.json()["detail"]) == (200, "resumed")
    assert no_proposal.status_code == 409 and "no tier change" in no_proposal.json()["detail"]
    assert no_reason.status_code == 422
    assert offboarded.status_code == 200 and offboarded.json()["stage"] == "offboarded"
    assert again.status_code == 409
    await eventually(lambda: any(m.template == "farewell" for m in messages(service.engine, partner_id=pid)))
    detail = (await http.get(f"/partners/{pid}", headers=ALICE)).json()
    assert (
        detail["stage"] == "offboarded"
        and (await http.get(f"/partners/{pid}/reviews", headers=ALICE)).json() == []
    )
    assert (await http.post("/partners/nope/pause", headers=ALICE)).status_code == 404
    assert (await http.post(f"/partners/{pid}/pause")).status_code == 401


async def test_unsubscribe_needs_a_post_and_a_valid_token(service: Service) -> None:
    partner = add_partner(service.engine, "unsub@example.com")
    token = make_unsubscribe_token(service.settings.portal_signing_key, partner.id)

    page = await service.http.get(f"/unsubscribe/{token}")
    with session_scope(service.engine) as session:
        still_subscribed = session.get(Partner, partner.id)
    done = await service.http.post(f"/unsubscribe/{token}")
    forged = await service.http.post(f"/unsubscribe/{token[:-3]}xyz")

    assert page.status_code == 200 and "<form" in page.text
    assert still_subscribed is not None and still_subscribed.unsubscribed_at is None  # a GET changes nothing
    assert done.status_code == 200 and forged.status_code == 403
    with session_scope(service.engine) as session:
        row = session.get(Partner, partner.id)
    assert row is not None and row.unsubscribed_at is not None


async def test_weekly_digest_schedule_posts_one_slack_digest_per_program(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    add_partner(engine, "waiting@example.com", name="Waiting Walter")
    add_partner(engine, "agency@example.com", name="Agency Ann", program="agencies")
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with partnerflow_worker(dev_env, settings, engine, executor):
            schedule_id = await ensure_digest_schedule(dev_env.client, settings)
            assert await ensure_digest_schedule(dev_env.client, settings) == schedule_id  # idempotent
            handle = dev_env.client.get_schedule_handle(schedule_id)
            description = await handle.describe()
            upcoming = description.info.next_action_times[0]
            assert (upcoming.weekday(), upcoming.hour, upcoming.minute) == (0, 8, 0)  # Mondays 08:00
            await handle.trigger()
            digests = await eventually(
                lambda: len(messages(engine, channel="slack")) == 2 and messages(engine, channel="slack")
            )
            await handle.delete()
    engine.dispose()
    texts = {m.idempotency_key.split(":")[2]: m.body_text for m in digests}
    assert set(texts) == {"default", "agencies"}
    assert "Waiting Walter" in texts["default"] and "Agency Ann" not in texts["default"]


async def test_a_program_overrides_engagement_thresholds(service: Service) -> None:
    default = (await service.http.get("/programs/default/engagement", headers=ALICE)).json()
    changed = await service.http.put(
        "/programs/default/engagement", json={"no_click_days": 7, "review_period_days": 30}, headers=ALICE
    )
    bad = await service.http.put(
        "/programs/default/engagement", json={"no_click_days": 0, "typo_days": 3}, headers=ALICE
    )

    assert default["no_click_days"] == 14 and default["review_period_days"] == 90
    assert changed.status_code == 200
    assert (
        changed.json()["no_click_days"],
        changed.json()["review_period_days"],
        changed.json()["silent_days"],
    ) == (7, 30, 45)
    assert bad.status_code == 422 and {e["loc"][-1] for e in bad.json()["detail"]} == {
        "no_click_days",
        "typo_days",
    }
    assert (await service.http.get("/programs/default/engagement", headers=ALICE)).json()[
        "no_click_days"
    ] == 7
