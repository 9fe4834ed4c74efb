"""Approval rules over HTTP: PUT/GET, precise 422s, 401, and a rule deciding a real signup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually_async
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner

RULES: dict[str, Any] = {
    "rules": [
        {"name": "throwaway", "if": {"disposable_email": True}, "then": "reject", "reason": "disposable"},
        {"name": "EU agencies", "if": {"email_domain_in": ["@Agency.EU"], "country_in": ["fr", "DE"],
         "website_required": True}, "then": "approve", "delay": "pt2h"},
        {"name": "outside", "if": {"country_not_in": ["US"]}, "then": "reject", "reason": "US only",
         "share_reason": True},
    ]
}  # fmt: skip


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def test_rules_are_stored_normalised_and_read_back(service: Service) -> None:
    http = service.http
    assert (await http.get("/programs/acme/approval-rules", headers=ALICE)).json() == {"rules": []}

    stored = await http.put("/programs/acme/approval-rules", json=RULES, headers=ALICE)

    assert stored.status_code == 200, stored.text
    agencies = stored.json()["rules"][1]
    assert agencies == {
        "name": "EU agencies",
        "if": {"email_domain_in": ["agency.eu"], "country_in": ["FR", "DE"], "website_required": True},
        "then": "approve",
        "share_reason": False,
        "delay": "PT2H",
    }
    assert (await http.get("/programs/acme/approval-rules", headers=ALICE)).json() == stored.json()
    assert (await http.get("/programs/other/approval-rules", headers=ALICE)).json() == {"rules": []}
    cleared = await http.put("/programs/acme/approval-rules", json={"rules": []}, headers=ALICE)
    assert cleared.json() == {"rules": []}


@pytest.mark.parametrize(
    "rule, loc, message",
    [
        (
            {"name": "a", "if": {"domain_in": ["x.com"]}, "then": "approve"},
            ["if"],
            "unknown condition 'domain_in'",
        ),
        ({"name": "a", "then": "approve", "delay": "2 hours"}, ["delay"], "not an ISO 8601 duration"),
        ({"name": "a", "then": "approve", "delay": "P1M"}, ["delay"], "years and months"),
        ({"name": "a", "then": "accept"}, ["then"], "'approve' or 'reject'"),
        (
            {"name": "a", "if": {"country_in": ["EU"]}, "then": "reject"},
            ["if", "country_in", 0],
            "ISO 3166-1",
        ),
        ({"if": {}, "then": "reject"}, ["name"], "Field required"),
    ],
    ids=["unknown-condition", "bad-delay", "months", "bad-then", "bad-country", "no-name"],
)
async def test_an_invalid_rule_is_a_422_naming_the_field(
    service: Service, rule: dict[str, Any], loc: list[Any], message: str
) -> None:
    response = await service.http.put("/programs/acme/approval-rules", json={"rules": [rule]}, headers=ALICE)

    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "rules", 0, *loc] and message in error["msg"], error


async def test_rules_need_a_manager_token(service: Service) -> None:
    assert (await service.http.get("/programs/acme/approval-rules")).status_code == 401
    assert (await service.http.put("/programs/acme/approval-rules", json=RULES)).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert (
        await service.http.put("/programs/acme/approval-rules", json=RULES, headers=bad)
    ).status_code == 401


async def test_a_rule_decides_a_signup_from_its_country(service: Service) -> None:
    await service.http.put("/programs/default/approval-rules", json=RULES, headers=ALICE)

    response = await service.signup({"email": "ada@example.org", "name": "Ada", "country": "pl"})
    assert response.status_code == 202, response.text
    pid = response.json()["partner_id"]

    async def rejected() -> dict[str, Any] | None:
        detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
        return detail if detail["stage"] == "rejected" else None

    detail = await eventually_async(rejected)
    assert ("rejected", "by rule:outside: US only") in [(h["event"], h["detail"]) for h in detail["history"]]
    with session_scope(service.engine) as session:
        partner, application = session.get(Partner, pid), session.get(Application, pid)
    assert partner is not None and partner.country == "PL"
    assert application is not None and application.decided_by == "rule:outside"
    late = await service.http.post(f"/partners/{pid}/decision", json={"decision": "approve"}, headers=ALICE)
    assert late.status_code == 409
    bad_country = await service.signup({"email": "bob@example.org", "name": "Bob", "country": "Poland"})
    assert bad_country.status_code == 422 and bad_country.json()["detail"][0]["loc"] == ["body", "country"]
