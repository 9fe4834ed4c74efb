"""The partner portal over HTTP, end to end: real app, worker and Temporal dev server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import add_partner, eventually, eventually_async, messages
from itsdangerous import TimestampSigner
from service import ALICE, Service, running_service
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings
from partnerflow.rendering.tokens import make_portal_token, read_portal_token
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TermsAcceptance, Webinar

TERMS_MARKDOWN = "# Terms\n\n**Be nice.**"


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


def token_for(settings: Settings, partner_id: str) -> str:
    return make_portal_token(settings.portal_signing_key, partner_id)


def expired_token_for(settings: Settings, partner_id: str) -> str:
    """A correctly signed token, dated one minute past the link lifetime."""
    signed_at = int(time.time() - settings.portal_link_ttl.total_seconds() - 60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        return make_portal_token(settings.portal_signing_key, partner_id)


def publish_terms(service: Service, markdown: str = TERMS_MARKDOWN) -> int:
    with session_scope(service.engine) as session:
        return onboarding.publish_terms(session, "default", "Partner terms", markdown, by="alice").version


def acceptances(service: Service) -> list[TermsAcceptance]:
    with session_scope(service.engine) as session:
        return list(session.exec(select(TermsAcceptance)))


async def test_page_shows_the_partner_their_terms_and_checklist(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    publish_terms(service)

    token = token_for(service.settings, pid)  # once: a token made a second later differs
    page = await service.http.get(f"/portal/{token}")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<html lang="en"' in html and "<main" in html and "<h1>Welcome, Ada Lovelace</h1>" in html
    assert "<strong>Be nice.</strong>" in html and "Version 1" in html
    assert "0 of 4 done" in html and '<progress id="progress" max="4" value="0">' in html
    assert "Accept the partner terms" in html and "Attend the onboarding webinar" in html
    assert f'action="/portal/{token}/terms/accept"' in html
    assert '<input type="hidden" name="version" value="1">' in html
    assert 'id="tracking-url"' not in html  # no tracking link issued yet
    assert "No webinar is scheduled for you yet" in html


async def test_tampered_foreign_and_garbage_tokens_get_403(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    publish_terms(service)
    token = token_for(service.settings, pid)
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    foreign = make_portal_token("someone-elses-secret", pid)

    for bad in (tampered, foreign, "garbage"):
        page = await service.http.get(f"/portal/{bad}")
        assert page.status_code == 403 and "This link is not valid" in page.text, bad
        assert 'action="/portal/resend"' not in page.text
        accepted = await service.http.post(f"/portal/{bad}/terms/accept", data={"version": "1"})
        assert accepted.status_code == 403
        as_json = await service.http.post(f"/portal/{bad}/terms/accept", json={})
        assert as_json.status_code == 403 and as_json.json() == {"detail": "this link is not valid"}
    assert acceptances(service) == []


async def test_expired_link_offers_a_fresh_one_sent_once_a_day(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    expired = expired_token_for(service.settings, pid)

    page = await service.http.get(f"/portal/{expired}")
    assert page.status_code == 403 and "This link has expired" in page.text
    assert 'action="/portal/resend"' in page.text
    assert f'<input type="hidden" name="token" value="{expired}">' in page.text

    first = await service.http.post("/portal/resend", data={"token": expired})
    second = await service.http.post("/portal/resend", data={"token": expired})

    for answer in (first, second):
        assert answer.status_code == 200 and "sent a fresh link to your email" in answer.text
        assert "ada@example.com" not in answer.text
    # The partner's workflow sends it (retried, deduplicated per day) and notes it in the timeline.
    await eventually(
        lambda: [
            m
            for m in messages(service.engine, partner_id=pid)
            if m.template == "portal_link" and m.status == "sent"
        ]
    )
    sent = [m for m in messages(service.engine, partner_id=pid) if m.template == "portal_link"]
    assert len(sent) == 1 and sent[0].status == "sent" and sent[0].recipient == "ada@example.com"
    detail = await service.http.get(f"/partners/{pid}", headers=ALICE)
    assert [h for h in detail.json()["history"] if h["event"] == "portal-link-requested"]
    fresh = sent[0].body_text.split("/portal/", 1)[1].split()[0]
    ttl = service.settings.portal_link_ttl
    assert read_portal_token(service.settings.portal_signing_key, fresh, ttl) == pid

    unknown = await service.http.post(
        "/portal/resend", data={"token": expired_token_for(service.settings, "nobody")}
    )
    assert unknown.status_code == 200 and unknown.text == first.text
    assert (await service.http.post("/portal/resend", data={"token": "garbage"})).status_code == 403
    assert len([m for m in messages(service.engine) if m.template == "portal_link"]) == 1


async def test_form_acceptance_records_the_audit_trail_and_moves_the_workflow(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    publish_terms(service)
    token = token_for(service.settings, pid)

    accepted = await service.http.post(
        f"/portal/{token}/terms/accept",
        data={"version": "1"},
        headers={"User-Agent": "PortalTest/1.0", "X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
        follow_redirects=False,
    )

    assert accepted.status_code == 303 and accepted.headers["location"] == f"/portal/{token}"
    [record] = acceptances(service)
    assert (record.partner_id, record.version, record.ip, record.user_agent) == (
        pid,
        1,
        "203.0.113.7",
        "PortalTest/1.0",
    )

    async def terms_ticked() -> bool:
        detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
        return bool(detail["checklist"]["terms_accepted"])

    await eventually_async(terms_ticked)
    page = (await service.http.get(f"/portal/{token}")).text
    assert f"You accepted version 1 on {record.accepted_at.date().isoformat()}." in page
    assert "/terms/accept" not in page
    done_item = page.split('id="item-terms_accepted"', 1)[1].split("</li>", 1)[0]
    assert "✓ Done" in done_item

    # The workflow then issues a tracking link, which the portal shows for copying.
    async def tracking_shown() -> str | None:
        html = (await service.http.get(f"/portal/{token}")).text
        return html if 'id="tracking-url"' in html else None

    html = await eventually_async(tracking_shown)
    assert 'readonly value="http://partnerflow.test/r/' in html and "Copy link" in html

    publish_terms(service, "# Terms\n\n**Be even nicer.**")
    page = (await service.http.get(f"/portal/{token}")).text
    assert "New terms to review: version 2 replaces version 1" in page
    assert '<input type="hidden" name="version" value="2">' in page


async def test_json_acceptance_is_idempotent_and_refuses_stale_versions(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    token = token_for(service.settings, pid)
    url = f"/portal/{token}/terms/accept"

    none_yet = await service.http.post(url, json={})
    assert none_yet.status_code == 409 and none_yet.json() == {"detail": "no terms published yet"}
    assert "No terms have been published yet." in (await service.http.post(url, data={})).text

    publish_terms(service)
    stale_json = await service.http.post(url, json={"version": 2})
    stale_form = await service.http.post(url, data={"version": "2"})
    assert stale_json.status_code == 409
    assert stale_json.json() == {"detail": "terms changed, please review version 1"}
    assert stale_form.status_code == 409 and "Terms changed, please review version 1" in stale_form.text
    assert f'href="/portal/{token}"' in stale_form.text
    assert acceptances(service) == []

    first = await service.http.post(url, json={"version": 1})
    again = await service.http.post(url, json={})

    assert first.status_code == again.status_code == 200
    assert first.json()["already_accepted"] is False and again.json()["already_accepted"] is True
    assert {k: v for k, v in first.json().items() if k != "already_accepted"} == {
        "partner_id": pid,
        "version": 1,
        "accepted_at": again.json()["accepted_at"],
    }
    assert len(acceptances(service)) == 1
    assert (await service.http.post(url, json={"version": "one"})).status_code == 422


async def test_a_token_only_ever_reaches_its_own_partner(service: Service) -> None:
    ada = await service.approved_partner("ada@example.com", name="Ada Lovelace")
    bob = await service.approved_partner("bob@example.com", name="Bob Byron")
    publish_terms(service)
    bob_token = token_for(service.settings, bob)

    page = (await service.http.get(f"/portal/{bob_token}")).text
    accepted = await service.http.post(f"/portal/{bob_token}/terms/accept", json={"version": 1})

    assert "Bob Byron" in page and "Ada" not in page and "ada@example.com" not in page
    assert accepted.status_code == 200 and accepted.json()["partner_id"] == bob
    assert [(a.partner_id, a.version) for a in acceptances(service)] == [(bob, 1)]
    ada_page = (await service.http.get(f"/portal/{token_for(service.settings, ada)}")).text
    assert "/terms/accept" in ada_page and "You accepted" not in ada_page


async def test_page_speaks_the_partners_language(service: Service) -> None:
    pid = await service.approved_partner("amelie@example.com", name="Amélie", locale="fr")
    publish_terms(service)

    html = (await service.http.get(f"/portal/{token_for(service.settings, pid)}")).text

    assert '<html lang="fr"' in html and "Bienvenue, Amélie" in html
    assert "Votre intégration" in html and "0 sur 4 terminées" in html and "J’accepte" in html  # noqa: RUF001
    assert "I accept" not in html


async def test_notices_speak_the_partners_or_else_the_browsers_language(service: Service) -> None:
    pid = await service.approved_partner("dora@example.com", name="Dora", locale="de")
    expired = expired_token_for(service.settings, pid)
    polish_browser = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}

    german = await service.http.get(f"/portal/{expired}", headers=polish_browser)
    polish = await service.http.get("/portal/garbage", headers=polish_browser)
    spanish = await service.http.get("/portal/garbage", headers={"Accept-Language": "es-ES"})

    assert german.status_code == 403 and '<html lang="de"' in german.text
    assert "Dieser Link ist abgelaufen" in german.text and "Neuen Link senden</button>" in german.text
    assert polish.status_code == 403 and "<h1>Ten link jest nieprawidłowy</h1>" in polish.text
    assert spanish.status_code == 403 and "<h1>This link is not valid</h1>" in spanish.text


async def test_webinar_calendar_for_the_partners_upcoming_seat(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    token = token_for(service.settings, pid)
    assert (await service.http.get(f"/portal/{token}/webinar.ics")).status_code == 404

    with session_scope(service.engine) as session:
        session.add(
            Webinar(
                title="Partner onboarding 101",
                starts_at=datetime.now(UTC) + timedelta(days=3),
                timezone="Europe/Paris",
                join_url="https://meet.example/onboarding",
                capacity=10,
            )
        )
        partner = session.get(Partner, pid)
        assert partner is not None
        assert onboarding.reserve_next_seat(session, partner, []) is not None

    page = (await service.http.get(f"/portal/{token}")).text
    ics = await service.http.get(f"/portal/{token}/webinar.ics")

    assert "Partner onboarding 101" in page and "(Europe/Paris)" in page
    assert 'href="https://meet.example/onboarding"' in page and f"/portal/{token}/webinar.ics" in page
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"SUMMARY:Partner onboarding 101" in ics.content and b"ada@example.com" in ics.content


async def test_rejected_partners_are_turned_away(service: Service) -> None:
    response = await service.signup({"email": "eve@example.com", "name": "Eve"})
    pid = response.json()["partner_id"]
    rejected = await service.http.post(
        f"/partners/{pid}/decision", json={"decision": "reject"}, headers=ALICE
    )
    assert rejected.status_code == 200

    page = await service.http.get(f"/portal/{token_for(service.settings, pid)}")

    assert page.status_code == 403 and "This portal is for approved partners" in page.text
    assert "Eve" not in page.text


async def test_page_falls_back_to_the_stored_stage_without_a_workflow(service: Service) -> None:
    partner = add_partner(service.engine, "orphan@example.com")

    page = await service.http.get(f"/portal/{token_for(service.settings, partner.id)}")

    assert page.status_code == 200
    assert "Status: application received" in page.text and "0 of 4 done" in page.text
    assert "The partner terms are not published yet" in page.text
