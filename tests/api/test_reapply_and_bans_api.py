"""Reapplying after a rejection, and bans, over HTTP on the dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import eventually, eventually_async, messages
from service import ALICE, Service, running_service
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.signup import SignupPayload
from partnerflow.store.approvals import reopen_application
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner

PROGRAM = {"name": "Default", "landing_url": "https://acme.example/partners"}


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


@pytest.fixture
def client(dev_env: WorkflowEnvironment) -> Client:
    return dev_env.client


def handle(client: Client, pid: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(workflow_id_for(pid))


async def detail(service: Service, pid: str) -> dict[str, Any]:
    return dict((await service.http.get(f"/partners/{pid}", headers=ALICE)).json())


async def stage_is(service: Service, pid: str, stage: str) -> None:
    async def reached() -> bool:
        return (await detail(service, pid))["stage"] == stage

    await eventually_async(reached)


async def rejected_partner(service: Service, email: str) -> str:
    response = await service.signup({"email": email, "name": "Ada"})
    pid = str(response.json()["partner_id"])
    body = {"decision": "reject", "reason": "no audience yet"}
    assert (await service.http.post(f"/partners/{pid}/decision", json=body, headers=ALICE)).status_code == 200
    await eventually(lambda: any(m.template == "rejection" for m in messages(service.engine, partner_id=pid)))
    return pid


async def test_a_rejected_applicant_reapplies_after_the_period_in_the_same_history(service: Service) -> None:
    http = service.http
    pid = await rejected_partner(service, "ada@example.com")
    decided_at = await eventually(lambda: application(service, pid).decided_at)

    too_soon = await service.signup({"email": "ada@example.com", "name": "Ada"})

    assert too_soon.status_code == 200
    assert too_soon.json()["partner_id"] == pid and too_soon.json()["status"] == "rejected"
    assert datetime.fromisoformat(too_soon.json()["reapply_after"]) == decided_at + timedelta(days=30)

    program = await http.put("/programs/default", json={**PROGRAM, "reapply_after_days": 0}, headers=ALICE)
    assert program.status_code == 200 and program.json()["reapply_after_days"] == 0
    assert (
        await http.put("/programs/default", json={**PROGRAM, "reapply_after_days": -1}, headers=ALICE)
    ).status_code == 422

    async def reapplied() -> Any:
        answer = await service.signup(
            {"email": "ada@example.com", "name": "Ada L.", "website": "https://ada.dev"}
        )
        return answer if answer.status_code == 202 else None  # 200 while the rejected run is finishing

    again = await eventually_async(reapplied)
    assert again.json() == {"partner_id": pid, "workflow_id": workflow_id_for(pid), "status": "applied"}
    repeat = await service.signup({"email": "ada@example.com", "name": "Ada L."})
    assert repeat.status_code == 200 and repeat.json()["status"] == "applied"

    await stage_is(service, pid, "applied")
    approve = await http.post(f"/partners/{pid}/decision", json={"decision": "approve"}, headers=ALICE)
    assert approve.status_code == 200 and approve.json()["stage"] == "onboarding"
    events = [(h["event"], h["detail"]) for h in (await detail(service, pid))["history"]]
    names = [event for event, _ in events]
    assert names.index("rejected") < names.index("reapplied") < names.index("approved")
    assert ("rejected", "by alice: no audience yet") in events and names.count("applied") == 1
    row = application(service, pid)
    assert (row.attempt, row.status, row.decided_by) == (2, "approved", "alice")
    keys = {m.idempotency_key for m in messages(service.engine, partner_id=pid)}
    assert {f"partner:{pid}:application-received", f"partner:{pid}:application-received:attempt-2"} <= keys
    assert f"partner:{pid}:slack:application-submitted:attempt-2" in keys


def application(service: Service, pid: str) -> Application:
    with session_scope(service.engine) as session:
        row = session.get(Application, pid)
        assert row is not None
        return row


async def test_banning_an_active_partner_offboards_them_and_they_can_never_apply_again(
    service: Service, client: Client
) -> None:
    http = service.http
    pid = await service.approved_partner("mallory@example.com")
    for item in ("terms_accepted", "webinar_attended"):
        body = {"item": item, "waive": item == "webinar_attended"}
        assert (await http.post(f"/partners/{pid}/checklist", json=body, headers=ALICE)).status_code == 200
    await stage_is(service, pid, "active")
    run_id = (await handle(client, pid).describe()).run_id

    banned = await http.post(f"/partners/{pid}/ban", json={"reason": "cookie stuffing"}, headers=ALICE)

    assert banned.status_code == 200, banned.text
    assert banned.json() == {
        "partner_id": pid,
        "email": "mallory@example.com",
        "stage": "offboarded",
        "action": "offboarded",
    }
    await eventually(lambda: any(m.template == "farewell" for m in messages(service.engine, partner_id=pid)))
    await stage_is(service, pid, "offboarded")
    signup = await service.signup({"email": " Mallory@Example.com ", "name": "M"})
    assert signup.status_code == 200
    assert signup.json() == {"partner_id": pid, "workflow_id": workflow_id_for(pid), "status": "rejected"}
    assert (await handle(client, pid).describe()).run_id == run_id  # nothing started
    bans = (await http.get("/programs/default/bans", headers=ALICE)).json()["bans"]
    assert [(b["email"], b["reason"], b["banned_by"], b["attempts"]) for b in bans] == [
        ("mallory@example.com", "cookie stuffing", "alice", 1)
    ]
    assert (await http.post("/partners/nobody/ban", json={"reason": "x"}, headers=ALICE)).status_code == 404
    assert (await http.post(f"/partners/{pid}/ban", json={"reason": ""}, headers=ALICE)).status_code == 422
    assert (await http.post(f"/partners/{pid}/ban", json={"reason": "x"})).status_code == 401


async def test_program_bans_reject_pending_applicants_and_turn_away_new_ones(
    service: Service, client: Client
) -> None:
    http = service.http
    pending = (await service.signup({"email": "eve@example.com", "name": "Eve"})).json()["partner_id"]
    body = {"bans": [{"email": "EVE@example.com", "reason": "fraud ring"}, {"email": "trent@example.com"}]}

    stored = await http.put("/programs/default/bans", json=body, headers=ALICE)

    assert stored.status_code == 200, stored.text
    assert [b["email"] for b in stored.json()["bans"]] == ["eve@example.com", "trent@example.com"]
    assert stored.json()["actions"] == [
        {"partner_id": pending, "email": "eve@example.com", "stage": "rejected", "action": "rejected"}
    ]
    rejection = await eventually(
        lambda: [m for m in messages(service.engine, partner_id=pending) if m.template == "rejection"]
    )
    assert "fraud" not in rejection[0].body_text and "ban" not in rejection[0].body_text.lower()

    turned_away = await service.signup({"email": "trent@example.com", "name": "Trent"})
    assert turned_away.status_code == 200 and turned_away.json()["status"] == "rejected"
    assert "reapply_after" not in turned_away.json()
    with pytest.raises(RPCError):  # no workflow was started for them
        await handle(client, turned_away.json()["partner_id"]).describe()
    assert messages(service.engine, partner_id=turned_away.json()["partner_id"]) == []

    lifted = await http.put("/programs/default/bans", json={"bans": [body["bans"][0]]}, headers=ALICE)
    assert [b["email"] for b in lifted.json()["bans"]] == ["eve@example.com"] and lifted.json()[
        "actions"
    ] == []
    welcome_back = await service.signup({"email": "trent@example.com", "name": "Trent"})
    assert welcome_back.status_code == 202 and welcome_back.json()["status"] == "applied"
    assert (
        await http.put("/programs/default/bans", json={"bans": [{"email": "nope"}]}, headers=ALICE)
    ).status_code == 422


async def test_a_reapplication_cut_short_before_its_run_started_is_repaired_by_the_retry(
    service: Service, client: Client
) -> None:
    pid = await rejected_partner(service, "grace@example.com")

    async def closed() -> bool:
        return (await handle(client, pid).describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually_async(closed)
    with session_scope(service.engine) as session:  # the reopening committed, then the process died
        partner = session.get(Partner, pid)
        assert partner is not None
        again = SignupPayload.model_validate({"email": "grace@example.com", "name": "Grace"})
        assert reopen_application(session, partner, again, attempt=2)

    retry = await service.signup({"email": "grace@example.com", "name": "Grace"})

    assert retry.status_code == 202 and retry.json()["status"] == "applied"
    await stage_is(service, pid, "applied")
    names = [h["event"] for h in (await detail(service, pid))["history"]]
    assert names.index("rejected") < names.index("reapplied")
    assert (await service.signup({"email": "grace@example.com", "name": "Grace"})).status_code == 200
