"""Countries as ISO 3166-1 alpha-2 codes, checked against pycountry's maintained ISO list."""

from __future__ import annotations

from typing import Annotated

import pycountry
from pydantic import BeforeValidator

_CODES = frozenset(country.alpha_2 for country in pycountry.countries)


def country_code(value: object) -> str:
    """``"pl"`` → ``"PL"``; anything that is not an assigned alpha-2 code is refused."""
    if not isinstance(value, str):
        raise ValueError("a country is an ISO 3166-1 alpha-2 code such as US, FR or PL")
    code = value.strip().upper()
    if code not in _CODES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code such as US, FR or PL")
    return code


CountryCode = Annotated[str, BeforeValidator(country_code)]
