"""POST /events, tiers, ingestion keys and the KPI endpoints on the real app and dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually_async
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.store.db import session_scope
from partnerflow.store.models import TrackingLink, utcnow


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


START = datetime(2026, 3, 1, tzinfo=UTC)  # KPI period [START, START + 10 days)
PERIOD = {"from": "2026-03-01", "to": "2026-03-11"}


def event(event_id: str, partner_id: str, kind: str, at: datetime, amount: float | None = None,
          currency: str | None = "USD") -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {
        "event_id": event_id,
        "partner_id": partner_id,
        "type": kind,
        "occurred_at": at.isoformat(),
    }
    if amount is not None:
        body |= {"amount": amount, "currency": currency}
    return body


async def post(
    service: Service, events: list[dict[str, Any]], headers: dict[str, str] = ALICE
) -> dict[str, Any]:
    response = await service.http.post("/events", json={"events": events}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_same_event_twice_is_stored_once(service: Service) -> None:
    pid = await service.approved_partner("twice@example.com")
    sale = event("order-1", pid, "conversion", START, 80.0)

    first = await post(service, [sale, sale])
    second = await post(service, [sale, event("click-1", pid, "click", START)])

    assert first == {"accepted": 1, "duplicates": 1, "errors": []}
    assert second == {"accepted": 1, "duplicates": 1, "errors": []}
    kpis = (await service.http.get(f"/partners/{pid}/kpis", params=PERIOD, headers=ALICE)).json()
    assert (kpis["conversions"], kpis["revenue"], kpis["clicks"]) == (1, 80.0, 1)


async def test_a_bad_item_never_drops_its_neighbours(service: Service) -> None:
    pid = await service.approved_partner("batch@example.com")
    future = utcnow() + timedelta(minutes=10)

    result = await post(
        service,
        [
            event("ok-1", pid, "click", START),
            {**event("naive", pid, "click", START), "occurred_at": "2026-03-01T10:00:00"},
            event("no-amount", pid, "conversion", START),
            event("click-amount", pid, "click", START, 5.0),
            event("ghost", "nobody", "click", START),
            event("future", pid, "lead", future),
            "not an event",
            {**event("", pid, "click", START), "type": "purchase"},
            event("no-currency", pid, "refund", START, 5.0, currency=None),
            event("ok-2", pid, "conversion", START, 49.99),
        ],
    )

    assert result["accepted"] == 2 and result["duplicates"] == 0
    errors = {item["index"]: item["detail"] for item in result["errors"]}
    assert sorted(errors) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert "occurred_at" in errors[1] and "UTC offset" in errors[1]
    assert errors[2] == "a conversion needs an amount > 0"
    assert errors[3] == "a click carries no amount (got 5.0)"
    assert errors[4] == "unknown partner 'nobody'"
    assert "more than 5 minutes in the future" in errors[5]
    assert errors[6] == "each event must be a JSON object"
    assert "event_id" in errors[7] and "type" in errors[7]
    assert errors[8] == "currency is required with an amount"
    kpis = (await service.http.get(f"/partners/{pid}/kpis", params=PERIOD, headers=ALICE)).json()
    assert (kpis["clicks"], kpis["leads"], kpis["conversions"], kpis["revenue"]) == (1, 0, 1, 49.99)


async def test_credentials_manager_token_or_program_ingestion_key(service: Service) -> None:
    alpha = await service.approved_partner("alpha@example.com", program="alpha")
    beta = await service.approved_partner("beta@example.com", program="beta")
    issued = await service.http.post("/programs/alpha/ingestion-key", headers=ALICE)
    assert issued.status_code == 201 and issued.json()["program"] == "alpha"
    key = issued.json()["ingestion_key"]
    body = {"events": [event("a-1", alpha, "click", START), event("b-1", beta, "click", START)]}

    unauthenticated = await service.http.post("/events", json=body)
    wrong_bearer = await service.http.post("/events", json=body, headers={"Authorization": "Bearer nope"})
    wrong_key = await service.http.post("/events", json=body, headers={"X-Partnerflow-Key": key + "x"})
    unknown_bad_json = await service.http.post("/events", content=b"{", headers={"X-Partnerflow-Key": "x"})
    with_key = await post(service, body["events"], headers={"X-Partnerflow-Key": key})
    as_bearer = await post(
        service, [event("a-2", alpha, "click", START)], headers={"Authorization": f"Bearer {key}"}
    )
    as_manager = await post(service, body["events"])

    assert unauthenticated.status_code == wrong_bearer.status_code == wrong_key.status_code == 401
    assert unknown_bad_json.status_code == 401
    assert with_key == {
        "accepted": 1,
        "duplicates": 0,
        "errors": [{"index": 1, "detail": f"partner {beta} is not in program alpha"}],
    }
    assert as_bearer["accepted"] == 1
    assert as_manager == {"accepted": 1, "duplicates": 1, "errors": []}  # a manager may send any partner's

    rotated = (await service.http.post("/programs/alpha/ingestion-key", headers=ALICE)).json()[
        "ingestion_key"
    ]
    old = await service.http.post("/events", json=body, headers={"X-Partnerflow-Key": key})
    assert rotated != key and old.status_code == 401
    assert (await service.http.post("/programs/alpha/ingestion-key")).status_code == 401


async def test_a_body_that_is_not_a_list_of_events_is_422(service: Service) -> None:
    async def send(content: bytes) -> tuple[int, str]:
        response = await service.http.post("/events", content=content, headers=ALICE)
        [error] = response.json()["detail"]  # a 422 names where: the body as a whole
        assert error["loc"] == ["body"]
        return response.status_code, str(error["msg"])

    bad_json = await send(b'{"events": [}')
    a_list = await send(b"[]")
    no_events = await send(b'{"event": []}')
    not_a_list = await send(b'{"events": {"event_id": "x"}}')
    too_many = await send(b'{"events": [' + b",".join([b"{}"] * 1001) + b"]}")

    assert bad_json[0] == 422 and bad_json[1].startswith("body is not valid JSON: ")
    assert a_list == no_events == (422, 'body must be a JSON object {"events": [...]}')
    assert not_a_list == (422, '"events" must be a list, got dict')
    assert too_many == (422, "at most 1000 events per request, got 1001; split the batch")
    assert await post(service, []) == {"accepted": 0, "duplicates": 0, "errors": []}


async def test_amounts_in_another_currency_are_refused(service: Service) -> None:
    pid = await service.approved_partner("euro@example.com", program="euro")
    program = await service.http.put(
        "/programs/euro",
        json={
            "name": "Euro partners",
            "landing_url": "https://eu.example",
            "currency": "EUR",
            "monthly_costs": 90,
        },
        headers=ALICE,
    )
    assert program.status_code == 200
    assert program.json() == {
        "program": "euro", "name": "Euro partners", "landing_url": "https://eu.example/", "currency": "EUR",
        "monthly_costs": 90.0, "reapply_after_days": 30, "has_ingestion_key": False,
    }  # fmt: skip

    result = await post(
        service,
        [
            event("usd", pid, "conversion", START, 10.0, "USD"),
            event("eur", pid, "conversion", START, 10.0, "eur"),
        ],
    )

    assert result["accepted"] == 1
    assert result["errors"] == [
        {"index": 0, "detail": "currency USD does not match program euro's currency EUR; "
                               "send amounts in the program's currency"}
    ]  # fmt: skip
    change = await service.http.put(
        "/programs/euro",
        json={"name": "E", "landing_url": "https://eu.example", "currency": "USD"},
        headers=ALICE,
    )
    bad = await service.http.put(
        "/programs/euro",
        json={"name": "E", "landing_url": "https://eu.example", "currency": "eu"},
        headers=ALICE,
    )
    assert change.status_code == 409 and "EUR" in change.json()["detail"] and "USD" in change.json()["detail"]
    assert bad.status_code == 422


async def test_tiers_are_validated_and_replace_the_defaults(service: Service) -> None:
    defaults = await service.http.get("/programs/tiered/tiers", headers=ALICE)
    assert [t["name"] for t in defaults.json()] == ["bronze", "silver", "gold"]

    tiers = [
        {"name": "pro", "rank": 1, "commission_rate": 0.25, "min_revenue": 1000, "min_conversions": 10},
        {"name": "starter", "rank": 0, "commission_rate": 0.05},
    ]
    saved = await service.http.put("/programs/tiered/tiers", json=tiers, headers=ALICE)
    no_entry = await service.http.put("/programs/tiered/tiers", json=tiers[:1], headers=ALICE)
    same_rank = await service.http.put(
        "/programs/tiered/tiers", json=[tiers[1], {**tiers[0], "rank": 0}], headers=ALICE
    )
    bad_rate = await service.http.put(
        "/programs/tiered/tiers", json=[{**tiers[1], "commission_rate": 1.5}], headers=ALICE
    )

    assert saved.status_code == 200
    assert saved.json() == [
        {"name": "starter", "rank": 0, "commission_rate": 0.05, "min_revenue": 0.0, "min_conversions": 0},
        {"name": "pro", "rank": 1, "commission_rate": 0.25, "min_revenue": 1000.0, "min_conversions": 10},
    ]
    assert (await service.http.get("/programs/tiered/tiers", headers=ALICE)).json() == saved.json()
    assert no_entry.status_code == same_rank.status_code == bad_rate.status_code == 422
    assert (
        "rank 0" in no_entry.json()["detail"][0]["msg"] and "unique" in same_rank.json()["detail"][0]["msg"]
    )


async def test_partner_and_program_kpis_from_known_events(service: Service) -> None:
    seller = await service.approved_partner("seller@example.com", program="shop")
    quiet = await service.approved_partner("quiet@example.com", program="shop")
    await service.http.put(
        "/programs/shop", json={"name": "Shop", "landing_url": "https://shop.example", "monthly_costs": 300},
        headers=ALICE,
    )  # fmt: skip
    tiers = [
        {"name": "starter", "rank": 0, "commission_rate": 0.15},
        {"name": "pro", "rank": 1, "commission_rate": 0.3},
    ]
    assert (await service.http.put("/programs/shop/tiers", json=tiers, headers=ALICE)).status_code == 200
    day = timedelta(days=1)
    now_events = [event(f"c{i}", seller, "click", START + day * (i % 10)) for i in range(199)]
    now_events += [
        event("q-click", quiet, "click", START + 9 * day),
        event("q-refund", quiet, "refund", START, 100.0),
    ]
    now_events += [event(f"s{i}", seller, "conversion", START + i * day, 100.0) for i in range(10)]
    now_events += [event("r1", seller, "refund", START + 2 * day, 100.0)]
    before_events = [event(f"old-c{i}", seller, "click", START - day) for i in range(100)]
    before_events += [event(f"old-s{i}", seller, "conversion", START - 10 * day, 100.0) for i in range(4)]
    late = [event("late", seller, "conversion", START + 10 * day, 5000.0)]  # the period's end is excluded
    assert (await post(service, now_events + before_events + late))["accepted"] == 317

    partner = await service.http.get(f"/partners/{seller}/kpis", params=PERIOD, headers=ALICE)
    program = await service.http.get("/programs/shop/kpis", params=PERIOD, headers=ALICE)

    assert partner.status_code == 200
    numbers = partner.json()
    assert numbers["from"] == "2026-03-01T00:00:00Z" and numbers["to"] == "2026-03-11T00:00:00Z"
    assert {k: numbers[k] for k in ("tier", "commission_rate", "currency", "program")} == {
        "tier": "starter", "commission_rate": 0.15, "currency": "USD", "program": "shop"
    }  # fmt: skip
    assert {k: numbers[k] for k in ("clicks", "leads", "conversions", "refunds", "revenue", "commission")} == {
        "clicks": 199, "leads": 0, "conversions": 10, "refunds": 1, "revenue": 900.0, "commission": 135.0
    }  # fmt: skip
    assert (numbers["conversion_rate"], numbers["epc"], numbers["roi"]) == (0.0503, 0.6784, 5.6667)
    assert numbers["trend"]["clicks"] == 99.0 and numbers["trend"]["revenue"] == 125.0  # vs 100 clicks, 400

    assert program.status_code == 200
    whole = program.json()
    # commission is owed per partner: the quiet partner's refund lowers revenue, not the seller's due
    assert (whole["revenue"], whole["commission"], whole["costs"]) == (800.0, 135.0, 100.0)
    assert (whole["clicks"], whole["conversion_rate"], whole["epc"]) == (200, 0.05, 0.675)
    assert whole["roi"] == 2.4043  # (800 - 135 - 100) / (135 + 100)
    assert whole["partners"] == 2 and whole["segments"] == {"top": 1, "middle": 0, "long_tail": 1}
    assert whole["trend"]["commission"] == 125.0  # 60 -> 135

    get = service.http.get
    assert (await get("/partners/nobody/kpis", headers=ALICE)).status_code == 404
    assert (await get("/programs/nothing/kpis", headers=ALICE)).status_code == 404
    assert (await get(f"/partners/{seller}/kpis", headers=ALICE)).status_code == 200  # last 30 days
    assert (await get(f"/partners/{seller}/kpis", params={"from": "2026-03-11", "to": "2026-03-01"},
                      headers=ALICE)).status_code == 422  # fmt: skip
    assert (await get(f"/partners/{seller}/kpis", params={"from": "March"}, headers=ALICE)).status_code == 422
    assert (await get(f"/partners/{seller}/kpis", params=PERIOD)).status_code == 401


async def test_a_click_through_the_tracking_link_counts_in_kpis(service: Service) -> None:
    pid = await service.approved_partner("clicker@example.com")
    with session_scope(service.engine) as session:
        session.add(TrackingLink(code="kpi123", partner_id=pid, program="default"))

    assert (await service.http.get("/r/kpi123", follow_redirects=False)).status_code == 302

    async def clicks() -> int:
        response = await service.http.get(f"/partners/{pid}/kpis", headers=ALICE)
        return int(response.json()["clicks"])

    assert await eventually_async(clicks) == 1
