"""Program operations in the dashboard (migrations, terms, webinars, webhooks): CSRF-checked form
posts on the real app (uvicorn + worker + Temporal dev server), through the API's own use cases."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard_client import Browser, signed_in
from fakes.subscriber import FakeSubscriber
from helpers import eventually, eventually_async, messages
from service import ALICE, Service
from sqlmodel import select

from partnerflow.rendering.tokens import make_portal_token
from partnerflow.store.db import session_scope
from partnerflow.store.models import MigrationRun, StagedUpload, Webinar

FIXTURES = Path(__file__).parents[1] / "fixtures"


def runs(service: Service) -> list[MigrationRun]:
    with session_scope(service.engine) as session:
        return list(session.exec(select(MigrationRun)))


async def checklist(service: Service, pid: str) -> dict[str, bool]:
    return dict((await service.http.get(f"/partners/{pid}", headers=ALICE)).json()["checklist"])


# --- migrations ----------------------------------------------------------------------------------


async def test_migration_preview_then_start_then_phases(service: Service, alice: Browser) -> None:
    # A row of its own: the file's hash names the run's workflow on the shared dev server.
    unique = uuid.uuid4().hex[:8]
    row = f"x{unique}@example.com;Xavier Test;;Basic;0;x{unique};2024-06-01;long tail;en\n"
    export = (FIXTURES / "migration_generic.csv").read_bytes() + row.encode()
    page = await alice.page("/dashboard/migrations")
    assert 'id="migration-upload"' in page and 'enctype="multipart/form-data"' in page

    files = {"file": ("partners.csv", export, "text/csv")}
    form = {
        "source": "generic",
        "program": "default",
        "pause": "P7D",
        "map": "Bucket=segment\nRef code=tracking_code",
    }
    unsigned = await alice.post("/dashboard/migrations/preview", csrf=False, files=files, **form)
    assert unsigned.status_code == 403
    preview = await alice.post("/dashboard/migrations/preview", files=files, **form)
    assert preview.status_code == 200, preview.text[:500]
    html = preview.text
    assert 'id="preview-counts"' in html and "Nothing has been written yet" in html
    assert '<th scope="row">Affiliate E-mail</th><td>email</td><td>values</td>' in html
    assert '<th scope="row">Bucket</th><td>segment</td><td>map</td>' in html
    assert "lena@fischer-blog.de" in html and 'id="problems"' in html and "vip" in html  # a bad segment
    assert runs(service) == []
    upload_id = re.search(r'name="upload_id" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    alice.token = re.search(r'name="csrf_token" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]

    async with signed_in(service.http.base_url, "tok-bob") as bob:  # not bob's upload
        await bob.page("/dashboard/migrations")
        kind, message, _ = await bob.submit("/dashboard/migrations/start", upload_id=upload_id, **form)
        assert (kind, message) == ("error", "That upload is gone (kept a day): upload the file again.")

    kind, message, page = await alice.submit("/dashboard/migrations/start", upload_id=upload_id, **form)
    [run] = runs(service)
    assert kind == "success" and message.startswith(
        f"Migration {run.id} started: 7 imported, 0 duplicate, 1 invalid"
    )
    assert 'id="phases"' in page and re.search(
        r'id="phase-1"><th scope="row">1</th><td>top</td><td class="num">2</td>', page
    )
    with session_scope(service.engine) as session:
        assert list(session.exec(select(StagedUpload))) == []  # used up
    listing = await alice.page("/dashboard/migrations")
    assert f'id="run-{run.id}"' in listing

    plain = form | {"map": ""}
    bad = await alice.post(
        "/dashboard/migrations/preview", files={"file": ("x.csv", b"name\nAda\n", "text/csv")}, **plain
    )
    assert bad.status_code == 422 and 'id="form-error"' in bad.text and "no email column" in bad.text


# --- terms ---------------------------------------------------------------------------------------


async def test_publish_terms_asks_partners_of_older_versions_to_reaccept(
    service: Service, alice: Browser
) -> None:
    assert (
        await service.http.post("/programs/default/terms", json={"body_markdown": "v1"}, headers=ALICE)
    ).status_code == 201
    pid = await service.approved_partner("tess@example.com", name="Tess Terms")
    token = make_portal_token(service.settings.portal_signing_key, pid)
    assert (await service.http.post(f"/portal/{token}/terms/accept", data={"version": "1"})).status_code in (
        200,
        303,
    )
    await eventually_async(lambda: _done(service, pid, "terms_accepted"))

    page = await alice.page("/dashboard/programs/default/terms")
    assert re.search(r'id="terms-v1">.*?<td class="num">1</td>', page, re.S)
    empty = await alice.post("/dashboard/programs/default/terms", title="Terms", body="  ")
    assert empty.status_code == 422 and "Write the terms" in empty.text

    kind, message, page = await alice.submit(
        "/dashboard/programs/default/terms", title="Partner terms", body="## New\n\nBe **fair**."
    )
    assert (kind, message) == (
        "success",
        "Terms v2 published. 1 partner who accepted an older version is asked to re-accept (1 workflows told).",
    )
    assert 'id="terms-v2"' in page and "current" in page
    await eventually(
        lambda: any(m.template == "terms_updated" for m in messages(service.engine, partner_id=pid))
    )


async def _done(service: Service, pid: str, item: str) -> bool:
    return (await checklist(service, pid))[item]


# --- webinars ------------------------------------------------------------------------------------


async def test_webinar_create_reschedule_attendance_and_cancel(service: Service, alice: Browser) -> None:
    paris = ZoneInfo("Europe/Paris")
    start = (datetime.now(paris) + timedelta(days=3)).replace(second=0, microsecond=0)
    await alice.page("/dashboard/webinars")
    past = await alice.post("/dashboard/webinars", title="Kickoff", starts_at="2020-01-01T10:00", timezone="Europe/Paris",
                            duration_minutes="60", join_url="https://meet.example/k", capacity="10")  # fmt: skip
    assert past.status_code == 422 and "starts_at must be in the future" in past.text
    kind, message, page = await alice.submit(
        "/dashboard/webinars", title="Kickoff", starts_at=start.strftime("%Y-%m-%dT%H:%M"), timezone="Europe/Paris",
        duration_minutes="60", join_url="https://meet.example/k", capacity="10")  # fmt: skip
    assert (kind, message) == ("success", "Session “Kickoff” scheduled.")
    wid = int(re.search(r"/dashboard/webinars/(\d+)/reschedule", page).group(1))  # type: ignore[union-attr]
    with session_scope(service.engine) as session:
        stored = session.get(Webinar, wid)
    assert (
        stored is not None and stored.starts_at == start.astimezone(UTC) and stored.timezone == "Europe/Paris"
    )

    pid = await service.approved_partner(
        "wanda@example.com", name="Wanda Webinar"
    )  # invited once past terms and kit
    assert (
        await service.http.post(f"/partners/{pid}/checklist", json={"item": "terms_accepted"}, headers=ALICE)
    ).status_code == 200
    await eventually(
        lambda: any(m.template == "webinar_invite" for m in messages(service.engine, partner_id=pid))
    )

    later = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    await alice.page(f"/dashboard/webinars/{wid}")
    kind, message, page = await alice.submit(f"/dashboard/webinars/{wid}/reschedule", title="Kickoff", starts_at=later,
                                             timezone="Europe/Paris", duration_minutes="60", join_url="https://meet.example/k")  # fmt: skip
    assert (kind, message) == ("success", "Changed starts at; 1 invited partners get a calendar update.")
    await eventually(
        lambda: any(m.template == "webinar_updated" for m in messages(service.engine, partner_id=pid))
    )

    export = b"Name,Email,Minutes\nWanda,WANDA@example.com,55\nNobody,nobody@example.com,3\n"
    kind, message, page = await alice.submit(
        f"/dashboard/webinars/{wid}/attendance", files={"export": ("att.csv", export, "text/csv")}
    )
    assert (
        kind == "success"
        and message == "Attendance: 1 unknown partner, 1 recorded. Unknown: nobody@example.com."
    )
    await eventually_async(lambda: _done(service, pid, "webinar_attended"))
    assert re.search(rf'id="seat-{pid}">.*?<td>attended</td>', page, re.S)

    confirm = await alice.page(f"/dashboard/webinars/{wid}/cancel")
    assert 'id="consequences"' in confirm and "cannot be restored" in confirm
    unticked = await alice.post(f"/dashboard/webinars/{wid}/cancel", reason="trainer ill")
    assert unticked.status_code == 422 and "Tick the box" in unticked.text
    kind, message, page = await alice.submit(
        f"/dashboard/webinars/{wid}/cancel", reason="trainer ill", confirm="yes"
    )
    assert kind == "success" and message.startswith("Session cancelled")
    assert "status-cancelled" in page and "(trainer ill)" in page and 'id="attendance"' not in page
    kind, message, _ = await alice.submit(
        f"/dashboard/webinars/{wid}/attendance", attendees="wanda@example.com"
    )
    assert (kind, message) == ("error", "Nothing was recorded: the session was cancelled.")


# --- webhooks ------------------------------------------------------------------------------------


async def test_webhook_subscription_delivery_log_and_replay(service: Service, alice: Browser) -> None:
    with FakeSubscriber() as subscriber:
        await alice.page("/dashboard/webhooks")
        bad = await alice.post("/dashboard/webhooks", url="ftp://x", event_types=["partner.applied"])
        assert bad.status_code == 422 and 'id="form-error"' in bad.text
        created = await alice.post("/dashboard/webhooks", url=subscriber.url, event_types=["partner.applied"])
        assert created.status_code == 200 and 'id="secret"' in created.text
        subscriber.secret = re.search(r'id="secret" class="secret">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
        sid = int(re.search(r"Subscription (\d+) created", created.text).group(1))  # type: ignore[union-attr]
        assert subscriber.secret not in (await alice.page("/dashboard/webhooks"))  # shown once

        await service.signup({"email": "hook@example.com", "name": "Hook Test"})
        [event] = await eventually(lambda: subscriber.events)
        log = await eventually_async(lambda: _delivered_log(alice, sid))
        delivery = int(re.search(r'id="delivery-(\d+)"', log).group(1))  # type: ignore[union-attr]
        assert "partner.applied" in log and f'id="replay-{delivery}"' in log

        kind, message, _ = await alice.submit(f"/dashboard/webhooks/deliveries/{delivery}/replay",
                                              next=f"/dashboard/webhooks/deliveries?subscription_id={sid}")  # fmt: skip
        assert (kind, message) == ("success", f"Delivery {delivery} (partner.applied) is being sent again.")
        again = await eventually(lambda: len(subscriber.events) == 2 and subscriber.events)
        assert again[1]["id"] == event["id"]  # the same event, signed afresh

        await alice.page("/dashboard/webhooks")
        kind, message, _ = await alice.submit(f"/dashboard/webhooks/{sid}/deactivate")
        assert (kind, message) == ("error", "Tick the box next to Deactivate to confirm.")
        kind, message, page = await alice.submit(f"/dashboard/webhooks/{sid}/deactivate", confirm="yes")
        assert kind == "success" and "Inactive" in page
        log = await alice.page(f"/dashboard/webhooks/deliveries?subscription_id={sid}")
        assert "subscription inactive" in log and f'id="replay-{delivery}"' not in log


async def _delivered_log(alice: Browser, sid: int) -> str | None:
    log = await alice.page(f"/dashboard/webhooks/deliveries?subscription_id={sid}")
    return log if "status-delivered" in log else None
