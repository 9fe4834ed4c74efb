"""The signup webhook's payload and its normalisation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from partnerflow.domain.countries import CountryCode
from partnerflow.domain.urls import WebsiteUrl

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Optional200 = Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=200)]


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def normalize_email(email: str) -> str:
    """One partner per address: compare emails trimmed and lower-cased."""
    return email.strip().lower()


class SignupPayload(BaseModel):
    """Body of ``POST /webhooks/partner-signup`` (see shared/API.md)."""

    model_config = ConfigDict(extra="ignore")

    email: Annotated[EmailStr, BeforeValidator(_strip), AfterValidator(normalize_email)]
    name: NonEmpty
    company: Optional200 = None
    website: WebsiteUrl = None  # absolute http(s) only: it becomes a link on the dashboard
    phone: Annotated[str | None, StringConstraints(strip_whitespace=True, max_length=50)] = None
    country: CountryCode | None = None  # ISO 3166-1 alpha-2, for approval rules
    program: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.-]+$"),
    ] = "default"
    locale: Literal["en", "fr", "de", "pl"] = "en"
    source: Optional200 = None
    metadata: dict[str, str] = Field(default_factory=dict)
