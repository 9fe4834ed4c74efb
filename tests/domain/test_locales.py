"""Which language a partner is spoken to in (portal pages and notices)."""

from __future__ import annotations

import pytest

from partnerflow.domain.locales import locale_for


@pytest.mark.parametrize(
    ("partner_locale", "accept_language", "expected"),
    [
        ("fr", "de-DE,de;q=0.9", "fr"),  # the partner's own choice wins over the browser
        ("es", "es-ES, pl;q=0.8, de;q=0.5", "pl"),  # unsupported: the browser's first supported one
        (None, "DE-at;q=0.9,en;q=0.5", "de"),
        (None, None, "en"),
        ("", "", "en"),
        ("xx", "es, it;q=0.5", "en"),
    ],
)
def test_locale_for(partner_locale: str | None, accept_language: str | None, expected: str) -> None:
    assert locale_for(partner_locale, accept_language) == expected
