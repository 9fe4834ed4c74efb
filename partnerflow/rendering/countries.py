"""Country names for forms, in the reader's language (ISO 3166-1 from ``pycountry``, with its
translations), sorted as a reader of that language expects."""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache

import pycountry


@cache
def country_options(locale: str) -> tuple[tuple[str, str], ...]:
    """``(alpha-2 code, name)`` of every country, named and sorted in ``locale`` (English fallback)."""
    translation = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale], fallback=True)
    options = [
        (country.alpha_2, translation.gettext(getattr(country, "common_name", None) or country.name))
        for country in pycountry.countries
    ]
    return tuple(sorted(options, key=lambda option: _sort_key(option[1])))


def _sort_key(name: str) -> str:
    """Accents sort with their letter (Å with A, Ł with L), case ignored."""
    decomposed = unicodedata.normalize("NFKD", name.replace("Ł", "L").replace("ł", "l"))
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
