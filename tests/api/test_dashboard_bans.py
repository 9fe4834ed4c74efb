"""Bans in the dashboard: CSRF-checked forms on the real app, validated by the API's own models,
stored where ``GET /programs/{program}/bans`` reads them, stopping partners as the API does, and
turning away the signups the webhook receives."""

from __future__ import annotations

import html
from typing import Any

import pytest
from dashboard_client import Browser
from helpers import eventually, eventually_async, messages
from service import ALICE, Service
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.lifecycle import workflow_id_for

PAGE = "/dashboard/programs/default/bans"


async def api_bans(service: Service) -> list[tuple[str, str, str, int]]:
    bans = (await service.http.get("/programs/default/bans", headers=ALICE)).json()["bans"]
    return [(b["email"], b["reason"], b["banned_by"], b["attempts"]) for b in bans]


async def stage(service: Service, pid: str) -> str:
    return str((await service.http.get(f"/partners/{pid}", headers=ALICE)).json()["stage"])


async def test_ban_an_email_then_its_signups_start_nothing_until_the_ban_is_lifted(
    service: Service, alice: Browser, dev_env: WorkflowEnvironment
) -> None:
    assert "No banned emails: anyone may apply." in await alice.page(PAGE)
    assert (await alice.post(PAGE, csrf=False, email="trent@example.com")).status_code == 403
    refused = await alice.post(PAGE, email="trent-at-example.com", reason="fraud ring")
    assert refused.status_code == 422
    page = html.unescape(refused.text)
    assert 'id="email-error"' in page and "not a valid email address" in page and "@-sign" in page
    assert 'value="trent-at-example.com"' in page and 'value="fraud ring"' in page  # input kept
    assert 'href="#email"' in page and 'aria-invalid="true"' in page  # the summary links to the field
    too_long = await alice.post(PAGE, email="trent@example.com", reason="x" * 1001)
    assert too_long.status_code == 422 and "at most 1000 characters" in too_long.text
    assert await api_bans(service) == []

    kind, message, page = await alice.submit(PAGE, email=" Trent@Example.com ", reason="fraud ring")

    assert (kind, message) == ("success", "Banned trent@example.com: a signup from it starts nothing.")
    assert await api_bans(service) == [("trent@example.com", "fraud ring", "alice", 0)]
    again = await alice.post(PAGE, email="trent@example.com", reason="other")
    assert again.status_code == 409 and "banned already (by alice" in again.text
    assert await api_bans(service) == [("trent@example.com", "fraud ring", "alice", 0)]
    turned_away = await service.signup({"email": "trent@example.com", "name": "Trent"})
    assert turned_away.status_code == 200 and turned_away.json()["status"] == "rejected"
    with pytest.raises(RPCError):  # no workflow was started
        await dev_env.client.get_workflow_handle(workflow_id_for(turned_away.json()["partner_id"])).describe()
    row = html.unescape(await alice.page(PAGE)).split('id="ban-1"')[1].split("</tr>")[0]
    assert "trent@example.com" in row and "fraud ring" in row and "alice" in row and ">1 <" in row

    lift = f"{PAGE}/lift?email=trent%40example.com"
    assert "I understand: trent@example.com may apply again" in await alice.page(lift)
    unconfirmed = await alice.post(f"{PAGE}/lift", email="trent@example.com")
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.text
    assert len(await api_bans(service)) == 1
    kind, message, page = await alice.submit(f"{PAGE}/lift", email="trent@example.com", confirm="yes")
    assert (kind, message) == ("success", "Lifted the ban of trent@example.com: signups from it are no longer turned away.")  # fmt: skip
    assert await api_bans(service) == [] and "No banned emails" in page
    kind, message, _ = await alice.submit(f"{PAGE}/lift", email="trent@example.com", confirm="yes")
    assert (kind, message) == ("error", "trent@example.com is not banned; nothing changed.")
    welcome_back = await service.signup({"email": "trent@example.com", "name": "Trent"})
    assert welcome_back.status_code == 202 and welcome_back.json()["status"] == "applied"


async def test_banning_a_pending_applicants_email_rejects_them_without_the_reason(
    service: Service, alice: Browser
) -> None:
    pending = (await service.signup({"email": "eve@example.com", "name": "Eve"})).json()["partner_id"]
    await alice.page(PAGE)

    kind, message, _ = await alice.submit(PAGE, email="EVE@example.com", reason="fraud ring")

    assert kind == "success"
    assert message == f"Banned eve@example.com: a signup from it starts nothing; their pending application was rejected ({pending})."  # fmt: skip
    assert await stage(service, pending) == "rejected"
    rejection = await eventually(
        lambda: [m for m in messages(service.engine, partner_id=pending) if m.template == "rejection"]
    )
    assert "fraud" not in rejection[0].body_text and "ban" not in rejection[0].body_text.lower()


async def test_ban_a_partner_from_their_page_offboards_them_as_the_api_does(
    service: Service, alice: Browser
) -> None:
    pid = await service.approved_partner("mallory@example.com")
    page = html.unescape(await alice.page(f"/dashboard/partners/{pid}"))
    assert f'href="/dashboard/partners/{pid}/ban"' in page
    confirm = html.unescape(await alice.page(f"/dashboard/partners/{pid}/ban"))
    assert "They are offboarded: a farewell email" in confirm
    assert "I understand: ban" in confirm and "(mallory@example.com) now" in confirm
    no_reason = await alice.post(f"/dashboard/partners/{pid}/ban", reason="  ", confirm="yes")
    assert no_reason.status_code == 422 and "Give a reason" in no_reason.text
    unticked = await alice.post(f"/dashboard/partners/{pid}/ban", reason="cookie stuffing")
    assert (
        unticked.status_code == 422 and "Tick the box" in unticked.text and "cookie stuffing" in unticked.text
    )
    assert await stage(service, pid) == "onboarding" and await api_bans(service) == []

    kind, message, _ = await alice.submit(
        f"/dashboard/partners/{pid}/ban", reason="cookie stuffing", confirm="yes"
    )

    assert (kind, message) == ("success", "Banned mallory@example.com: they were offboarded; a signup from it starts nothing.")  # fmt: skip
    assert await api_bans(service) == [("mallory@example.com", "cookie stuffing", "alice", 0)]
    assert await stage(service, pid) == "offboarded"
    await eventually(lambda: any(m.template == "farewell" for m in messages(service.engine, partner_id=pid)))

    async def audited() -> Any:
        items = (await service.http.get(f"/partners/{pid}/audit", headers=ALICE)).json()["items"]
        return [
            i for i in items if i["kind"] == "manager_action" and "banned: cookie stuffing" in i["detail"]
        ]

    entry = (await eventually_async(audited))[0]
    assert entry["actor"] == "alice" and entry["source"] == "workflow"
    signup = await service.signup({"email": "mallory@example.com", "name": "M"})
    assert signup.json() == {"partner_id": pid, "workflow_id": workflow_id_for(pid), "status": "rejected"}
