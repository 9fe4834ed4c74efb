"""The manager dashboard on the real app (uvicorn + worker + Temporal dev server)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from conftest import make_settings
from helpers import eventually, eventually_async
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from service import ALICE, Service
from starlette.responses import Response

from partnerflow.api.dashboard import auth, charts
from partnerflow.store import outbox
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, OutboxMessage, Partner, PerformanceEvent

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
PAGES = ["/dashboard", "/dashboard/applications", "/dashboard/programs", "/dashboard/programs/default",
         "/dashboard/outbox", "/dashboard?stage=active"]  # fmt: skip


def _client(service: Service) -> httpx.AsyncClient:
    """A browser of its own (own cookie jar)."""
    return httpx.AsyncClient(base_url=service.http.base_url, timeout=20)


def _csrf(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def _sign_in(http: httpx.AsyncClient, token: str = "tok-alice", next: str = "") -> httpx.Response:
    form = await http.get("/dashboard/login")
    assert form.status_code == 200 and 'id="login"' in form.text
    data = {"token": token, "csrf_token": _csrf(form.text), "next": next}
    return await http.post("/dashboard/login", data=data)


def _session_cookie(service: Service, manager: str, age: timedelta = timedelta(0)) -> str:
    """A session cookie as the app signs it, issued ``age`` ago."""
    issued = int(time.time() - age.total_seconds())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return issued

    key = service.settings.portal_signing_key
    serializer = URLSafeTimedSerializer(key, salt="partnerflow.dashboard.session", signer=Signer)
    return serializer.dumps({"m": manager, "s": "x" * 16})


def _rows(html: str, css_class: str = "partner-row") -> int:
    return html.count(f'class="{css_class}')


async def _stage(service: Service, partner_id: str) -> str:
    return str((await service.http.get(f"/partners/{partner_id}", headers=ALICE)).json()["stage"])


# --- authentication --------------------------------------------------------------------------------


async def test_every_page_needs_a_session(service: Service) -> None:
    pid = (await service.signup({"email": "auth@example.com", "name": "Auth Test"})).json()["partner_id"]
    async with _client(service) as anonymous:
        for path in [*PAGES, f"/dashboard/partners/{pid}"]:
            response = await anonymous.get(path)
            assert response.status_code == 303, (path, response.status_code)
            assert response.headers["location"].startswith("/dashboard/login?next=%2Fdashboard"), path
        post = await anonymous.post(f"/dashboard/applications/{pid}/decision", data={"decision": "approve"})
        assert post.status_code == 303 and post.headers["location"] == "/dashboard/login"

        fresh = _session_cookie(service, "alice")
        anonymous.cookies.set(auth.SESSION_COOKIE, fresh, path="/dashboard")
        accepted = await anonymous.get("/dashboard")  # so the forged cookies below are well-formed
        assert accepted.status_code == 200
        for cookie in [
            _session_cookie(service, "alice", age=timedelta(hours=12, minutes=1)),  # expired
            _session_cookie(service, "mallory"),  # a manager whose token is gone
            fresh[:-2] + ("AA" if not fresh.endswith("AA") else "BB"),  # tampered signature
        ]:
            anonymous.cookies.set(auth.SESSION_COOKIE, cookie, path="/dashboard")
            assert (await anonymous.get("/dashboard")).status_code == 303
    assert await _stage(service, pid) == "applied"


async def test_sign_in_sets_a_session_cookie_and_sign_out_ends_it(service: Service) -> None:
    async with _client(service) as browser:
        wrong = await _sign_in(browser, "tok-nobody")
        assert wrong.status_code == 401 and 'id="login-error"' in wrong.text and "not valid" in wrong.text
        assert auth.SESSION_COOKIE not in browser.cookies
        no_csrf = await browser.post("/dashboard/login", data={"token": "tok-alice"})
        assert no_csrf.status_code == 403 and auth.SESSION_COOKIE not in browser.cookies

        signed_in = await _sign_in(browser, next="/dashboard/outbox")
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/dashboard/outbox"
        cookie = signed_in.headers["set-cookie"].lower()
        assert f"{auth.SESSION_COOKIE}=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "max-age=43200" in cookie and "path=/dashboard" in cookie and "secure" not in cookie
        page = await browser.get("/dashboard")
        assert page.status_code == 200 and '<strong id="manager-name">alice</strong>' in page.text
        assert (
            '<html lang="en"' in page.text
            and '<main id="content"' in page.text
            and 'href="#content"' in page.text
        )
        assert (await browser.get("/dashboard/login")).status_code == 303  # already signed in

        assert (await browser.post("/dashboard/logout", data={})).status_code == 403
        out = await browser.post("/dashboard/logout", data={"csrf_token": _csrf(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
        assert (await browser.get("/dashboard")).status_code == 303

        elsewhere = await _sign_in(browser, "tok-bob", next="https://evil.example/")
        assert elsewhere.headers["location"] == "/dashboard"


def test_session_cookie_is_secure_behind_https(tmp_path: Path) -> None:
    for url, secure in [("https://partners.example", True), ("http://localhost:8000", False)]:
        response = Response()
        auth.start_session(response, make_settings(tmp_path, public_url=url), "alice")
        cookie = next(v for k, v in response.raw_headers if k == b"set-cookie" and b"pf_dashboard=" in v)
        assert (b"secure" in cookie.lower()) is secure, url
    assert auth.safe_next("//evil.example/x") == auth.safe_next("/dashboardx") == "/dashboard"
    assert auth.safe_next("/dashboard/outbox?status=failed") == "/dashboard/outbox?status=failed"


# --- applications --------------------------------------------------------------------------------


async def test_approve_needs_the_sessions_csrf_token(service: Service) -> None:
    pid = (await service.signup({"email": "csrf@example.com", "name": "Cee Surf"})).json()["partner_id"]
    async with _client(service) as alice, _client(service) as bob:
        await _sign_in(alice)
        await _sign_in(bob, "tok-bob")
        page = await alice.get("/dashboard/applications")
        assert f'id="application-{pid}"' in page.text and f'id="approve-{pid}"' in page.text
        bobs_token = _csrf((await bob.get("/dashboard/applications")).text)
        action = f"/dashboard/applications/{pid}/decision"

        missing = await alice.post(action, data={"decision": "approve"})
        wrong = await alice.post(action, data={"decision": "approve", "csrf_token": bobs_token})
        assert missing.status_code == wrong.status_code == 403
        assert await _stage(service, pid) == "applied"

        done = await alice.post(action, data={"decision": "approve", "csrf_token": _csrf(page.text)})
        assert done.status_code == 303 and done.headers["location"] == "/dashboard/applications"
        assert await eventually_async(lambda: _is_stage(service, pid, "onboarding"))
        after = await alice.get(done.headers["location"])
        assert 'id="flash"' in after.text and "Approved Cee Surf" in after.text
        assert f'id="application-{pid}"' not in after.text
        assert 'id="flash"' not in (await alice.get("/dashboard/applications")).text  # shown once

        again = await alice.post(action, data={"decision": "approve", "csrf_token": _csrf(page.text)})
        assert again.status_code == 303
        assert "Already decided" in (await alice.get("/dashboard/applications")).text


async def _is_stage(service: Service, pid: str, stage: str) -> bool:
    return await _stage(service, pid) == stage


async def test_reject_with_a_shared_reason(service: Service) -> None:
    pid = (await service.signup({"email": "nope@example.com", "name": "Noé Fit"})).json()["partner_id"]
    async with _client(service) as alice:
        await _sign_in(alice)
        token = _csrf((await alice.get(f"/dashboard/partners/{pid}")).text)
        response = await alice.post(
            f"/dashboard/applications/{pid}/decision",
            data={"decision": "reject", "reason": "Audience too small", "share_reason": "on",
                  "csrf_token": token, "next": f"/dashboard/partners/{pid}"},
        )  # fmt: skip
        assert response.status_code == 303 and response.headers["location"] == f"/dashboard/partners/{pid}"

        def decided() -> Application | None:
            with session_scope(service.engine) as session:
                application = session.get(Application, pid)
            return application if application and application.status == "rejected" else None

        application = await eventually(decided)
        assert application.reason == "Audience too small" and application.share_reason is True
        assert application.decided_by == "alice"
        detail = await alice.get(f"/dashboard/partners/{pid}")
        assert "Rejected Noé Fit" in detail.text and "Reason: Audience too small (shared" in detail.text


async def test_pending_applications_oldest_first_with_overdue_marked(service: Service) -> None:
    now = datetime.now(UTC)
    with session_scope(service.engine) as session:
        for index in range(55):
            partner = Partner(
                id=f"p{index:03d}",
                program="default",
                email=f"a{index}@example.com",
                name=f"Applicant {index:03d}",
            )
            session.add(partner)
            session.flush()
            session.add(Application(partner_id=partner.id, submitted_at=now - timedelta(hours=100.5 - index)))  # fmt: skip
    async with _client(service) as alice:
        await _sign_in(alice)
        first = (await alice.get("/dashboard/applications")).text
        second = (await alice.get(_next_url(first))).text
    rows = re.findall(r'<tr id="application-(p\d+)" class="(overdue)?"', first)
    assert len(rows) == 50 and [pid for pid, _ in rows][:3] == ["p000", "p001", "p002"]
    # submitted 100.5 - i hours ago: overdue (> 48 h) up to p052
    assert {pid for pid, mark in rows if mark} == {f"p{i:03d}" for i in range(50)}
    assert first.count('<span class="badge overdue">Overdue</span>') == 50 + 1  # + the legend
    assert _next_url(first).startswith("/dashboard/applications?cursor=")
    later = re.findall(r'<tr id="application-(p\d+)" class="(overdue)?"', second)
    assert [pid for pid, _ in later] == [f"p{i:03d}" for i in range(50, 55)]
    assert [bool(mark) for _, mark in later] == [True, True, True, False, False]
    assert 'rel="next"' not in second and 'rel="first" href="/dashboard/applications"' in second


# --- pipeline board --------------------------------------------------------------------------------


async def test_pipeline_pages_through_a_thousand_partners(service: Service) -> None:
    base = datetime.now(UTC) - timedelta(days=30)
    with session_scope(service.engine) as session:
        session.add_all(
            Partner(id=f"bulk{index:04d}", program="default", email=f"bulk{index}@example.com",
                    name=f"Bulk {index:04d}", stage="active" if index < 990 else "offboarded",
                    stage_changed_at=base + timedelta(minutes=index))
            for index in range(1000)
        )  # fmt: skip
    async with _client(service) as alice:
        await _sign_in(alice)
        board = (await alice.get("/dashboard")).text
        pages = [(await alice.get("/dashboard?stage=active")).text]
        while len(pages) < 25 and 'rel="next"' in pages[-1]:
            pages.append((await alice.get(_next_url(pages[-1]))).text)
        stored_only = (await alice.get("/dashboard/partners/bulk0000")).text  # no workflow: the stored stage

    assert 'id="count-active"' in board and re.search(r'id="count-active">.*<strong>990</strong>', board)
    assert re.search(r'id="count-offboarded">.*<strong>10</strong>', board)
    assert _rows(board) == 20 + 10  # the board shows the 20 longest in each stage
    assert _next_url(board).startswith("/dashboard?stage=active&cursor=")  # continues in the stage page
    first, last = pages[0], pages[-1]
    assert _rows(first) == 50 and 'id="partner-bulk0000"' in first and 'id="partner-bulk0050"' not in first
    assert _next_url(first).startswith("/dashboard?stage=active&cursor=") and 'rel="first"' not in first
    assert "Showing 50 of 990" in first and "30 d" in first
    assert len(pages) == 20 and [_rows(page) for page in pages] == [50] * 19 + [40]
    assert 'id="partner-bulk0989"' in last and 'id="partner-bulk0949"' not in last
    assert 'rel="next"' not in last and 'rel="first" href="/dashboard?stage=active"' in last
    assert 'id="partner-stage">Stage: Active' in stored_only and 'id="temporal-link"' in stored_only


def _next_url(html: str) -> str:
    found = re.search(r'<a rel="next" href="([^"]+)">', html)
    assert found, "no Next page link"
    return found.group(1).replace("&amp;", "&")


# --- partner detail and program view ---------------------------------------------------------------


async def test_partner_detail_shows_timeline_kpis_and_temporal_link(service: Service) -> None:
    pid = await service.approved_partner("detail@example.com", name="Dee Tail")
    now = datetime.now(UTC)
    with session_scope(service.engine) as session:
        session.add_all(
            PerformanceEvent(
                event_id=f"c{i}", partner_id=pid, type="click", occurred_at=now - timedelta(days=i)
            )
            for i in range(3)
        )
    await eventually(lambda: any(m.template == "welcome" for m in _messages(service, pid)))
    async with _client(service) as alice:
        await _sign_in(alice)
        page = await alice.get(f"/dashboard/partners/{pid}")
        missing = await alice.get("/dashboard/partners/nobody")

    assert page.status_code == 200 and "<h1>Dee Tail</h1>" in page.text
    link = f'id="temporal-link" href="http://localhost:8233/namespaces/default/workflows/partner-{pid}"'
    assert link in page.text
    assert 'id="partner-stage">Stage: Onboarding' in page.text and 'id="item-terms_accepted"' in page.text
    timeline = page.text.split('id="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "Application submitted" in timeline and "Application approved by alice" in timeline
    assert "Approved" in timeline and "by alice" in timeline  # the workflow's own history entry
    assert "Email “welcome” to detail@example.com (sent)" in timeline
    assert re.search(r'id="kpi-clicks">\s*<th scope="row">Clicks</th>\s*<td class="num">3</td>', page.text)
    assert missing.status_code == 404 and 'id="not-found"' in missing.text


def _messages(service: Service, pid: str) -> list[OutboxMessage]:
    with session_scope(service.engine) as session:
        return outbox.list_messages(session, partner_id=pid)


async def test_program_page_has_funnel_charts_top_and_at_risk(service: Service) -> None:
    now = datetime.now(UTC)
    stages = {"applied": 4, "onboarding": 3, "active": 2, "rejected": 1}
    with session_scope(service.engine) as session:
        for stage, count in stages.items():
            for index in range(count):
                session.add(Partner(id=f"{stage}{index}", program="default", email=f"{stage}{index}@example.com",
                                    name=f"{stage.title()} {index}", stage=stage,
                                    stage_changed_at=now - timedelta(days=60)))  # fmt: skip
        session.add(Partner(id="elsewhere", program="other", email="x@example.com", name="X", stage="active"))
        session.add_all([
            PerformanceEvent(event_id="sale", partner_id="active0", type="conversion", amount=1234.0, occurred_at=now - timedelta(days=1)),
            PerformanceEvent(event_id="click1", partner_id="active0", type="click", occurred_at=now - timedelta(days=1)),
            PerformanceEvent(event_id="click2", partner_id="active0", type="click", occurred_at=now - timedelta(days=15)),
        ])  # fmt: skip
    async with _client(service) as alice:
        await _sign_in(alice)
        page = await alice.get("/dashboard/programs/default")
        listing = await alice.get("/dashboard/programs")
        unknown = await alice.get("/dashboard/programs/nothing-here")

    html = page.text
    assert page.status_code == 200
    for stage, count in {**stages, "approved": 0, "offboarded": 0}.items():
        assert re.search(
            rf'id="funnel-{stage}">.*?<strong class="funnel-count">{count}</strong>', html, re.S
        ), stage
    assert '<svg id="chart-revenue"' in html and '<svg id="chart-clicks"' in html
    assert '<title id="chart-revenue-title">Weekly net revenue (USD)</title>' in html
    assert "total 1,234" in html and '<desc id="chart-clicks-desc">Weekly clicks, weeks of' in html
    bars = html.count("<rect ") - html.count(
        'class="funnel-bar"'
    )  # the funnel's bars are SVG too (no inline style)
    assert bars == 24 and 'id="weekly-table"' in html
    top = html.split('id="top-partners"', 1)[1].split("</table>", 1)[0]
    assert "Active 0" in top and "1,234.00" in top and "Active 1" not in top
    assert 'id="at-risk-active1"' in html and 'id="at-risk-active0"' not in html
    assert 'id="at-risk-elsewhere"' not in html and 'id="at-risk-onboarding0"' not in html
    assert 'id="program-default"' in listing.text and 'id="program-other"' in listing.text
    assert unknown.status_code == 404


def test_bar_chart_geometry() -> None:
    chart = charts.bar_chart("c", "Revenue", "USD", [("a", 100.0), ("b", -50.0), ("c", 0.0)])
    tall, negative, empty = chart.bars
    assert tall.y + tall.height == chart.baseline == negative.y and empty.height == 0
    assert tall.height == 2 * negative.height and {tick.label for tick in chart.ticks} >= {"-50", "0", "100"}
    assert charts.nice_step(730) == 200 and charts.nice_step(0) == 1


# --- outbox ------------------------------------------------------------------------------------------


async def test_outbox_filters_and_pages(service: Service) -> None:
    with session_scope(service.engine) as session:
        rows = [("email", "ann@example.com", "sent"), ("email", "bob@example.com", "failed"),
                ("slack", "#partner-managers", "sent")] + [("email", "bulk@example.com", "sent")] * 57  # fmt: skip
        for index, (channel, to, status) in enumerate(rows):
            session.add(OutboxMessage(idempotency_key=f"k{index}", channel=channel, recipient=to,
                                      template="welcome", subject=f"Message {index}", status=status,
                                      error="550 no such user" if status == "failed" else None))  # fmt: skip
    async with _client(service) as alice:
        await _sign_in(alice)

        async def recipients(**params: str) -> list[str]:
            html = (await alice.get("/dashboard/outbox", params=params)).text
            return re.findall(r'<th scope="row" class="recipient">([^<]*)</th>', html)

        assert await recipients(channel="slack") == ["#partner-managers"]
        assert await recipients(status="failed") == ["bob@example.com"]
        assert await recipients(recipient="ANN@example.com") == ["ann@example.com"]
        assert await recipients(channel="slack", status="failed") == []
        assert len(await recipients()) == 50 and len(await recipients(page="2")) == 10
        assert await recipients(channel="bogus", recipient="bob@example.com") == ["bob@example.com"]
        page = (await alice.get("/dashboard/outbox", params={"status": "sent"})).text
    assert 'rel="next" href="/dashboard/outbox?status=sent&amp;page=2"' in page
    assert '<option value="sent" selected>' in page and "59 messages match the filters" in page
