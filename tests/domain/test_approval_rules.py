"""Approval rules as pure functions: validation, matching, first match wins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from partnerflow.domain.approval_rules import (
    ApplicationFacts,
    ApprovalRule,
    ApprovalRules,
    first_match,
    is_disposable,
    matches,
    parse_duration,
)
from partnerflow.domain.signup import SignupPayload
from partnerflow.domain.stages import Decision


def rule(then: str = "approve", name: str = "r", **conditions: Any) -> ApprovalRule:
    return ApprovalRule.model_validate({"name": name, "if": conditions, "then": then})


def facts(
    email: str = "ada@acme.com", website: str | None = None, country: str | None = None
) -> ApplicationFacts:
    return ApplicationFacts(email=email, website=website, country=country)


def errors(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as raised:
        ApprovalRules.model_validate(data)
    return [(e["loc"], e["msg"]) for e in raised.value.errors()]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("PT2H", timedelta(hours=2)),
        ("pt90m", timedelta(minutes=90)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("P2W", timedelta(weeks=2)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("P3D", timedelta(days=3)),
    ],
)
def test_iso_8601_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "P", "PT", "2h", "P1H", "PT1D", "P1DT", "-PT1H", "P1W2D"])
def test_not_an_iso_8601_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not an ISO 8601 duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M3D"])
def test_years_and_months_are_refused_as_having_no_fixed_length(text: str) -> None:
    with pytest.raises(ValueError, match="years and months have no fixed length"):
        parse_duration(text)


def test_domains_match_exactly_or_as_subdomains_case_insensitively() -> None:
    company = rule(email_domain_in=["@Acme.com"])
    assert company.conditions.email_domain_in == ["acme.com"]
    assert matches(company, facts("ada@acme.com"))
    assert matches(company, facts("ADA@eu.ACME.com"))
    assert not matches(company, facts("ada@notacme.com"))
    assert not matches(rule(email_domain_not_in=["acme.com"]), facts("ada@sales.acme.com"))
    assert matches(rule(email_domain_not_in=["acme.com"]), facts("ada@example.org"))


def test_countries_match_and_an_unknown_country_matches_neither_way() -> None:
    europe = rule(country_in=["pl", "FR"])
    elsewhere = rule(country_not_in=["PL", "FR"])
    assert europe.conditions.country_in == ["PL", "FR"]
    assert matches(europe, facts(country="PL")) and not matches(europe, facts(country="US"))
    assert matches(elsewhere, facts(country="US")) and not matches(elsewhere, facts(country="FR"))
    assert not matches(europe, facts(country=None)) and not matches(elsewhere, facts(country=None))


def test_website_required_never_favours_an_application_without_one() -> None:
    approve, reject = rule("approve", website_required=True), rule("reject", website_required=True)
    assert matches(approve, facts(website="https://ada.dev")) and not matches(approve, facts())
    assert matches(reject, facts(website="  ")) and not matches(reject, facts(website="https://ada.dev"))
    assert matches(rule("reject", website_required=False), facts(website="https://ada.dev"))


def test_disposable_addresses_come_from_the_maintained_list() -> None:
    assert is_disposable("mailinator.com") and is_disposable("eu.mailinator.com")
    assert not is_disposable("gmail.com") and not is_disposable("acme.com")
    assert matches(rule("reject", disposable_email=True), facts("x@mailinator.com"))
    assert not matches(rule("reject", disposable_email=True), facts("x@gmail.com"))
    assert matches(rule("approve", disposable_email=False), facts("x@gmail.com"))


def test_all_conditions_must_hold_and_the_first_matching_rule_wins() -> None:
    rules = [
        rule("reject", "throwaway", disposable_email=True),
        rule("approve", "customers", email_domain_in=["acme.com"], country_in=["US"]),
        rule("reject", "catch-all"),
    ]
    assert first_match(rules, facts("x@mailinator.com")) is rules[0]
    assert first_match(rules, facts("ada@acme.com", country="US")) is rules[1]
    assert first_match(rules, facts("ada@acme.com", country="DE")) is rules[2]  # one condition fails
    assert first_match(rules[:2], facts("bob@example.org")) is None
    assert first_match([], facts()) is None


def test_rules_serialise_with_if_and_their_delay() -> None:
    rules = ApprovalRules.model_validate(
        {
            "rules": [
                {"name": "Quick yes", "if": {"website_required": True}, "then": "approve", "delay": "pt2h"}
            ]
        }
    )
    only = rules.rules[0]
    assert (only.then, only.delay, only.wait) == (Decision.APPROVE, "PT2H", timedelta(hours=2))
    assert rules.model_dump(by_alias=True, exclude_none=True) == {
        "rules": [
            {
                "name": "Quick yes",
                "if": {"website_required": True},
                "then": "approve",
                "share_reason": False,
                "delay": "PT2H",
            }
        ]
    }
    assert rule().wait == timedelta(0)


def test_invalid_rules_name_the_field() -> None:
    unknown = errors({"rules": [{"name": "a", "if": {"email_domain": ["x.com"]}, "then": "approve"}]})
    assert unknown[0][0] == ("rules", 0, "if") and "unknown condition 'email_domain'" in unknown[0][1]
    then = errors({"rules": [{"name": "a", "if": {}, "then": "maybe"}]})
    assert then[0][0] == ("rules", 0, "then") and "'approve' or 'reject'" in then[0][1]
    delay = errors({"rules": [{"name": "a", "then": "approve", "delay": "2 hours"}]})
    assert delay[0][0] == ("rules", 0, "delay") and "not an ISO 8601 duration" in delay[0][1]
    too_long = errors({"rules": [{"name": "a", "then": "approve", "delay": "P31D"}]})
    assert "longest delay, 30 days" in too_long[0][1]
    country = errors({"rules": [{"name": "a", "if": {"country_in": ["XX"]}, "then": "reject"}]})
    assert country[0][0] == ("rules", 0, "if", "country_in", 0) and "ISO 3166-1 alpha-2" in country[0][1]
    domain = errors({"rules": [{"name": "a", "if": {"email_domain_in": ["not a domain"]}, "then": "reject"}]})
    assert domain[0][0] == ("rules", 0, "if", "email_domain_in", 0)
    twice = errors({"rules": [{"name": "a", "then": "approve"}, {"name": "A", "then": "reject"}]})
    assert "used twice" in twice[0][1]
    assert errors({"rules": [{"name": "", "then": "approve"}]})[0][0] == ("rules", 0, "name")


def test_signup_country_is_an_iso_code() -> None:
    payload = {"email": "ada@example.com", "name": "Ada"}
    assert SignupPayload.model_validate(payload).country is None
    assert SignupPayload.model_validate({**payload, "country": " pl "}).country == "PL"
    with pytest.raises(ValidationError) as raised:
        SignupPayload.model_validate({**payload, "country": "Poland"})
    assert raised.value.errors()[0]["loc"] == ("country",)
