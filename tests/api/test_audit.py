"""The audit trail over HTTP: a partner's as JSON, a program's as CSV (real app, worker, dev server)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import eventually_async
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.routes.audit import safe_cell
from partnerflow.rendering.tokens import make_portal_token


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def audited_partner(service: Service) -> str:
    """Approved by alice, terms published by alice with a hostile title, accepted from a browser,
    the welcome kit marked done by hand."""
    pid = await service.approved_partner("ada@example.com")
    terms = {"title": '=HYPERLINK("http://evil")', "body_markdown": "Be nice."}
    assert (await service.http.post("/programs/default/terms", json=terms, headers=ALICE)).status_code == 201
    token = make_portal_token(service.settings.portal_signing_key, pid)
    accepted = await service.http.post(
        f"/portal/{token}/terms/accept",
        json={},
        headers={"User-Agent": "-Mozilla/5.0 (evil)", "X-Forwarded-For": "203.0.113.7"},
    )
    assert accepted.status_code == 200, accepted.text
    marked = await service.http.post(
        f"/partners/{pid}/checklist", json={"item": "kit_delivered", "note": "handed over"}, headers=ALICE
    )
    assert marked.status_code == 200, marked.text
    return pid


async def test_a_partners_trail_names_who_did_what_and_when(service: Service) -> None:
    pid = await audited_partner(service)

    async def trail() -> dict | None:  # type: ignore[type-arg]
        body = (await service.http.get(f"/partners/{pid}/audit", headers=ALICE)).json()
        kinds = {item["kind"] for item in body["items"]}
        return body if {"message", "manager_action", "terms_acceptance"} <= kinds else None

    body = await eventually_async(trail, timeout=20)
    items = body["items"]
    assert body["partner_id"] == pid and body["timeline"] is True
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    decision = next(i for i in items if i["kind"] == "decision")
    assert (decision["actor"], decision["summary"], decision["source"]) == (
        "alice",
        "Application approved",
        "store",
    )
    accepted = next(i for i in items if i["kind"] == "terms_acceptance")
    assert (accepted["ip"], accepted["user_agent"], accepted["actor"]) == (
        "203.0.113.7",
        "-Mozilla/5.0 (evil)",
        "partner",
    )
    marked = next(i for i in items if i["kind"] == "manager_action" and "kit_delivered" in i["detail"])
    assert marked["actor"] == "alice" and marked["source"] == "workflow"
    assert any(i["kind"] == "application" and i["actor"] == "applicant" for i in items)
    assert any(
        i["kind"] == "system" and i["summary"] == "Stage changed to" and i["detail"] == "onboarding"
        for i in items
    )
    assert any(i["kind"] == "message" and "welcome" in i["summary"] for i in items)

    assert (await service.http.get("/partners/nobody/audit", headers=ALICE)).status_code == 404
    assert (await service.http.get(f"/partners/{pid}/audit")).status_code == 401


async def test_the_programs_trail_as_csv_for_a_period(service: Service) -> None:
    pid = await audited_partner(service)
    today = datetime.now(UTC).date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}

    async def export() -> list[dict[str, str]] | None:
        response = await service.http.get("/programs/default/audit.csv", params=period, headers=ALICE)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        return (
            rows if any(r["kind"] == "manager_action" and r["source"] == "workflow" for r in rows) else None
        )

    rows = await eventually_async(export, timeout=20)
    assert {r["partner_id"] for r in rows} == {pid, ""}  # "": the program's own changes
    assert all(r["partner_email"] == "ada@example.com" for r in rows if r["partner_id"])
    published = next(r for r in rows if r["summary"].startswith("Terms version"))
    assert published["actor"] == "alice" and published["detail"] == '\'=HYPERLINK("http://evil")'
    accepted = next(r for r in rows if r["kind"] == "terms_acceptance")
    assert accepted["user_agent"] == "'-Mozilla/5.0 (evil)" and accepted["ip"] == "203.0.113.7"

    earlier = {"from": "2020-01-01", "to": "2020-02-01"}
    empty = await service.http.get("/programs/default/audit.csv", params=earlier, headers=ALICE)
    assert empty.text.splitlines() == [",".join(("at", "partner_id", "partner_email", "kind", "actor", "summary",
                                                 "detail", "ip", "user_agent", "source"))]  # fmt: skip


async def test_bad_periods_and_unknown_programs_are_refused(service: Service) -> None:
    await service.approved_partner("ada@example.com")
    for period in ({"from": "2026-02-01", "to": "2026-01-01"}, {"from": "yesterday"}, {"to": "2026-13-01"}):
        response = await service.http.get("/programs/default/audit.csv", params=period, headers=ALICE)
        assert response.status_code == 422, period
        [error] = response.json()["detail"]  # a 422 naming the parameter, like FastAPI's own
        assert error["loc"][0] == "query" and error["loc"][1] in period, error
    assert (await service.http.get("/programs/nope/audit.csv", headers=ALICE)).status_code == 404


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+33 1", "'+33 1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
     ("a=b", "a=b"), ("", ""), (None, "")],
)  # fmt: skip
def test_cells_a_spreadsheet_would_run_start_with_a_quote(value: str | None, cell: str) -> None:
    assert safe_cell(value) == cell
