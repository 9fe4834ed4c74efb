"""Dashboard: the application page's text form, the program's audit CSV, a partner's audit trail."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from helpers import eventually_async
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def signed_in(service: Service) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=service.http.base_url, timeout=20)
    form = await http.get("/dashboard/login")
    data = {"token": "tok-alice", "csrf_token": CSRF.search(form.text).group(1), "next": ""}  # type: ignore[union-attr]
    assert (await http.post("/dashboard/login", data=data)).status_code == 303
    return http


async def test_managers_write_the_application_page_per_locale(service: Service) -> None:
    http = await signed_in(service)
    form = await http.get("/dashboard/programs/acme/page?locale=fr")
    assert form.status_code == 200 and 'id="no-text"' in form.text and 'name="locale" value="fr"' in form.text
    text = {"locale": "fr", "description": "Vendez nos <b>chaussures</b>.", "commission_summary": "20 %",
            "terms_summary": "Pas de SEA sur la marque."}  # fmt: skip

    refused = await http.post("/dashboard/programs/acme/page", data=text)  # no CSRF token
    saved = await http.post(
        "/dashboard/programs/acme/page", data=text | {"csrf_token": CSRF.search(form.text).group(1)}
    )  # type: ignore[union-attr]

    assert refused.status_code == 403
    assert saved.status_code == 303 and saved.headers["location"] == "/dashboard/programs/acme/page?locale=fr"
    again = await http.get(saved.headers["location"])
    assert (
        "Saved the French text of acme" in again.text
        and "Vendez nos &lt;b&gt;chaussures&lt;/b&gt;." in again.text
    )
    api = (await service.http.get("/programs/acme/page", headers=ALICE)).json()
    assert [(p["locale"], p["updated_by"], p["terms_summary"]) for p in api["pages"]] == [
        ("fr", "alice", "Pas de SEA sur la marque.")
    ]
    public = await service.http.get("/apply/acme?lang=fr")
    assert public.status_code == 200 and "<p>Vendez nos &lt;b&gt;chaussures&lt;/b&gt;.</p>" in public.text

    too_long = text | {"csrf_token": CSRF.search(again.text).group(1), "terms_summary": "x" * 2001}  # type: ignore[union-attr]
    refused_text = await http.get(
        (await http.post("/dashboard/programs/acme/page", data=too_long)).headers["location"]
    )
    assert (
        "Nothing saved: terms_summary" in refused_text.text
        and "Pas de SEA sur la marque." in refused_text.text
    )
    await http.aclose()


async def test_partner_page_lists_the_audit_trail_and_the_program_exports_it(service: Service) -> None:
    pid = await service.approved_partner("ada@example.com")
    http = await signed_in(service)

    async def audited() -> str | None:
        page = (await http.get(f"/dashboard/partners/{pid}")).text
        return page if 'class="audit-message"' in page else None

    page = await eventually_async(audited, timeout=20)
    assert 'id="audit-trail"' in page and '<tr class="audit-decision">' in page
    decision = page.split('<tr class="audit-decision">', 1)[1].split("</tr>", 1)[0]
    assert "<td>alice</td>" in decision and "Application approved" in decision

    program = await http.get("/dashboard/programs/default")
    assert 'href="/dashboard/programs/default/page"' in program.text
    export = await http.get("/dashboard/programs/default/audit.csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert export.status_code == 200 and any(r["kind"] == "decision" and r["actor"] == "alice" for r in rows)
    bad = await http.get(
        "/dashboard/programs/default/audit.csv", params={"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert bad.status_code == 422 and "Bad period" in bad.text
    assert (
        await httpx.AsyncClient(base_url=service.http.base_url).get("/dashboard/programs/default/audit.csv")
    ).status_code == 303
    await http.aclose()
