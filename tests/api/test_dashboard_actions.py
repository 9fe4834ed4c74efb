"""Manager actions in the dashboard: forms posted with the session's CSRF token, on the real app
(uvicorn + worker + Temporal dev server); each goes through the partner's or campaign's workflow."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import httpx
from dashboard_client import Browser
from helpers import eventually, eventually_async, messages, offset_ids
from service import ALICE, Service


async def live(service: Service, pid: str) -> dict[str, Any]:
    return dict((await service.http.get(f"/partners/{pid}", headers=ALICE)).json())


async def active_partner(service: Service, email: str, name: str = "Ada Lovelace") -> str:
    pid = await service.approved_partner(email, name=name)
    for item in ("terms_accepted", "webinar_attended"):
        body = {"item": item, "waive": item == "webinar_attended"}
        assert (
            await service.http.post(f"/partners/{pid}/checklist", json=body, headers=ALICE)
        ).status_code == 200
    await eventually_async(lambda: _stage_is(service, pid, "active"))
    return pid


async def _stage_is(service: Service, pid: str, stage: str) -> bool:
    return (await live(service, pid))["stage"] == stage


def timeline(page: str) -> str:
    return page.split('id="timeline"', 1)[1].split("</ol>", 1)[0]


# --- partners ------------------------------------------------------------------------------------


async def test_pause_resume_and_offboard_with_confirmation(service: Service, alice: Browser) -> None:
    pid = await active_partner(service, "pia@example.com", "Pia Paused")
    base = f"/dashboard/partners/{pid}"
    page = await alice.page(base)
    assert 'id="pause"' in page and 'id="offboard-link"' in page and 'id="tier-proposal"' not in page

    assert (await alice.post(f"{base}/pause", csrf=False)).status_code == 403
    kind, message, page = await alice.submit(f"{base}/pause")
    assert (kind, message) == (
        "success",
        "Paused Pia Paused (pia@example.com): no nudges until resumed; reviews go on.",
    )
    assert 'id="paused-note"' in page and 'id="resume"' in page and (await live(service, pid))["paused"]
    assert re.search(r"<strong>Paused</strong> <span class=\"detail\">by alice</span>", timeline(page))
    kind, message, page = await alice.submit(f"{base}/resume")
    assert kind == "success" and message.startswith("Resumed Pia Paused") and 'id="pause"' in page

    confirm = await alice.page(f"{base}/offboard")
    assert 'id="consequences"' in confirm and 'name="confirm"' in confirm and "cannot be undone" in confirm
    unticked = await alice.post(f"{base}/offboard", reason="Closed their site")
    no_reason = await alice.post(f"{base}/offboard", reason="  ", confirm="yes")
    assert unticked.status_code == no_reason.status_code == 422
    assert "Tick the box" in unticked.text and "Closed their site" in unticked.text
    assert "Give a reason" in no_reason.text and (await live(service, pid))["stage"] == "active"

    kind, message, page = await alice.submit(f"{base}/offboard", reason="Closed their site", confirm="yes")
    assert kind == "success" and message.startswith("Offboarded Pia Paused (pia@example.com).")
    assert re.search(
        r"<strong>Offboarded</strong> <span class=\"detail\">by alice: Closed their site</span>",
        timeline(page),
    )
    await eventually(lambda: any(m.template == "farewell" for m in messages(service.engine, partner_id=pid)))
    kind, message, _ = await alice.submit(f"{base}/pause")
    assert kind == "error" and "Nothing was changed" in message


async def test_checklist_items_and_a_fresh_portal_link(service: Service, alice: Browser) -> None:
    pid = await service.approved_partner("olga@example.com", name="Olga Onboarding")
    await eventually(lambda: any(m.template == "welcome" for m in messages(service.engine, partner_id=pid)))
    base = f"/dashboard/partners/{pid}"
    page = await alice.page(base)
    assert (
        'id="done-terms_accepted"' in page and 'name="waive" value="yes"' in page and 'id="pause"' not in page
    )

    kind, message, page = await alice.submit(
        f"{base}/checklist", item="terms_accepted", note="signed on paper"
    )
    assert (kind, message) == (
        "success",
        "“Terms accepted” marked done for Olga Onboarding (olga@example.com).",
    )
    assert 'id="done-terms_accepted"' not in page and "marked done by alice (signed on paper)" in timeline(
        page
    )
    kind, message, page = await alice.submit(f"{base}/checklist", item="webinar_attended", waive="yes")
    assert kind == "success" and "waived" in message
    # A waived item says so; one marked done by hand (or by the partner) stays "Done".
    assert re.search(r'id="item-webinar_attended">[^<]*<strong class="done">✓ Waived</strong>', page)
    assert re.search(r'id="item-terms_accepted">[^<]*<strong class="done">✓ Done</strong>', page)
    kind, message, _ = await alice.submit(f"{base}/checklist", item="bogus")
    assert (kind, message) == ("error", "Choose a checklist item.")

    kind, message, page = await alice.submit(f"{base}/portal-link")
    assert kind == "success" and "olga@example.com" in message
    assert "from the dashboard by alice" in timeline(page)
    await eventually(
        lambda: any(m.template == "portal_link" for m in messages(service.engine, partner_id=pid))
    )
    checklist = (await live(service, pid))["checklist"]
    assert checklist["terms_accepted"] and checklist["webinar_attended"]


async def test_confirm_or_keep_a_proposed_tier(service: Service, alice: Browser) -> None:
    rules = {"review_period_days": 0.0003, "tier_confirmation_days": 1}  # a review ~26 s after activation
    assert (
        await service.http.put("/programs/default/engagement", json=rules, headers=ALICE)
    ).status_code == 200
    confirmed = await earning_partner(service, "cora@example.com", "Cora Confirmed")
    kept = await earning_partner(service, "kurt@example.com", "Kurt Kept")
    for pid in (confirmed, kept):
        await eventually_async(lambda pid=pid: _proposes(service, pid), timeout=60)  # type: ignore[misc]

    page = await alice.page(f"/dashboard/partners/{confirmed}")
    assert 'id="tier-proposal"' in page and "Confirm silver" in page and "Keep current tier" in page
    kind, message, page = await alice.submit(
        f"/dashboard/partners/{confirmed}/tier-decision", approve="yes", proposed="silver"
    )
    assert (kind, message) == (
        "success",
        "silver confirmed for Cora Confirmed (cora@example.com); the tier changes in a moment.",
    )
    await alice.page(f"/dashboard/partners/{kept}")
    kind, message, _ = await alice.submit(
        f"/dashboard/partners/{kept}/tier-decision", approve="no", proposed="silver"
    )
    assert kind == "success" and message.startswith("Kept the current tier of Kurt Kept")

    await eventually_async(lambda: _tier_is(service, confirmed, "silver"))
    reviews = (await service.http.get(f"/partners/{confirmed}/reviews", headers=ALICE)).json()
    assert reviews[0]["decided_by"] == "alice"
    history = await eventually_async(lambda: _history(service, kept, "tier-change-refused"))
    assert "silver refused by alice" in history
    page = await alice.page(f"/dashboard/partners/{kept}")
    assert 'id="tier-proposal"' not in page and "silver refused by alice" in timeline(page)
    kind, message, _ = await alice.submit(
        f"/dashboard/partners/{kept}/tier-decision", approve="yes", proposed="silver"
    )
    assert kind == "error" and "no tier change is waiting" in message


async def earning_partner(service: Service, email: str, name: str) -> str:
    """Active, with 6,000 USD of conversions in its first review period: silver gets proposed."""
    pid = await active_partner(service, email, name)
    await asyncio.sleep(1.5)  # within the review period, which starts when the workflow runs its active stage
    now = datetime.now(UTC).isoformat()
    events = [{"event_id": f"{pid}-{i}", "partner_id": pid, "type": "conversion", "amount": 100.0,
               "currency": "USD", "occurred_at": now} for i in range(60)]  # fmt: skip
    assert (await service.http.post("/events", json={"events": events}, headers=ALICE)).json()[
        "accepted"
    ] == 60
    return pid


async def _proposes(service: Service, pid: str) -> bool:
    return (await live(service, pid))["tier_proposal"] == "silver"


async def _tier_is(service: Service, pid: str, tier: str) -> bool:
    return (await live(service, pid))["tier"] == tier


async def _history(service: Service, pid: str, event: str) -> str:
    return " ".join(h["detail"] for h in (await live(service, pid))["history"] if h["event"] == event)


# --- campaigns -----------------------------------------------------------------------------------


async def test_create_pause_resume_and_cancel_a_campaign(service: Service, alice: Browser) -> None:
    offset_ids(service.engine)  # the dev server outlives this test's database: fresh workflow ids
    csv = b"email,name\nada@example.com,Ada\nbob@example.com,Bob\n"
    headers = {"Content-Type": "text/csv", **ALICE}
    assert (await service.http.post("/prospects/import", content=csv, headers=headers)).json()[
        "imported"
    ] == 2
    listing = await alice.page("/dashboard/campaigns")
    assert 'id="create-campaign"' in listing and "default (2 new prospects)" in listing

    bad = await alice.post(
        "/dashboard/campaigns", name="", program="default", rate="60", steps="outreach_intro 0"
    )
    assert bad.status_code == 422 and 'id="form-error"' in bad.text
    steps = "outreach_intro 0\noutreach_follow_up 4"
    kind, message, page = await alice.submit(
        "/dashboard/campaigns", name="Autumn", program="default", rate="600", steps=steps
    )
    assert kind == "success" and message.startswith("Campaign “Autumn” started")
    cid = re.search(r"/dashboard/campaigns/(\d+)/pause", page).group(1)  # type: ignore[union-attr]
    assert 'id="campaign-status" class="badge status-running"' in page
    await eventually(lambda: len(messages(service.engine, channel="email", status="sent")) == 2)

    assert (await alice.post(f"/dashboard/campaigns/{cid}/pause", csrf=False)).status_code == 403
    kind, message, page = await alice.submit(f"/dashboard/campaigns/{cid}/pause")
    assert (kind, message) == ("success", "Campaign “Autumn” paused: nothing is sent until you resume it.")
    assert "status-paused" in page and 'id="resume-campaign"' in page and "paused by alice" in page
    kind, message, _ = await alice.submit(f"/dashboard/campaigns/{cid}/pause")  # a second tab, say
    assert kind == "error" and "already paused" in message
    kind, message, page = await alice.submit(f"/dashboard/campaigns/{cid}/resume")
    assert kind == "success" and 'id="pause-campaign"' in page

    confirm = await alice.page(f"/dashboard/campaigns/{cid}/cancel")
    assert 'id="consequences"' in confirm and "cannot be resumed" in confirm
    unticked = await alice.post(f"/dashboard/campaigns/{cid}/cancel", reason="wrong list")
    assert unticked.status_code == 422 and "Tick the box" in unticked.text
    kind, message, page = await alice.submit(
        f"/dashboard/campaigns/{cid}/cancel", reason="wrong list", confirm="yes"
    )
    assert kind == "success" and "cancelled" in message and 'id="no-controls"' in page
    assert "(“wrong list”)" in page
    campaign = (await service.http.get(f"/campaigns/{cid}", headers=ALICE)).json()
    assert campaign["status"] == "cancelled"
    await eventually_async(lambda: _cancelled(service, cid, 2))
    assert (await alice.page("/dashboard/campaigns")).count(f'id="campaign-{cid}"') == 1


async def _cancelled(service: Service, cid: str, count: int) -> bool:
    progress = (await service.http.get(f"/campaigns/{cid}", headers=ALICE)).json()["progress"]
    return bool(progress["cancelled"] == count)


# --- every new page and form needs a session ---------------------------------------------------

NEW_PAGES = ["/dashboard/campaigns", "/dashboard/campaigns/1", "/dashboard/campaigns/1/cancel",
             "/dashboard/migrations", "/dashboard/migrations/1", "/dashboard/programs/default/terms",
             "/dashboard/webinars", "/dashboard/webinars/1", "/dashboard/webinars/1/cancel",
             "/dashboard/webhooks", "/dashboard/webhooks/deliveries", "/dashboard/partners/p1/offboard"]  # fmt: skip
NEW_FORMS = ["/dashboard/partners/p1/tier-decision", "/dashboard/partners/p1/pause", "/dashboard/partners/p1/resume",
             "/dashboard/partners/p1/offboard", "/dashboard/partners/p1/checklist", "/dashboard/partners/p1/portal-link",
             "/dashboard/campaigns", "/dashboard/campaigns/1/pause", "/dashboard/campaigns/1/resume",
             "/dashboard/campaigns/1/cancel", "/dashboard/migrations/preview", "/dashboard/migrations/start", "/dashboard/programs/default/terms",
             "/dashboard/webinars", "/dashboard/webinars/1/reschedule", "/dashboard/webinars/1/cancel",
             "/dashboard/webinars/1/attendance", "/dashboard/webhooks", "/dashboard/webhooks/1/deactivate",
             "/dashboard/webhooks/deliveries/1/replay"]  # fmt: skip


async def test_new_pages_and_forms_need_a_session_and_the_csrf_token(
    service: Service, alice: Browser
) -> None:
    async with httpx.AsyncClient(base_url=service.http.base_url, timeout=30) as anonymous:
        for path in NEW_PAGES:
            response = await anonymous.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith(
                "/dashboard/login?next="
            ), path
        for path in NEW_FORMS:
            response = await anonymous.post(path, data={"confirm": "yes"})
            assert (response.status_code, response.headers.get("location")) == (303, "/dashboard/login"), path
    await alice.page("/dashboard/campaigns")
    for path in NEW_FORMS:
        response = await alice.post(path, csrf=False, confirm="yes")
        assert response.status_code == 403, path
    for path in NEW_PAGES:  # unknown ids: a 404 page, not an error
        response = await alice.http.get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
