"""Numbers as a reader of each locale writes them (grouping and decimal separators)."""

from __future__ import annotations

# (thousands separator, decimal separator); French and Polish group with a no-break space.
_SEPARATORS = {"en": (",", "."), "fr": ("\u202f", ","), "de": (".", ","), "pl": ("\u00a0", ",")}


def format_number(value: float | None, locale: str, digits: int = 0) -> str:
    """``1234.5`` → ``1,234.50`` (en), ``1 234,50`` (fr, pl), ``1.234,50`` (de); ``—`` for None."""
    if value is None:
        return "—"
    group, decimal = _SEPARATORS.get(locale, _SEPARATORS["en"])
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)
