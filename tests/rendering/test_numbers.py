"""Numbers written the way each locale's readers write them."""

from __future__ import annotations

from partnerflow.rendering.numbers import format_number


def test_grouping_and_decimals_per_locale() -> None:
    assert format_number(1234.5, "en", 2) == "1,234.50"
    assert format_number(1234.5, "de", 2) == "1.234,50"
    assert format_number(1234.5, "fr", 2) == "1\u202f234,50"
    assert format_number(-1234567, "pl") == "-1\u00a0234\u00a0567"
    assert format_number(None, "en") == "—" and format_number(3.14159, "xx", 1) == "3.1"
