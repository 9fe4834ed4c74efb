"""The HTTP contract of shared/API.md, end to end on a real Temporal dev server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import WEBHOOK_SECRET, make_settings
from helpers import eventually, messages
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.main import create_app
from partnerflow.rendering import signing


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def test_signup_to_welcome_email_through_the_api(service: Service) -> None:
    started = time.monotonic()
    response = await service.signup({"email": "Ada@Example.com ", "name": "Ada Lovelace", "locale": "fr"})
    assert response.status_code == 202
    body = response.json()
    pid = body["partner_id"]
    assert body == {"partner_id": pid, "workflow_id": f"partner-{pid}", "status": "applied"}

    detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
    assert (detail["stage"], detail["email"], detail["workflow_id"]) == (
        "applied",
        "ada@example.com",
        body["workflow_id"],
    )
    assert set(detail["checklist"]) >= {"terms_accepted", "webinar_attended"}

    decided = await service.http.post(
        f"/partners/{pid}/decision", json={"decision": "approve"}, headers=ALICE
    )
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"partner_id": pid, "stage": "onboarding"}

    outbox = await eventually(
        lambda: [
            m
            for m in messages(service.engine, partner_id=pid)
            if m.template == "welcome" and m.status == "sent"
        ]
    )
    latency = time.monotonic() - started
    assert "/portal/" in outbox[0].body_text
    listed = (await service.http.get("/outbox", params={"to": "ada@example.com"}, headers=ALICE)).json()[
        "items"
    ]
    assert {item["template"] for item in listed} == {"application_received", "welcome"}
    assert all(item["channel"] == "email" and item["to"] == "ada@example.com" for item in listed)
    slack = (await service.http.get("/outbox", params={"channel": "slack"}, headers=ALICE)).json()["items"]
    assert [item["template"] for item in slack] == ["application_submitted"]
    detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
    assert detail["stage"] == "onboarding" and [h["event"] for h in detail["history"]][:2] == [
        "applied",
        "approved",
    ]
    listing = (await service.http.get("/partners", params={"stage": "onboarding"}, headers=ALICE)).json()
    assert [item["partner_id"] for item in listing["items"]] == [pid]
    print(f"signup→welcome-email latency: {latency:.2f} s")


async def test_repeat_delivery_lands_on_the_same_partner(service: Service) -> None:
    first = await service.signup({"email": "grace@example.com", "name": "Grace"})
    repeat = await service.signup({"email": "  GRACE@example.com", "name": "Grace H."})
    other_program = await service.signup(
        {"email": "grace@example.com", "name": "Grace", "program": "agencies"}
    )

    assert (first.status_code, repeat.status_code, other_program.status_code) == (202, 200, 202)
    assert repeat.json() == first.json()
    assert other_program.json()["partner_id"] != first.json()["partner_id"]
    listing = (await service.http.get("/partners", headers=ALICE)).json()["items"]
    assert sorted(item["program"] for item in listing) == ["agencies", "default"]


async def test_retry_after_a_crash_between_row_and_workflow_start_repairs_it(service: Service) -> None:
    from helpers import add_partner

    # The row exists but the workflow never started (the API died in between).
    orphan = add_partner(service.engine, "orphan@example.com")
    retried = await service.signup({"email": "orphan@example.com", "name": "Ada Lovelace"})

    assert retried.status_code == 202 and retried.json()["partner_id"] == orphan.id
    detail = (await service.http.get(f"/partners/{orphan.id}", headers=ALICE)).json()
    assert detail["history"][0]["event"] == "applied"  # live from the now-running workflow


async def test_decisions_conflicts_and_unknowns(service: Service) -> None:
    pid = (await service.signup({"email": "lin@example.com", "name": "Lin"})).json()["partner_id"]
    url = f"/partners/{pid}/decision"

    rejected = await service.http.post(
        url, json={"decision": "reject", "reason": "No audience", "manager": "Alice A."}, headers=ALICE
    )
    again = await service.http.post(url, json={"decision": "approve"}, headers=ALICE)
    unknown = await service.http.post("/partners/nope/decision", json={"decision": "approve"}, headers=ALICE)
    bad_value = await service.http.post(url, json={"decision": "maybe"}, headers=ALICE)

    assert rejected.status_code == 200 and rejected.json()["stage"] == "rejected"
    assert again.status_code == 409 and "already decided" in again.json()["detail"]
    assert (
        unknown.status_code == 404
        and (await service.http.get("/partners/nope", headers=ALICE)).status_code == 404
    )
    assert bad_value.status_code == 422 and bad_value.json()["detail"][0]["loc"] == ["body", "decision"]


async def test_manager_endpoints_need_a_valid_token(service: Service) -> None:
    for method, path in [
        ("GET", "/partners"),
        ("GET", "/partners/x"),
        ("GET", "/outbox"),
        ("POST", "/partners/x/decision"),
    ]:
        missing = await service.http.request(method, path, json={"decision": "approve"})
        wrong = await service.http.request(
            method, path, json={"decision": "approve"}, headers={"Authorization": "Bearer nope"}
        )
        assert missing.status_code == wrong.status_code == 401, path
        assert wrong.json()["detail"] == "invalid manager token"
    bob = await service.http.get("/partners", headers={"Authorization": "Bearer tok-bob"})
    assert bob.status_code == 200


@pytest.mark.parametrize(
    ("sign_args", "message"),
    [
        ({"secret": "wrong"}, "signature does not match the body"),
        ({"timestamp": -301}, "more than 300 s from now"),
        ({"timestamp": +400}, "more than 300 s from now"),
    ],
)
async def test_bad_signatures_are_refused(service: Service, sign_args: dict[str, Any], message: str) -> None:
    if "timestamp" in sign_args:  # an offset from now, taken when the test runs (not when collected)
        sign_args = {"timestamp": int(time.time()) + sign_args["timestamp"]}
    response = await service.signup({"email": "eve@example.com", "name": "Eve"}, **sign_args)
    assert response.status_code == 401 and message in response.json()["detail"]
    assert (await service.http.get("/partners", headers=ALICE)).json()["items"] == []


async def test_missing_or_malformed_signature_header(service: Service) -> None:
    body = b'{"email": "eve@example.com", "name": "Eve"}'
    missing = await service.http.post("/webhooks/partner-signup", content=body)
    malformed = await service.http.post(
        "/webhooks/partner-signup", content=body, headers={"Partnerflow-Signature": "v1=abc"}
    )
    tampered_header = signing.sign(WEBHOOK_SECRET, body)
    tampered = await service.http.post(
        "/webhooks/partner-signup",
        content=body.replace(b"Eve", b"Mallory"),
        headers={"Partnerflow-Signature": tampered_header},
    )
    assert missing.status_code == 401 and "missing Partnerflow-Signature" in missing.json()["detail"]
    assert malformed.status_code == 401 and "malformed" in malformed.json()["detail"]
    assert tampered.status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "No Email"}, "email"),
        ({"email": "not-an-address", "name": "X"}, "email"),
        ({"email": "x@example.com"}, "name"),
        ({"email": "x@example.com", "name": "   "}, "name"),
        ({"email": "x@example.com", "name": "X", "locale": "es"}, "locale"),
        ({"email": "x@example.com", "name": "X", "program": "has spaces"}, "program"),
    ],
)
async def test_invalid_bodies_get_422_naming_the_field(
    service: Service, payload: dict[str, Any], field: str
) -> None:
    response = await service.signup(payload)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [["body", field]]


async def test_non_json_body_gets_422(service: Service) -> None:
    response = await service.signup(b"email=x@example.com")
    assert response.status_code == 422 and "not valid JSON" in response.json()["detail"][0]["msg"]


async def test_health_and_docs(service: Service) -> None:
    health = await service.http.get("/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok", "temporal": "ok", "database": "ok"}
    docs = await service.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = (await service.http.get("/openapi.json")).json()
    assert "/webhooks/partner-signup" in spec["paths"] and "/partners/{partner_id}/decision" in spec["paths"]


async def test_health_names_a_dead_database(tmp_path: Path, dev_env: WorkflowEnvironment) -> None:
    settings = make_settings(tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    app = create_app(settings, temporal=dev_env.client)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as http,
    ):
        response = await http.get("/healthz")
    assert response.status_code == 503
    assert response.json()["temporal"] == "ok" and response.json()["database"].startswith("down")
