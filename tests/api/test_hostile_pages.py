"""Every dashboard and portal page with hostile values in every field a partner, a prospect or a
manager can fill: no live markup, no link outside http(s), and the strict CSP on each page.

Free text goes in through the API (names, company, source, decision reason and author, terms,
program name); what the API now refuses (a javascript: website, resource or webinar link) is
written to the store directly, as if it had been saved before the check existed: output must
neutralise it too. Pages are parsed as a browser would (``hostile.live_markup``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from helpers import eventually_async
from hostile import MARKUP, URLS, live_markup, text_of
from service import ALICE, Service, running_service
from sqlmodel import select
from starlette.responses import Response
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.dashboard import auth
from partnerflow.api.security import PAGE_POLICY
from partnerflow.domain.prospects import make_outreach_token
from partnerflow.rendering.tokens import make_portal_token, make_unsubscribe_token
from partnerflow.store.db import session_scope
from partnerflow.store.models import (
    Application,
    OutboxMessage,
    Partner,
    Prospect,
    Resource,
    TrackingLink,
    Webinar,
    WebinarSeat,
    utcnow,
)

NAME, COMPANY, SOURCE, REASON, AUTHOR, TITLE, TIER = MARKUP  # one payload per field
WEBSITE = URLS[0]
HOSTILE_MARKDOWN = (
    "# <script>alert(1)</script>\n\n[click](javascript:alert(1)) [data](data:text/html,<script>x</script>)"
    ' <a href="javascript:alert(1)">raw</a> <img src=x onerror=alert(1)>\n\n![i](javascript:alert(1))'
)


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


def session_cookie(service: Service) -> dict[str, str]:
    response = Response()
    auth.start_session(response, service.settings, "alice")
    name, _, rest = response.headers["set-cookie"].partition("=")
    return {name: rest.split(";", 1)[0]}


async def seed(service: Service) -> tuple[str, str]:
    """An applicant and an onboarding partner, each field as hostile as it gets."""
    fields = {"company": COMPANY, "source": SOURCE, "phone": "<b>1</b>"}
    applicant = (await service.signup({"email": "eve@example.com", "name": NAME, **fields})).json()
    partner = (await service.signup({"email": "mal@example.com", "name": NAME, **fields})).json()
    decision = {"decision": "approve", "reason": REASON, "manager": AUTHOR}
    url = f"/partners/{partner['partner_id']}/decision"
    assert (await service.http.post(url, json=decision, headers=ALICE)).status_code == 200
    terms = {"title": TITLE, "body_markdown": HOSTILE_MARKDOWN}
    assert (await service.http.post("/programs/default/terms", json=terms, headers=ALICE)).status_code == 201
    program = {"name": TITLE, "landing_url": "https://example.com/"}
    assert (await service.http.put("/programs/default", json=program, headers=ALICE)).status_code == 200
    bans = {"bans": [{"email": "banned@example.com", "reason": REASON}]}
    assert (await service.http.put("/programs/default/bans", json=bans, headers=ALICE)).status_code == 200
    with session_scope(service.engine) as session:  # what the edge refuses now, stored before it did
        for row in session.exec(select(Partner)):
            row.website, row.tier = WEBSITE, TIER
            session.add(row)
        session.add(Resource(program="default", title=TITLE, kind="guide", url=URLS[8]))
        webinar = Webinar(title=TITLE, starts_at=utcnow() + timedelta(days=3), join_url=URLS[3], capacity=5)
        session.add(webinar)
        session.flush()
        session.add(WebinarSeat(webinar_id=webinar.id or 0, partner_id=partner["partner_id"]))
        session.add(TrackingLink(code='"><b>x', partner_id=partner["partner_id"], program="default"))
        session.add(Prospect(program="default", email="pro@example.com", name=NAME, website=URLS[1]))
        session.add(
            OutboxMessage(
                idempotency_key="hostile",
                channel="email",
                recipient=f"{NAME}@example.com",
                template=TITLE,
                subject=TITLE,
                body_text=REASON,
                error=REASON,
                partner_id=partner["partner_id"],
                status="failed",
            )
        )
    return applicant["partner_id"], partner["partner_id"]


async def test_no_page_runs_or_links_to_what_partners_typed(service: Service) -> None:
    applicant, partner = await seed(service)

    async def history_has_the_decision() -> bool:
        detail = (await service.http.get(f"/partners/{partner}", headers=ALICE)).json()
        return any(entry.get("by") == AUTHOR or REASON in str(entry) for entry in detail["history"])

    await eventually_async(history_has_the_decision)
    with session_scope(service.engine) as session:
        assert session.get(Application, applicant) is not None
        prospect = session.exec(select(Prospect)).one()
    secret = service.settings.portal_signing_key
    cookies = session_cookie(service)
    dashboard = [
        "/dashboard", "/dashboard?stage=applied", "/dashboard?stage=onboarding", "/dashboard/applications",
        f"/dashboard/partners/{applicant}", f"/dashboard/partners/{partner}", "/dashboard/programs",
        "/dashboard/programs/default", f"/dashboard/outbox?recipient={quote(NAME)}", "/dashboard/outbox",
        f"/dashboard/partners/{quote(MARKUP[1])}", "/dashboard/programs/default/bans",
        "/dashboard/programs/default/bans/lift?email=banned%40example.com", f"/dashboard/partners/{partner}/ban",
    ]  # fmt: skip
    public = [
        f"/dashboard/login?next={quote(WEBSITE)}",
        f"/portal/{make_portal_token(secret, partner)}", f"/portal/{quote(MARKUP[1])}",
        f"/unsubscribe/{make_unsubscribe_token(secret, partner)}",
        f"/outreach/unsubscribe/{make_outreach_token(secret, prospect.id or 0, 1)}",
    ]  # fmt: skip

    async with httpx.AsyncClient(base_url=service.http.base_url, cookies=cookies) as manager:
        pages = [(path, await manager.get(path)) for path in dashboard]
        partner_page = (await manager.get(f"/dashboard/partners/{partner}")).text
    pages += [(path, await service.http.get(path)) for path in public]

    for path, page in pages:
        assert page.status_code in (200, 403, 404), (path, page.status_code)
        assert page.headers["content-type"].startswith("text/html"), path
        assert page.headers["content-security-policy"] == PAGE_POLICY, path
        assert live_markup(page.text, scripts=("/static/portal.js",)) == [], path

    shown = text_of(partner_page)
    assert all(value in shown for value in (NAME, COMPANY, SOURCE, WEBSITE, TIER)), "shown as text"
    assert REASON in shown or AUTHOR in shown  # the decision, from the workflow's history
    portal_page = (await service.http.get(public[1])).text
    shown = text_of(portal_page)
    assert shown.count(TITLE) >= 3, "the terms, the webinar and the resource titles, as text"
    assert "<script>alert(1)</script>" in shown  # the terms' heading, escaped by Markdown rendering
