"""The hosted application page over HTTP: real app, worker and Temporal dev server."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import eventually_async
from itsdangerous import TimestampSigner
from service import ALICE, Service, running_service
from sqlmodel import select
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.apply import guard
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner

PAGE_TEXT = {
    "locale": "en",
    "description": "Sell our shoes.\n\nEarn on every pair.",
    "commission_summary": "20 % of net revenue",
    "terms_summary": "No paid search on our brand.",
}


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path, rate_limit_apply="100/minute") as running:
        program = {"name": "Acme Shoes", "landing_url": "https://shop.example/"}
        assert (await running.http.put("/programs/acme", json=program, headers=ALICE)).status_code == 200
        page = await running.http.put("/programs/acme/page", json=PAGE_TEXT, headers=ALICE)
        assert page.status_code == 200, page.text
        yield running


def token_in(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def form(service: Service, http: httpx.AsyncClient | None = None, **params: str) -> dict[str, str]:
    """Load the form (which sets the browser's nonce cookie) and return the fields to post."""
    page = await (http or service.http).get("/apply/acme", params=params)
    assert page.status_code == 200, page.text
    return {"form_token": token_in(page.text), "locale": "en"}


def partners(service: Service) -> list[Partner]:
    with session_scope(service.engine) as session:
        return list(session.exec(select(Partner).where(Partner.program == "acme")))


async def post(service: Service, data: dict[str, Any], lang: str = "en") -> httpx.Response:
    return await service.http.post(f"/apply/acme?lang={lang}", data=data)


async def test_page_shows_the_program_in_the_visitors_language(service: Service) -> None:
    page = await service.http.get("/apply/acme", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})

    assert page.headers["x-frame-options"] == "DENY" and "accept-language" in page.headers["vary"].lower()
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert '<html lang="de"' in html and "Bewerbung für das Partnerprogramm Acme Shoes" in html
    assert (
        '<div lang="en">' in html
        and "<p>Sell our shoes.</p>" in html
        and "<p>Earn on every pair.</p>" in html
    )
    assert "20 % of net revenue" in html and "No paid search on our brand." in html
    assert '<label for="email">E-Mail-Adresse</label>' in html and 'action="/apply/acme?lang=de"' in html
    assert guard.COOKIE in page.headers["set-cookie"] and "samesite=lax" in page.headers["set-cookie"].lower()
    assert '<option value="FR">Frankreich</option>' in html

    assert '<html lang="pl"' in (await service.http.get("/apply/acme?lang=pl")).text
    assert '<html lang="en"' in (await service.http.get("/apply/acme?lang=xx")).text


async def test_unknown_program_is_404_in_the_visitors_language(service: Service) -> None:
    for method in ("GET", "POST"):
        page = await service.http.request(
            method, "/apply/nope?lang=fr", data={} if method == "POST" else None
        )
        assert page.status_code == 404 and "Aucun programme partenaires ici" in page.text
    assert (await service.http.get("/apply/nope/thanks")).status_code == 404


async def test_applying_starts_the_workflow_once_per_email(service: Service) -> None:
    fields = await form(service)
    data = fields | {"email": " Ada@Example.com", "name": "Ada Lovelace", "company": "Lovelace Media",
                     "website": "lovelace.example", "country": "fr", "locale": "fr"}  # fmt: skip

    first = await post(service, data)

    assert first.status_code == 303 and first.headers["location"] == "/apply/acme/thanks?lang=en"
    [partner] = partners(service)
    assert (partner.email, partner.locale, partner.country, partner.source, partner.website) == (
        "ada@example.com", "fr", "FR", "apply-page", "https://lovelace.example/",
    )  # fmt: skip
    detail = await eventually_async(
        lambda: _detail(service, partner.id), timeout=20
    )  # the lifecycle workflow started, like a webhook signup's
    assert detail["stage"] == "applied" and [h["event"] for h in detail["history"]].count("applied") == 1

    repeat = await post(service, data | await form(service))
    webhook = await service.signup({"email": "ada@example.com", "name": "Ada", "program": "acme"})

    assert repeat.status_code == 303 and webhook.status_code == 200
    assert webhook.json()["partner_id"] == partner.id and len(partners(service)) == 1
    detail = await _detail(service, partner.id)
    assert [h["event"] for h in detail["history"]].count("applied") == 1  # never a second workflow
    metrics = (await service.http.get("/metrics")).text  # counted like the webhook's signups
    assert 'partnerflow_signups_total{kind="new",program="acme"} 1.0' in metrics
    assert 'partnerflow_signups_total{kind="repeat",program="acme"} 2.0' in metrics
    thanks = await service.http.get(first.headers["location"])
    assert (
        thanks.status_code == 200 and "Thank you for applying" in thanks.text and "Acme Shoes" in thanks.text
    )


async def _detail(service: Service, partner_id: str) -> dict[str, Any] | None:
    response = await service.http.get(f"/partners/{partner_id}", headers=ALICE)
    body = response.json()
    return body if response.status_code == 200 and body["history"] else None


async def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_created(service: Service) -> None:
    data = await form(service) | {"email": "bot@example.com", "name": "Bot", guard.HONEYPOT_FIELD: "x"}

    response = await post(service, data)

    assert response.status_code == 303 and response.headers["location"] == "/apply/acme/thanks?lang=en"
    assert partners(service) == []


async def test_invalid_fields_show_the_form_again_with_errors_and_values(service: Service) -> None:
    data = await form(service) | {"email": "not-an-email", "name": "", "website": "javascript:alert(1)",
                                  "company": '<script>alert("x")</script>', "country": "XX"}  # fmt: skip

    page = await post(service, data, lang="fr")

    assert page.status_code == 422 and '<html lang="fr"' in page.text
    html = page.text
    assert "Saisissez une adresse e-mail valide" in html and "Ce champ est obligatoire." in html
    assert "Saisissez une adresse web commençant par http://" in html and "Choisissez un pays" in html
    assert 'value="not-an-email"' in html and 'aria-invalid="true"' in html
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert 'href="#email"' in html and partners(service) == []
    assert token_in(html) != data["form_token"]  # a fresh token to send it again


async def test_a_missing_altered_expired_or_foreign_token_is_refused(service: Service) -> None:
    fields = await form(service)
    applicant = {"email": "grace@example.com", "name": "Grace Hopper"}
    expired = _expired_token(service)
    cases = {"missing": "", "altered": fields["form_token"][:-2] + "xx", "expired": expired}
    for case, token in cases.items():
        page = await post(service, fields | applicant | {"form_token": token})
        assert page.status_code == 400, case
        assert 'value="grace@example.com"' in page.text and 'id="form-error"' in page.text, case
    assert "This form had expired" in (await post(service, fields | applicant | {"form_token": expired})).text

    # A token from another browser (another cookie): what a cross-site post would carry.
    async with httpx.AsyncClient(base_url=service.http.base_url) as other:
        foreign = await form(service, other)
    assert (await post(service, applicant | foreign)).status_code == 400
    assert partners(service) == []
    assert (await post(service, fields | applicant)).status_code == 303


def _expired_token(service: Service) -> str:
    nonce = service.http.cookies[guard.COOKIE]
    signed_at = int(time.time() - guard.FORM_TTL.total_seconds() - 60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: signed_at)
        return guard.form_token(service.settings, "acme", nonce)


async def test_too_many_posts_from_one_address_get_429_with_retry_after(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with running_service(dev_env, tmp_path, rate_limit_apply="2/minute") as service:
        await service.http.put("/programs/acme", json={"name": "Acme", "landing_url": "https://a.example/"},
                               headers=ALICE)  # fmt: skip
        fields = await form(service)
        answers = [
            await post(service, fields | {"email": f"p{i}@example.com", "name": "P"}, lang="pl")
            for i in range(3)
        ]

    assert [a.status_code for a in answers] == [303, 303, 429]
    assert 0 < int(answers[2].headers["retry-after"]) <= 60
    assert "Zbyt wiele prób" in answers[2].text and 'href="/apply/acme?lang=pl"' in answers[2].text
