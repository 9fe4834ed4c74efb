"""Which language to speak to a partner (pure; the strings themselves live in ``templates/``)."""

from __future__ import annotations

from partnerflow.domain.stages import DEFAULT_LOCALE, LOCALES


def locale_for(partner_locale: str | None, accept_language: str | None = None) -> str:
    """The partner's locale if supported, else the browser's first supported language, else English."""
    if partner_locale and partner_locale in LOCALES:
        return partner_locale
    for part in (accept_language or "").split(","):
        language = part.split(";")[0].strip().lower()[:2]
        if language in LOCALES:
            return language
    return DEFAULT_LOCALE
