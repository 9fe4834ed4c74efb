"""Approval rules in the dashboard: CSRF-checked forms on the real app, validated by the domain
model the API uses, stored where ``GET /programs/{program}/approval-rules`` reads them, and
deciding real signups."""

from __future__ import annotations

import html
from typing import Any

import pytest
from dashboard_client import Browser
from helpers import eventually_async
from service import ALICE, Service

PAGE = "/dashboard/programs/acme/approval-rules"
EMPTY = {"name": "", "then": "approve", "email_domain_in": "", "email_domain_not_in": "", "country_in": "",
         "country_not_in": "", "disposable_email": "", "reason": "", "delay": ""}  # fmt: skip


async def api_rules(service: Service, program: str = "acme") -> list[dict[str, Any]]:
    response = await service.http.get(f"/programs/{program}/approval-rules", headers=ALICE)
    return list(response.json()["rules"])


async def test_add_edit_move_and_delete_rules_as_the_api_sees_them(service: Service, alice: Browser) -> None:
    assert "No rules: every application waits" in await alice.page(PAGE)
    kind, message, page = await alice.submit(
        PAGE, **EMPTY | {"name": "Partners", "email_domain_in": "@Example.COM, agency.eu", "country_in": "fr, de",
                         "website_required": "on", "delay": "pt2h", "reason": "known domain"},
    )  # fmt: skip
    assert kind == "success" and "Added rule “Partners”" in message, message
    assert "email domain is one of example.com, agency.eu" in html.unescape(page)
    kind, message, _ = await alice.submit(
        PAGE,
        **EMPTY | {"name": "throwaway", "then": "reject", "disposable_email": "yes", "share_reason": "on"},
    )
    assert kind == "success"
    assert await api_rules(service) == [
        {"name": "Partners", "if": {"email_domain_in": ["example.com", "agency.eu"], "country_in": ["FR", "DE"],
         "website_required": True}, "then": "approve", "reason": "known domain", "share_reason": False,
         "delay": "PT2H"},
        {"name": "throwaway", "if": {"disposable_email": True}, "then": "reject", "share_reason": True},
    ]  # fmt: skip

    kind, message, _ = await alice.submit(f"{PAGE}/throwaway/move", direction="up")
    assert (kind, message) == ("success", "Moved “throwaway” up: it is now rule 1 of 2.")
    assert [rule["name"] for rule in await api_rules(service)] == ["throwaway", "Partners"]

    edit_form = await alice.page(f"{PAGE}/Partners/edit")
    assert 'value="example.com, agency.eu"' in edit_form and 'value="PT2H"' in edit_form
    kind, message, _ = await alice.submit(
        f"{PAGE}/Partners/edit",
        **EMPTY | {"name": "Known", "email_domain_in": "example.com", "then": "approve"},
    )
    assert kind == "success" and "Saved rule “Known”" in message
    assert (await api_rules(service))[1] == {
        "name": "Known", "if": {"email_domain_in": ["example.com"]}, "then": "approve", "share_reason": False,
    }  # fmt: skip

    assert "I understand: delete rule “throwaway” now" in await alice.page(f"{PAGE}/throwaway/delete")
    unconfirmed = await alice.post(f"{PAGE}/throwaway/delete")
    assert unconfirmed.status_code == 422 and "Tick the box to confirm" in unconfirmed.text
    assert len(await api_rules(service)) == 2
    kind, message, page = await alice.submit(f"{PAGE}/throwaway/delete", confirm="yes")
    assert (kind, message) == ("success", "Deleted rule “throwaway”.")
    assert [rule["name"] for rule in await api_rules(service)] == ["Known"]


async def test_every_form_needs_the_csrf_token(service: Service, alice: Browser) -> None:
    await service.http.put("/programs/acme/approval-rules", headers=ALICE,
                           json={"rules": [{"name": "a", "then": "approve"}, {"name": "b", "then": "reject"}]})  # fmt: skip
    before = await api_rules(service)
    await alice.page(PAGE)
    for path, data in [
        (PAGE, EMPTY | {"name": "c"}),
        (f"{PAGE}/b/move", {"direction": "up"}),
        (f"{PAGE}/a/edit", EMPTY | {"name": "renamed"}),
        (f"{PAGE}/a/delete", {"confirm": "yes"}),
    ]:
        refused = await alice.post(path, csrf=False, **data)
        assert refused.status_code == 403, path
        forged = await alice.http.post(path, data=data | {"csrf_token": "forged"})
        assert forged.status_code == 403, path
    assert await api_rules(service) == before


@pytest.mark.parametrize(
    "typed, field, message",
    [
        (
            {"email_domain_in": "example.com, not a domain"},
            "email_domain_in",
            "'not a domain' is not a domain name",
        ),
        ({"country_not_in": "FR, Europe"}, "country_not_in", "ISO 3166-1"),
        ({"delay": "P1M"}, "delay", "years and months have no fixed length"),
        ({"delay": "2 hours"}, "delay", "'2 hours' is not an ISO 8601 duration"),
        ({"delay": "P31D"}, "delay", "longer than the longest delay, 30 days"),
        ({"name": ""}, "name", "give the rule a name"),
        ({"name": "-dash first"}, "name", "start with a letter or digit"),
        ({"then": "maybe"}, "then", "choose approve or reject"),
    ],
    ids=["domain", "country", "months", "words", "too-long", "no-name", "bad-name", "then"],
)
async def test_a_refused_rule_comes_back_with_the_error_on_its_field_and_the_input_kept(
    service: Service, alice: Browser, typed: dict[str, str], field: str, message: str
) -> None:
    await alice.page(PAGE)
    data = EMPTY | {"name": "Mine", "reason": "kept as typed"} | typed
    response = await alice.post(PAGE, **data)

    assert response.status_code == 422
    page = html.unescape(response.text)
    assert f'<p id="{field}-error" class="error-text"><strong>Error:</strong> ' in page
    assert message in page.split(f'id="{field}-error"')[1].split("</p>")[0], page
    assert f'<a href="#{field}">' in page and 'aria-invalid="true"' in page
    assert 'value="kept as typed"' in page
    if field != "then":  # radio buttons: only approve or reject can be shown checked
        assert f'value="{typed[field]}"' in page
    assert await api_rules(service) == []


async def test_a_duplicate_name_is_refused_on_add_and_on_rename(service: Service, alice: Browser) -> None:
    for name in ("First", "Second"):
        await alice.page(PAGE)
        await alice.submit(PAGE, **EMPTY | {"name": name})
    response = await alice.post(PAGE, **EMPTY | {"name": "first"})
    assert (
        response.status_code == 422
        and "rule names must be unique: 'first' is used twice" in html.unescape(response.text)
    )
    await alice.page(f"{PAGE}/Second/edit")
    renamed = await alice.post(f"{PAGE}/Second/edit", **EMPTY | {"name": "FIRST"})
    assert renamed.status_code == 422 and "is used twice" in renamed.text
    assert [rule["name"] for rule in await api_rules(service)] == ["First", "Second"]


async def test_a_gone_rule_is_a_message_not_an_error_page(alice: Browser) -> None:
    await alice.page(PAGE)
    kind, message, _ = await alice.submit(f"{PAGE}/ghost/move", direction="down")
    assert (kind, html.unescape(message)) == (
        "error",
        "Nothing moved: no rule named 'ghost': it was deleted or renamed meanwhile",
    )


async def test_a_rule_added_in_the_dashboard_decides_the_next_signup(
    service: Service, alice: Browser
) -> None:
    await alice.page("/dashboard/programs/default/approval-rules")
    kind, _, _ = await alice.submit(
        "/dashboard/programs/default/approval-rules",
        **EMPTY | {"name": "Example staff", "email_domain_in": "example.com", "delay": "PT0S"},
    )
    assert kind == "success"
    response = await service.signup({"email": "ada@team.example.com", "name": "Ada"})
    pid = response.json()["partner_id"]

    async def decided() -> dict[str, Any] | None:
        detail = (await service.http.get(f"/partners/{pid}", headers=ALICE)).json()
        return detail if detail["stage"] != "applied" else None

    detail = await eventually_async(decided)
    assert ("approved", "by rule:Example staff") in [(h["event"], h["detail"]) for h in detail["history"]]
