"""Recruitment over HTTP on the dev server: import, campaigns, progress, unsubscribe, signup."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
from conftest import make_settings
from fakes.subscriber import FakeSubscriber
from helpers import eventually, eventually_async, messages, offset_ids
from service import ALICE, Service, running_service
from sqlmodel import select
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner

from partnerflow.activities.recruitment import RecruitmentActivities
from partnerflow.api.routes.prospects import routers
from partnerflow.cli.recruitment import campaigns_app
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.prospects import campaign_workflow_id, outreach_workflow_id
from partnerflow.providers import slack_backend
from partnerflow.providers.email import LocalOutboxEmailBackend
from partnerflow.services.recruitment import on_partner_signup
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import CampaignMember, EmailSuppression, Prospect
from partnerflow.workflows.recruitment import ProspectOutreachWorkflow, RecruitmentCampaignWorkflow

FIXTURES = Path(__file__).parents[1] / "fixtures"
CSV = {"Content-Type": "text/csv", **ALICE}
TWO_STEPS = [
    {"template": "outreach_intro", "delay_days": 0},
    {"template": "outreach_follow_up", "delay_days": 4},
]


@dataclass
class Recruiting:
    service: Service
    env: WorkflowEnvironment

    async def progress(self, campaign_id: int) -> dict[str, Any]:
        response = await self.service.http.get(f"/campaigns/{campaign_id}", headers=ALICE)
        assert response.status_code == 200, response.text
        return dict(response.json()["progress"])


@pytest.fixture
async def recruiting(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Recruiting]:
    settings = make_settings(tmp_path)  # the service's database file; only the task queue differs
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    offset_ids(engine)
    activities = RecruitmentActivities(
        settings, engine, LocalOutboxEmailBackend(settings.outbox_dir), slack_backend(settings)
    )
    async with running_service(
        dev_env, tmp_path, routers=routers,
        extra_workflows=[RecruitmentCampaignWorkflow, ProspectOutreachWorkflow],
        extra_activities=activities.activities(),
    ) as service:  # fmt: skip
        yield Recruiting(service, dev_env)
        with session_scope(engine) as session:  # sequences wait days for their follow-ups: stop them
            members = list(session.exec(select(CampaignMember)))
        ids = {campaign_workflow_id(m.campaign_id) for m in members}
        ids |= {outreach_workflow_id(m.campaign_id, m.prospect_id) for m in members}
        for workflow_id in ids:
            with suppress(RPCError):
                await dev_env.client.get_workflow_handle(workflow_id).terminate("test over")
    engine.dispose()


async def test_import_as_upload_or_csv_body_with_mapping(recruiting: Recruiting) -> None:
    http = recruiting.service.http
    with (FIXTURES / "prospects.csv").open("rb") as handle:
        upload = await http.post(
            "/prospects/import", files={"file": ("p.csv", handle, "text/csv")}, headers=ALICE
        )
    mapped = await http.post(
        "/prospects/import?program=partners-de&map=Kontakt=name&map=Firma=company&map=Sprache=locale",
        content=(FIXTURES / "prospects_custom.csv").read_bytes(), headers=CSV,
    )  # fmt: skip
    again = await http.post(
        "/prospects/import", content=(FIXTURES / "prospects.csv").read_bytes(), headers=CSV
    )

    assert upload.status_code == 200, upload.text
    report = upload.json()
    assert {k: report[k] for k in ("total", "imported", "duplicate", "invalid", "suppressed")} == {
        "total": 8, "imported": 5, "duplicate": 1, "invalid": 2, "suppressed": 0
    }  # fmt: skip
    assert {
        "row": 6,
        "email": "",
        "status": "invalid",
        "reason": "missing email",
        "prospect_id": None,
    } in report["rows"]
    assert mapped.json()["imported"] == 2 and mapped.json()["program"] == "partners-de"
    with session_scope(recruiting.service.engine) as session:
        hedy = session.exec(select(Prospect).where(Prospect.email == "hedy@example.com")).one()
    assert (hedy.name, hedy.company, hedy.locale) == ("Hedy Lamarr", "Films", "de")
    assert again.json()["imported"] == 0 and again.json()["duplicate"] == 6


async def test_import_refusals(recruiting: Recruiting) -> None:
    http = recruiting.service.http
    body = (FIXTURES / "prospects.csv").read_bytes()

    anonymous = await http.post("/prospects/import", content=body, headers={"Content-Type": "text/csv"})
    bad_map = await http.post("/prospects/import?map=Mail=phone", content=body, headers=CSV)
    no_email = await http.post("/prospects/import", content=b"name\nAda\n", headers=CSV)
    no_file = await http.post("/prospects/import", files={"other": ("x.csv", b"email\n")}, headers=ALICE)
    bad_program = await http.post("/prospects/import?program=a/b", content=body, headers=CSV)

    assert anonymous.status_code == 401
    assert bad_map.status_code == 422 and "unknown field" in bad_map.text
    assert no_email.status_code == 422 and "no email column" in no_email.text
    assert no_file.status_code == 422 and bad_program.status_code == 422


async def test_campaign_progress_unsubscribe_link_and_signup(recruiting: Recruiting) -> None:
    service, http = recruiting.service, recruiting.service.http
    csv = b"email,name,company\nada@example.com,Ada,Engines\ngrace@example.com,Grace,Navy\nalan@example.com,Alan,\n"
    assert (await http.post("/prospects/import", content=csv, headers=CSV)).json()["imported"] == 3

    created = await http.post(
        "/campaigns", json={"name": "Spring", "steps": TWO_STEPS, "messages_per_minute": 600}, headers=ALICE
    )
    assert created.status_code == 201, created.text
    campaign = created.json()
    cid = campaign["id"]
    assert campaign["progress"]["members"] == 3 and campaign["workflow_id"] == f"campaign-{cid}"
    await eventually_async(lambda: _has(recruiting.progress(cid), sent=3, in_sequence=3))
    parent = recruiting.env.client.get_workflow_handle_for(
        RecruitmentCampaignWorkflow.run, campaign["workflow_id"]
    )
    live = await parent.query(RecruitmentCampaignWorkflow.status)
    assert (live.launched, live.phase) == (3, "running")

    # Unsubscribe: the link in the email shows a form; only the POST unsubscribes.
    intro = next(m for m in messages(service.engine, to="ada@example.com"))
    link = re.search(r"http://partnerflow\.test(/outreach/unsubscribe/\S+)", intro.body_text)
    assert link is not None and "Ada" in intro.body_text and intro.template == "outreach_intro"
    page = await http.get(link.group(1))
    assert page.status_code == 200 and "<form" in page.text and 'method="post"' in page.text
    assert (await http.get(link.group(1) + "x")).status_code == 403
    done = await http.post(link.group(1))
    assert done.status_code == 200 and "unsubscribed" in done.text
    with session_scope(service.engine) as session:
        assert session.get(EmailSuppression, "ada@example.com") is not None

    # Signup through the real webhook: outreach stops and subscribers hear prospect.converted.
    with FakeSubscriber() as subscriber:
        body = {"url": subscriber.url, "event_types": ["prospect.converted"]}
        created = await http.post("/webhook-subscriptions", json=body, headers=ALICE)
        subscriber.secret = created.json()["secret"]
        signup = await service.signup({"email": "Grace@Example.com", "name": "Grace Hopper"})
        assert signup.status_code == 202, signup.text
        partner_id = signup.json()["partner_id"]
        [converted] = await eventually(lambda: subscriber.events)
    assert converted["type"] == "prospect.converted"
    assert (converted["data"]["email"], converted["data"]["partner_id"]) == ("grace@example.com", partner_id)
    again = await on_partner_signup(
        service.engine, recruiting.env.client, "default", "grace@example.com", partner_id
    )
    assert again == 0  # the sequence has already stopped
    progress = await eventually_async(lambda: _has(recruiting.progress(cid), converted=1, unsubscribed=1))
    assert (progress["members"], progress["sent"], progress["in_sequence"], progress["pending"]) == (
        3,
        3,
        1,
        0,
    )
    with session_scope(service.engine) as session:
        grace = session.exec(select(Prospect).where(Prospect.email == "grace@example.com")).one()
    assert (grace.status, grace.partner_id) == ("converted", partner_id)
    lifecycle = await recruiting.env.client.get_workflow_handle(workflow_id_for(partner_id)).describe()
    assert lifecycle.status == WorkflowExecutionStatus.RUNNING


async def _has(progress: Any, **expected: int) -> dict[str, Any] | None:
    current = await progress
    return current if all(current[key] == value for key, value in expected.items()) else None


async def test_campaign_refusals(recruiting: Recruiting) -> None:
    http = recruiting.service.http
    await http.post("/prospects/import", content=b"email\nada@example.com\n", headers=CSV)

    unknown_template = await http.post(
        "/campaigns", json={"name": "x", "steps": [{"template": "nope", "delay_days": 0}]}, headers=ALICE
    )
    nobody = await http.post("/campaigns", json={"name": "x", "program": "empty"}, headers=ALICE)
    unknown_ids = await http.post("/campaigns", json={"name": "x", "prospect_ids": [1, 2]}, headers=ALICE)
    anonymous = await http.post("/campaigns", json={"name": "x"})
    missing = await http.get("/campaigns/1", headers=ALICE)

    assert unknown_template.status_code == 422 and "no email template" in unknown_template.text
    assert nobody.status_code == 422 and "no new prospects" in nobody.text
    assert unknown_ids.status_code == 422 and "not reachable" in unknown_ids.text
    assert anonymous.status_code == 401 and missing.status_code == 404


async def test_cli_starts_a_campaign_and_shows_its_status(recruiting: Recruiting, tmp_path: Path) -> None:
    service = recruiting.service
    await service.http.post(
        "/prospects/import", content=b"email\nada@example.com\nbob@example.com\n", headers=CSV
    )
    app = typer.Typer()
    app.add_typer(campaigns_app, name="campaigns")
    target = recruiting.env.client.service_client.config.target_host
    env = {"PARTNERFLOW_TEMPORAL_ADDRESS": target, "PARTNERFLOW_TASK_QUEUE": service.settings.task_queue,
           "PARTNERFLOW_PORTAL_SECRET": "portal-test-secret"}  # fmt: skip
    start = ["campaigns", "start", "--name", "CLI", "--step", "outreach_intro:0", "--step", "outreach_last_note:3",
             "--messages-per-minute", "120", "--data-dir", str(tmp_path)]  # fmt: skip

    started = await asyncio.to_thread(CliRunner().invoke, app, start, env=env)  # it runs its own event loop

    assert started.exit_code == 0, started.output
    match = re.search(r"campaign (\d+) started for 2 prospects \(campaign-\d+\)", started.output)
    assert match is not None, started.output
    cid = int(match.group(1))
    await eventually_async(lambda: _has(recruiting.progress(cid), sent=2))
    status = CliRunner().invoke(app, ["campaigns", "status", str(cid), "--data-dir", str(tmp_path)])
    assert status.exit_code == 0 and "'CLI' (default): running" in status.output
    assert re.search(r"sent +2", status.output) and re.search(r"in_sequence +2", status.output)
    control = ["campaigns", "control", "--data-dir", str(tmp_path), "--by", "carol"]
    paused = await asyncio.to_thread(CliRunner().invoke, app, [*control, "pause", str(cid)], env=env)
    assert paused.exit_code == 0 and f"campaign {cid} is paused" in paused.output, paused.output
    twice = await asyncio.to_thread(CliRunner().invoke, app, [*control, "pause", str(cid)], env=env)
    assert twice.exit_code == 1 and "already paused" in twice.output
    cancel = [*control, "--reason", "test over", "cancel", str(cid)]
    cancelled = await asyncio.to_thread(CliRunner().invoke, app, cancel, env=env)
    assert cancelled.exit_code == 0 and f"campaign {cid} is cancelled" in cancelled.output
    assert CliRunner().invoke(app, [*control, "stop", str(cid)], env=env).exit_code != 0
    missing = CliRunner().invoke(app, ["campaigns", "status", "1", "--data-dir", str(tmp_path)])
    bad_step = CliRunner().invoke(app, [*start[:4], "--step", "outreach_intro:soon"], env=env)
    assert missing.exit_code == 1 and bad_step.exit_code != 0 and "template:delay_days" in bad_step.output


async def test_pause_resume_and_cancel_a_campaign_over_http(recruiting: Recruiting) -> None:
    http = recruiting.service.http
    await http.post("/prospects/import", content=b"email\nada@example.com\nbob@example.com\n", headers=CSV)
    created = await http.post("/campaigns", json={"name": "Controls", "steps": TWO_STEPS}, headers=ALICE)
    cid = created.json()["id"]
    await eventually_async(lambda: _has(recruiting.progress(cid), sent=2))

    paused = await http.post(f"/campaigns/{cid}/pause", headers=ALICE)
    assert paused.status_code == 200, paused.text
    assert (paused.json()["status"], paused.json()["status_changed_by"]) == ("paused", "alice")
    again = await http.post(f"/campaigns/{cid}/pause", headers=ALICE)
    assert again.status_code == 409 and "already paused" in again.json()["detail"]
    listed = await http.get("/campaigns", params={"status": "paused"}, headers=ALICE)
    assert [item["id"] for item in listed.json()["items"]] == [cid]

    resumed = await http.post(f"/campaigns/{cid}/resume", headers=ALICE)
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    assert (await http.post(f"/campaigns/{cid}/resume", headers=ALICE)).status_code == 409

    cancelled = await http.post(f"/campaigns/{cid}/cancel", json={"reason": "wrong list"}, headers=ALICE)
    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "wrong list")
    await eventually_async(lambda: _has(recruiting.progress(cid), cancelled=2, in_sequence=0))
    for action in ("pause", "resume", "cancel"):
        refused = await http.post(f"/campaigns/{cid}/{action}", headers=ALICE)
        assert refused.status_code == 409 and "cancelled" in refused.json()["detail"], action
    assert (await http.post("/campaigns/999999999/pause", headers=ALICE)).status_code == 404
    assert (await http.post(f"/campaigns/{cid}/pause")).status_code == 401
    everything = await http.get("/campaigns", headers=ALICE)
    assert cid in [item["id"] for item in everything.json()["items"]]
