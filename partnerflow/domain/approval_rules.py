"""Approval rules: a program's automatic decisions on applications. Pure: no I/O.

A program has an ordered list of rules; the first whose conditions all hold for an application
decides it (``then``), after an optional ISO 8601 ``delay``. A rule without conditions matches
every application (a catch-all, last in the list).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from disposable_email_domains import blocklist as _DISPOSABLE
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from partnerflow.domain.countries import CountryCode
from partnerflow.domain.stages import Decision

MAX_DELAY = timedelta(days=30)  # a decision that waits longer is a manager's to take
CONDITIONS = (
    "email_domain_in",
    "email_domain_not_in",
    "country_in",
    "country_not_in",
    "website_required",
    "disposable_email",
)
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W|(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?)$"
)
_CALENDAR_UNITS = re.compile(r"^P(?:\d+(?:\.\d+)?[YMWD])*\d+(?:\.\d+)?[YM]")


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes and seconds (``PT2H``, ``P1DT12H``)."""
    value = text.strip().upper().replace(",", ".")
    match = _DURATION.fullmatch(value)
    if match is None or value in ("P", "PT") or not any(match.groupdict().values()):
        if _CALENDAR_UNITS.match(value):
            raise ValueError(
                f"{text!r}: years and months have no fixed length; use weeks, days or hours (e.g. P30D)"
            )
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT2H, P1D or P1DT12H")
    parts = {unit: float(amount) for unit, amount in match.groupdict().items() if amount}
    return timedelta(**parts)


def _domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("@")
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(f"{value!r} is not a domain name such as example.com")
    return domain


def _delay(value: str | None) -> str | None:
    if value is None:
        return None
    delay = parse_duration(value)
    if delay > MAX_DELAY:
        raise ValueError(f"{value!r} is longer than the longest delay, {MAX_DELAY.days} days")
    return value.strip().upper()


Domain = Annotated[str, AfterValidator(_domain)]
Domains = Annotated[list[Domain], Field(min_length=1, max_length=1000)]
Countries = Annotated[list[CountryCode], Field(min_length=1, max_length=300)]


class RuleConditions(BaseModel):
    """What an application must be for the rule to match; every condition given must hold."""

    model_config = ConfigDict(extra="forbid")

    email_domain_in: Domains | None = Field(
        default=None, description="the email's domain, or a subdomain of it, is one of these"
    )
    email_domain_not_in: Domains | None = Field(
        default=None, description="the email's domain is none of these (nor a subdomain of one)"
    )
    country_in: Countries | None = Field(
        default=None, description="ISO 3166-1 alpha-2; an application without a country never matches"
    )
    country_not_in: Countries | None = Field(
        default=None, description="ISO 3166-1 alpha-2; an application without a country never matches"
    )
    website_required: bool | None = Field(
        default=None,
        description="true: an approve rule matches only applications with a website, "
        "a reject rule only those without one",
    )
    disposable_email: bool | None = Field(
        default=None, description="true: the address is a throwaway one; false: it is not"
    )

    @model_validator(mode="before")
    @classmethod
    def _known_conditions(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [key for key in data if key not in CONDITIONS]
            if unknown:
                raise ValueError(
                    f"unknown condition {unknown[0]!r}; the conditions are {', '.join(CONDITIONS)}"
                )
        return data


RuleName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w][\w .-]*$"),
]


class ApprovalRule(BaseModel):
    """One rule: ``if`` the application matches, ``then`` approve or reject it after ``delay``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: RuleName = Field(description="the decision's author is rule:<name>")
    conditions: RuleConditions = Field(default_factory=RuleConditions, alias="if")
    then: Decision
    reason: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=1000)] = None
    share_reason: bool = Field(default=False, description="a rejection email quotes the reason")
    delay: Annotated[str | None, BeforeValidator(lambda v: v or None), AfterValidator(_delay)] = Field(
        default=None, description="ISO 8601 duration to wait before deciding, e.g. PT2H; at most 30 days"
    )

    @property
    def wait(self) -> timedelta:
        return parse_duration(self.delay) if self.delay else timedelta(0)


class ApprovalRules(BaseModel):
    """A program's rules, in order: the first matching one decides."""

    model_config = ConfigDict(extra="forbid")

    rules: list[ApprovalRule] = Field(default_factory=list, max_length=100)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[ApprovalRule]) -> list[ApprovalRule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name.lower() in seen:
                raise ValueError(f"rule names must be unique: {rule.name!r} is used twice")
            seen.add(rule.name.lower())
        return rules


@dataclass(frozen=True)
class ApplicationFacts:
    """What the rules look at in an application."""

    email: str
    website: str | None = None
    country: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[-1].strip().lower()


def is_disposable(domain: str) -> bool:
    """A throwaway address: the domain, or a parent of it, is in the maintained blocklist."""
    labels = domain.lower().split(".")
    return any(".".join(labels[i:]) in _DISPOSABLE for i in range(len(labels) - 1))


def first_match(
    rules: Sequence[ApprovalRule],
    application: ApplicationFacts,
    disposable: Callable[[str], bool] = is_disposable,
) -> ApprovalRule | None:
    """The first rule whose conditions all hold for ``application``, or None."""
    return next((rule for rule in rules if matches(rule, application, disposable)), None)


def matches(
    rule: ApprovalRule, application: ApplicationFacts, disposable: Callable[[str], bool] = is_disposable
) -> bool:
    given = rule.conditions
    domain, country = application.domain, (application.country or "").upper() or None
    has_website = bool(application.website and application.website.strip())
    checks = [
        given.email_domain_in is None or _in_domains(domain, given.email_domain_in),
        given.email_domain_not_in is None or not _in_domains(domain, given.email_domain_not_in),
        given.country_in is None or (country is not None and country in given.country_in),
        given.country_not_in is None or (country is not None and country not in given.country_not_in),
        not given.website_required or has_website == (rule.then == Decision.APPROVE),
        given.disposable_email is None or disposable(domain) == given.disposable_email,
    ]
    return all(checks)


def _in_domains(domain: str, domains: Sequence[str]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)
