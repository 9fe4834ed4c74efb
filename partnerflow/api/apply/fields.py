"""The application form's fields: what was typed, kept for the re-rendered form, checked with the
signup webhook's own rules (``SignupPayload``), and each problem named by a code the locale
templates turn into a sentence."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pydantic import ValidationError

from partnerflow.domain.signup import SignupPayload
from partnerflow.domain.stages import LOCALES
from partnerflow.domain.urls import is_http_url

FIELDS = ("email", "name", "company", "website", "country", "locale")
REQUIRED = ("email", "name")
MAX_LENGTH = {"email": 320, "name": 200, "company": 200, "website": 200}
SOURCE = "apply-page"
_OTHER_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:(?!\d+(?:[/?#]|$))", re.IGNORECASE)  # not a host:port


def read(form: Mapping[str, object]) -> dict[str, str]:
    """The posted values (strings, trimmed); anything else posted is ignored."""
    values = {name: form.get(name) for name in FIELDS}
    return {name: value.strip() for name, value in values.items() if isinstance(value, str)}


def check(values: dict[str, str], program: str) -> tuple[SignupPayload | None, dict[str, str]]:
    """The signup, or the problem with each field (``{field: code}``)."""
    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not values.get(name):
            errors[name] = "required"
    for name, limit in MAX_LENGTH.items():
        if len(values.get(name, "")) > limit:
            errors[name] = "too_long"
    website = values.get("website", "")
    if website and "website" not in errors:
        # "example.com" means https://example.com; "javascript:..." is a scheme, not a host.
        if "://" not in website and not _OTHER_SCHEME.match(website):
            website = f"https://{website}"
        if not is_http_url(website) or len(website) > MAX_LENGTH["website"]:
            errors["website"] = "website_invalid"
    if values.get("locale") not in LOCALES:
        errors["locale"] = "locale_invalid"
    data = {name: values.get(name) or None for name in FIELDS} | {"website": website or None}
    try:
        signup = SignupPayload.model_validate({**data, "program": program, "source": SOURCE})
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            errors.setdefault(field if field in FIELDS else "form", _code(field, error["type"]))
        return None, errors
    return (None, errors) if errors else (signup, {})


def _code(field: str, kind: str) -> str:
    if kind == "string_too_long":
        return "too_long"
    return {"email": "email_invalid", "country": "country_invalid", "website": "website_invalid"}.get(
        field, "invalid"
    )
