"""The partner's self-serve page and deep links over HTTP: real app, worker and Temporal dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.rendering.tokens import make_portal_token
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Resource, Webinar, WebinarSeat


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        program = {"name": "Default", "landing_url": "https://shop.example/en/"}
        assert (await running.http.put("/programs/default", json=program, headers=ALICE)).status_code == 200
        yield running


async def partner_with_link(
    service: Service, email: str = "ada@example.com", **fields: str
) -> tuple[str, str]:
    """An approved partner, their tracking code and portal token."""
    pid = await service.approved_partner(email, **fields)
    with session_scope(service.engine) as session:
        partner = session.get(Partner, pid)
        assert partner is not None
        code = onboarding.issue_tracking_link(session, partner).code
    return code, make_portal_token(service.settings.portal_signing_key, pid)


async def test_results_tier_and_progress_of_the_current_period(service: Service) -> None:
    code, token = await partner_with_link(service)
    pid = (await service.http.get("/partners", headers=ALICE)).json()["items"][0]["partner_id"]
    day = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    events = [
        {"event_id": f"c{i}", "partner_id": pid, "type": "click", "occurred_at": day} for i in range(4)
    ] + [
        {
            "event_id": "s1",
            "partner_id": pid,
            "type": "conversion",
            "amount": 150,
            "currency": "USD",
            "occurred_at": day,
        }
    ]
    assert (await service.http.post("/events", json={"events": events}, headers=ALICE)).json()[
        "accepted"
    ] == 5

    page = await service.http.get(f"/portal/{token}/account")

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "Your partnership, Ada Lovelace" in html and 'aria-current="page">Performance and tools' in html
    assert '<tr id="kpi-clicks"><th scope="row">Clicks</th>\n        <td class="num">4</td>' in html
    assert "150.00 USD" in html and "15.00 USD" in html and "3.7500 USD" in html  # bronze: 10 %
    assert "no comparison yet" in html  # nothing in the period before
    assert "<strong>bronze</strong> tier: 10.0 % commission" in html and "<strong>silver</strong>" in html
    assert "Net revenue this period: 150.00 of 5,000.00 USD (3 %)" in html
    assert '<meter id="meter-revenue" min="0" max="100" value="3">' in html
    assert f'value="http://partnerflow.test/r/{code}"' in html
    manager = (await service.http.get(f"/partners/{pid}/kpis", headers=ALICE)).json()
    assert (manager["clicks"], manager["commission"]) == (4, 15.0)  # the manager endpoint's numbers


async def test_the_link_builder_stays_on_the_landing_site(service: Service) -> None:
    code, token = await partner_with_link(service)

    built = (await service.http.get(f"/portal/{token}/account", params={"to": "/pricing?plan=pro"})).text
    refused = (
        await service.http.get(f"/portal/{token}/account", params={"to": "https://evil.example/"})
    ).text

    assert f'value="http://partnerflow.test/r/{code}?to=/pricing%3Fplan%3Dpro"' in built
    assert f'value="https://shop.example/pricing?plan=pro&amp;ref={code}"' in built
    assert "Links can only lead to pages on shop.example." in refused and 'id="built"' not in refused
    assert 'value="https://evil.example/"' in refused and 'aria-invalid="true"' in refused


async def test_deep_link_redirects_on_the_landing_host_only(service: Service) -> None:
    code, _ = await partner_with_link(service)

    deep = await service.http.get(f"/r/{code}", params={"to": "/pricing?plan=pro"})
    home = await service.http.get(f"/r/{code}")

    assert (
        deep.status_code == 302
        and deep.headers["location"] == f"https://shop.example/pricing?plan=pro&ref={code}"
    )
    assert home.headers["location"] == f"https://shop.example/en/?ref={code}"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "https://shop.example@evil.example/",
                      "javascript:alert(1)", "/\\evil.example", "https://shop.example.evil.example/"):  # fmt: skip
        refused = await service.http.get(f"/r/{code}", params={"to": elsewhere})
        assert refused.status_code == 400, elsewhere
        assert refused.json()["detail"].startswith("to: ") and "location" not in refused.headers


async def test_webinar_history_attended_missed_upcoming_cancelled(service: Service) -> None:
    _, token = await partner_with_link(service)
    pid = (await service.http.get("/partners", headers=ALICE)).json()["items"][0]["partner_id"]
    now = datetime.now(UTC)
    sessions = {"Kick-off": (-20, "attended", None), "Deep dive": (-10, "no_show", None),
                "Next steps": (5, "invited", None), "Dropped": (7, "invited", now)}  # fmt: skip
    with session_scope(service.engine) as session:
        for title, (days, seat_status, cancelled) in sessions.items():
            webinar = Webinar(title=title, starts_at=now + timedelta(days=days), join_url="https://meet.example/x",
                              capacity=10, cancelled_at=cancelled)  # fmt: skip
            session.add(webinar)
            session.flush()
            assert webinar.id is not None
            session.add(WebinarSeat(webinar_id=webinar.id, partner_id=pid, status=seat_status))
        session.add(
            Resource(program="default", title="Brand kit", kind="logo", url="https://cdn.example/kit.zip")
        )
        session.add(Resource(program="default", title="Sneaky", kind="guide", url="javascript:alert(1)"))

    html = (await service.http.get(f"/portal/{token}/account")).text

    for title, status in (("Kick-off", "Attended"), ("Deep dive", "Missed"), ("Next steps", "Upcoming"), ("Dropped", "Cancelled")):  # fmt: skip
        assert f'<th scope="row">{title}</th>' in html.split(title, 1)[0] + f'<th scope="row">{title}</th>'
        assert status in html.split(f">{title}</th>", 1)[1].split("</tr>", 1)[0], title
    assert 'href="https://cdn.example/kit.zip"' in html and "javascript:" not in html and "Sneaky" in html


async def test_email_preferences_unsubscribe_and_resubscribe(service: Service) -> None:
    _, token = await partner_with_link(service, locale="fr")
    pid = (await service.http.get("/partners", headers=ALICE)).json()["items"][0]["partner_id"]

    off = await service.http.post(f"/portal/{token}/preferences", data={"nudges": "off"})
    page = (await service.http.get(off.headers["location"])).text

    assert (
        off.status_code == 303
        and off.headers["location"] == f"/portal/{token}/account?saved=true#preferences"
    )
    assert _unsubscribed(service, pid)
    assert '<html lang="fr"' in page and "Vos préférences d’e-mail sont enregistrées." in page  # noqa: RUF001
    assert "Vous êtes désinscrit des conseils et des rappels." in page and 'name="nudges" value="on"' in page

    assert (await service.http.post(f"/portal/{token}/preferences", data={"nudges": "on"})).status_code == 303
    assert not _unsubscribed(service, pid)
    assert (
        await service.http.post(f"/portal/{token}/preferences", data={"nudges": "maybe"})
    ).status_code == 422
    assert (await service.http.post("/portal/garbage/preferences", data={"nudges": "off"})).status_code == 403
    assert (await service.http.get("/portal/garbage/account")).status_code == 403


def _unsubscribed(service: Service, partner_id: str) -> bool:
    with session_scope(service.engine) as session:
        partner = session.get(Partner, partner_id)
        return partner is not None and partner.unsubscribed_at is not None
