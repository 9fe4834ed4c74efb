"""Slack Approve / Reject buttons: signed requests, then the whole flow against FakeSlack."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from conftest import make_settings
from fakes.providers import FakeSlack, RecordedRequest
from fastapi import FastAPI
from helpers import add_partner, eventually, eventually_async, messages
from pydantic import SecretStr
from service import ALICE, Service, running_service
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.api.routes.slack import router
from partnerflow.domain.messages import SlackRequest
from partnerflow.providers.email import LocalOutboxEmailBackend
from partnerflow.providers.slack import SlackWebBackend
from partnerflow.rendering.slack_blocks import SECTION_LIMIT, text_sections
from partnerflow.store.db import make_engine, upgrade

SECRET, TOKEN, CHANNEL = "slack-signing-test", "xoxb-test", "C0PARTNERS"
ALICE_U = {"id": "U0ALICE", "username": "alice", "name": "alice", "team_id": "T0FAKE"}
CAROL_U = {"id": "U0CAROL", "username": "carol", "name": "carol", "team_id": "T0FAKE"}  # via S0LEADS
MALLORY_U = {"id": "U0MALLORY", "username": "mallory", "name": "mallory", "team_id": "T0FAKE"}


def form(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature or "",
        "Content-Type": "application/x-www-form-urlencoded",
    }


# --- signature -----------------------------------------------------------------------------------


@pytest.fixture
async def http(tmp_path: Path, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.state.settings = make_settings(tmp_path, slack_signing_secret=SecretStr(SECRET))
    app.state.engine, app.state.temporal = engine, None
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


async def test_valid_signature_is_acknowledged_with_an_empty_body(http: httpx.AsyncClient) -> None:
    body = form({"type": "block_actions", "user": ALICE_U, "actions": []})
    response = await http.post("/slack/interactions", content=body, headers=signed(body))
    assert (response.status_code, response.content) == (200, b"")


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        ("wrong-secret", "invalid Slack signature"),
        ("stale-timestamp", "stale request"),
        ("tampered-payload", "invalid Slack signature"),
        ("unsigned", "missing X-Slack-Request-Timestamp"),
    ],
)
async def test_bad_signatures_are_refused(http: httpx.AsyncClient, case: str, detail: str) -> None:
    body = form({"type": "block_actions", "user": ALICE_U, "actions": []})
    sent, headers = {
        "wrong-secret": (body, signed(body, secret="someone-elses-secret")),
        "stale-timestamp": (body, signed(body, timestamp=int(time.time()) - 301)),
        "tampered-payload": (body.replace(b"U0ALICE", b"U0EVE00"), signed(body)),
        "unsigned": (body, {"Content-Type": "application/x-www-form-urlencoded"}),
    }[case]
    response = await http.post("/slack/interactions", content=sent, headers=headers)
    assert response.status_code == 401 and detail in response.json()["detail"]


async def test_replayed_body_is_refused(http: httpx.AsyncClient) -> None:
    body = form({"type": "block_actions", "user": ALICE_U, "actions": [], "n": time.time()})
    headers = signed(body)
    assert (await http.post("/slack/interactions", content=body, headers=headers)).status_code == 200
    replay = await http.post("/slack/interactions", content=body, headers=headers)
    assert (replay.status_code, replay.json()["detail"]) == (401, "replayed request")


# --- blocks --------------------------------------------------------------------------------------


def test_long_text_is_split_into_sections_within_slacks_limit() -> None:
    text = "\n".join(f"• pending application {i} " + "x" * 80 for i in range(100))
    sections = text_sections(text)
    assert len(sections) > 1 and all(len(s["text"]["text"]) <= SECTION_LIMIT for s in sections)
    assert "\n".join(s["text"]["text"] for s in sections) == text


def test_escalation_buttons_are_for_the_partner_it_is_about(tmp_path: Path) -> None:
    with FakeSlack(token=TOKEN) as fake:
        settings = make_settings(tmp_path, slack_channel=CHANNEL)
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        slack = SlackWebBackend(TOKEN, base_url=fake.url)
        activities = MessagingActivities(settings, engine, LocalOutboxEmailBackend(tmp_path), slack)
        partner, other = add_partner(engine, "ada@example.com"), add_partner(engine, "bob@example.com")
        pending = [{"partner_id": other.id, "name": "Bob", "email": "bob@example.com", "company": "",
                    "program": "default", "submitted_at": "2024-01-01T00:00:00"}]  # fmt: skip
        context = {"pending": pending, "waiting_days": 5}
        request = SlackRequest("k-esc", "approval_escalation", context, partner.id)
        ActivityEnvironment().run(activities.notify_managers, request)
        ActivityEnvironment().run(
            activities.notify_managers, SlackRequest("k-ok", "onboarding_complete", {}, partner.id)
        )
        escalation, done = fake.messages
        [actions] = [b for b in escalation.params["blocks"] if b["type"] == "actions"]
        assert {element["value"] for element in actions["elements"]} == {partner.id}
        assert "blocks" not in done.params
        engine.dispose()


# --- the flow on the dev server, against FakeSlack ------------------------------------------------


@pytest.fixture
async def slack(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[tuple[Service, FakeSlack]]:
    async with (
        FakeSlack(token=TOKEN, usergroups={"S0LEADS": ["U0CAROL"]}) as fake,
        running_service(
            dev_env,
            tmp_path,
            routers=[router],
            slack_bot_token=SecretStr(TOKEN),
            slack_base_url=fake.url,
            slack_channel=CHANNEL,
            slack_signing_secret=SecretStr(SECRET),
            slack_allowed_users="U0ALICE, S0LEADS",
        ) as service,
    ):
        yield service, fake


async def post(service: Service, payload: dict[str, Any]) -> httpx.Response:
    body = form(payload)
    return await service.http.post("/slack/interactions", content=body, headers=signed(body))


async def click(service: Service, message: RecordedRequest, action_id: str, user: dict[str, str]) -> None:
    [actions] = [b for b in message.params["blocks"] if b["type"] == "actions"]
    [button] = [e for e in actions["elements"] if e["action_id"] == action_id]
    channel, ts = message.params["channel"], message.message_id
    response = await post(service, {
        "type": "block_actions", "user": user, "api_app_id": "A0FAKE", "trigger_id": f"trig-{time.time()}",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "team": {"id": "T0FAKE"}, "channel": {"id": channel, "name": "partners"},
        "message": {"type": "message", "ts": ts, "text": message.params["text"], "blocks": message.params["blocks"]},
        "actions": [button | {"block_id": actions["block_id"], "action_ts": str(time.time())}],
    })  # fmt: skip
    assert (response.status_code, response.content) == (200, b""), response.text


async def submit(service: Service, view: dict[str, Any], reason: str | None, share: bool) -> httpx.Response:
    values: dict[str, Any] = {}
    for block in (b for b in view["blocks"] if b["type"] == "input"):
        element = block["element"]
        state: dict[str, Any]
        if element["type"] == "plain_text_input":
            state = {"type": "plain_text_input", "value": reason}
        else:
            state = {"type": "checkboxes", "selected_options": element["options"] if share else []}
        values[block["block_id"]] = {element["action_id"]: state}
    submitted = view | {"id": "V0FAKE", "state": {"values": values}}
    return await post(service, {"type": "view_submission", "user": ALICE_U, "view": submitted})


async def application_message(service: Service, fake: FakeSlack, email: str) -> tuple[str, RecordedRequest]:
    response = await service.signup({"email": email, "name": "Ada Lovelace"})
    partner_id = str(response.json()["partner_id"])
    found = await eventually(lambda: [m for m in fake.messages if partner_id in json.dumps(m.params)])
    return partner_id, found[0]


async def stage(service: Service, partner_id: str) -> str:
    return str((await service.http.get(f"/partners/{partner_id}", headers=ALICE)).json()["stage"])


async def test_approve_from_slack(slack: tuple[Service, FakeSlack]) -> None:
    service, fake = slack
    pid, posted = await application_message(service, fake, "ada@example.com")
    [actions] = [b for b in posted.params["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("approve_application", pid),
        ("reject_application", pid),
    ]
    assert posted.params["blocks"][0]["text"]["text"] in posted.params["text"]

    await click(service, posted, "approve_application", MALLORY_U)
    [refusal] = await asyncio.to_thread(fake.wait_for, "ephemerals", 1)
    assert refusal.params["user"] == "U0MALLORY" and "not allowed" in refusal.params["text"]
    assert await stage(service, pid) == "applied" and fake.updates == []

    await click(service, posted, "approve_application", ALICE_U)
    [update] = await asyncio.to_thread(fake.wait_for, "updates", 1)
    assert (update.params["channel"], update.params["ts"]) == (CHANNEL, posted.message_id)
    assert "✅ Approved by <@U0ALICE>" in update.params["text"]
    assert [b["type"] for b in update.params["blocks"]] == ["section", "section"]  # no buttons
    assert await stage(service, pid) == "onboarding"

    await click(service, posted, "approve_application", CAROL_U)  # a member of the allowed group
    already = (await asyncio.to_thread(fake.wait_for, "ephemerals", 2))[1]
    assert already.params["user"] == "U0CAROL" and "already approved by alice" in already.params["text"]
    await asyncio.sleep(0.5)
    assert len(fake.updates) == 1


async def test_reject_from_slack_with_a_shared_reason(slack: tuple[Service, FakeSlack]) -> None:
    service, fake = slack
    pid, posted = await application_message(service, fake, "grace@example.com")

    await click(service, posted, "reject_application", ALICE_U)
    [opened] = await asyncio.to_thread(fake.wait_for, "views", 1)
    view = opened.params["view"]
    assert opened.params["trigger_id"].startswith("trig-") and view["callback_id"] == "reject_application"

    invalid = await submit(service, view, reason=None, share=True)
    assert invalid.json() == {
        "response_action": "errors",
        "errors": {"share": invalid.json()["errors"]["share"]},
    }
    assert await stage(service, pid) == "applied"

    done = await submit(service, view, reason="Your audience does not fit our products yet.", share=True)
    assert (done.status_code, done.content) == (200, b"")
    [update] = await asyncio.to_thread(fake.wait_for, "updates", 1)
    assert update.params["ts"] == posted.message_id and "❌ Rejected by <@U0ALICE>" in update.params["text"]
    email = await eventually(
        lambda: [m for m in messages(service.engine, partner_id=pid) if m.template == "rejection"]
    )
    assert "Your audience does not fit our products yet." in email[0].body_text
    assert await stage(service, pid) == "rejected"


# --- tier proposals and offboarding suggestions ----------------------------------------------------


async def active_partner(service: Service, email: str) -> str:
    pid = await service.approved_partner(email)
    for item in ("terms_accepted", "webinar_attended"):
        body = {"item": item, "waive": item == "webinar_attended"}
        response = await service.http.post(f"/partners/{pid}/checklist", json=body, headers=ALICE)
        assert response.status_code == 200, response.text

    async def is_active() -> bool:
        return await stage(service, pid) == "active"

    await eventually_async(is_active)
    return pid


def actions_of(message: RecordedRequest) -> list[tuple[str, str]]:
    [actions] = [b for b in message.params["blocks"] if b["type"] == "actions"]
    return [(e["action_id"], e["text"]["text"]) for e in actions["elements"]]


async def test_confirm_a_proposed_tier_from_slack(slack: tuple[Service, FakeSlack]) -> None:
    service, fake = slack
    rules = {"review_period_days": 0.0002, "tier_confirmation_days": 1}  # a review ~17 s after activation
    assert (
        await service.http.put("/programs/default/engagement", json=rules, headers=ALICE)
    ).status_code == 200
    pid = await active_partner(service, "tia@example.com")
    await asyncio.sleep(1.5)  # within the review period, which starts when the workflow runs its active stage
    now = datetime.now(UTC).isoformat()
    events = [{"event_id": f"tier-{i}", "partner_id": pid, "type": "conversion", "amount": 100.0,
               "currency": "USD", "occurred_at": now} for i in range(60)]  # fmt: skip
    assert (await service.http.post("/events", json={"events": events}, headers=ALICE)).json()[
        "accepted"
    ] == 60

    def proposal() -> list[RecordedRequest]:
        return [m for m in fake.messages if "Tier change proposed" in m.params["text"]]

    [posted] = await eventually(proposal, timeout=60)
    assert actions_of(posted) == [("confirm_tier", "Confirm silver"), ("keep_tier", "Keep current tier")]
    detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
    assert detail["tier_proposal"] == "silver"

    await click(service, posted, "confirm_tier", MALLORY_U)
    [refusal] = await asyncio.to_thread(fake.wait_for, "ephemerals", 1)
    assert "not allowed" in refusal.params["text"] and fake.updates == []

    await click(service, posted, "confirm_tier", ALICE_U)
    [update] = await asyncio.to_thread(fake.wait_for, "updates", 1)
    assert update.params["ts"] == posted.message_id
    assert "✅ Tier change to *silver* confirmed by <@U0ALICE>" in update.params["text"]
    assert [b["type"] for b in update.params["blocks"]] == ["section"] * len(update.params["blocks"])

    async def reviewed() -> list[dict[str, Any]]:
        reviews = (await service.http.get(f"/partners/{pid}/reviews", headers=ALICE)).json()
        return [r for r in reviews if r["tier_after"] == "silver"]

    [review] = await eventually_async(reviewed)
    assert review["decided_by"] == "alice"
    await click(service, posted, "keep_tier", CAROL_U)  # too late: nothing is waiting
    late = (await asyncio.to_thread(fake.wait_for, "ephemerals", 2))[1]
    assert late.params["user"] == "U0CAROL" and "No tier change" in late.params["text"]


async def test_offboard_or_keep_a_silent_partner_from_slack(slack: tuple[Service, FakeSlack]) -> None:
    service, fake = slack
    silent, kept = (
        await active_partner(service, "sil@example.com"),
        await active_partner(service, "kim@example.com"),
    )
    backend = SlackWebBackend(TOKEN, base_url=fake.url)
    activities = MessagingActivities(
        service.settings, service.engine, LocalOutboxEmailBackend(service.settings.outbox_dir), backend
    )

    def suggest(pid: str) -> RecordedRequest:  # as the daily check does after 180 silent days
        request = SlackRequest(
            f"partner:{pid}:propose-offboarding", "offboarding_proposed", {"days_inactive": 180}, pid
        )
        ActivityEnvironment().run(activities.notify_managers, request)
        return next(
            m
            for m in fake.messages
            if (m.params.get("blocks") or [{}])[-1].get("block_id") == f"offboarding:{pid}"
        )

    posted = suggest(silent)
    assert actions_of(posted) == [("offboard_partner", "Offboard…"), ("keep_partner", "Keep")]
    await click(service, posted, "offboard_partner", ALICE_U)
    [opened] = await asyncio.to_thread(fake.wait_for, "views", 1)
    view = opened.params["view"]
    assert view["callback_id"] == "offboard_partner" and "cannot be undone" in json.dumps(view)

    blank = await submit(service, view, reason="  ", share=False)
    assert list(blank.json()["errors"]) == ["offboard_reason"] and await stage(service, silent) == "active"
    done = await submit(service, view, reason="No activity for six months", share=False)
    assert (done.status_code, done.content) == (200, b"")
    [update] = await asyncio.to_thread(fake.wait_for, "updates", 1)
    assert (
        "👋 Offboarded by <@U0ALICE>" in update.params["text"]
        and "No activity for six months" in update.params["text"]
    )
    assert await eventually_async(lambda: _is(service, silent, "offboarded"))
    history = (await service.http.get(f"/partners/{silent}", headers=ALICE)).json()["history"]
    assert any(h["event"] == "offboarded" and "alice: No activity" in h["detail"] for h in history)

    await click(service, posted, "offboard_partner", ALICE_U)  # the same message again
    [again] = await asyncio.to_thread(fake.wait_for, "ephemerals", 1)
    assert "offboarded; they cannot be offboarded" in again.params["text"]

    other = suggest(kept)
    await click(service, other, "keep_partner", CAROL_U)
    updates = await asyncio.to_thread(fake.wait_for, "updates", 2)
    assert "👍 Kept by <@U0CAROL>" in updates[1].params["text"] and await stage(service, kept) == "active"


async def _is(service: Service, pid: str, expected: str) -> bool:
    return await stage(service, pid) == expected
