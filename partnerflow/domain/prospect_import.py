"""Importing prospects from a CSV: the fields, header names, row cleaning and report (no I/O).

Reading the file (encoding, separator, header keys, the email column by its values) is shared
with the partner-migration importer in ``csv_import``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email

from partnerflow.domain.csv_import import (
    CsvFormatError,
    Table,
    decode_text,
    email_in,
    find_email_column,
    header_key,
    read_table,
)
from partnerflow.domain.stages import DEFAULT_LOCALE, LOCALES
from partnerflow.domain.urls import url_or_note

# Each field and the headers recognised for it without a mapping option (compared lower-cased,
# with _ and - read as spaces); first_name + last_name make the name when there is no name column.
_ALIASES = {
    "email": "email, e mail, email address, e mail address, mail",
    "name": "name, full name, fullname, contact name, contact",
    "first_name": "first name, firstname, given name",
    "last_name": "last name, lastname, surname, family name",
    "company": "company, company name, organisation, organization",
    "website": "website, url, site, web site, homepage",
    "audience": "audience, niche",
    "source": "source, lead source",
    "locale": "locale, language, lang",
    "consent_note": "consent, basis, consent note, legal basis",
}
FIELDS = tuple(_ALIASES)
HEADER_ALIASES = {alias.strip(): f for f, names in _ALIASES.items() for alias in names.split(",")}
LANGUAGE_NAMES = {"english": "en", "french": "fr", "français": "fr", "francais": "fr", "german": "de"}
LANGUAGE_NAMES |= {"deutsch": "de", "polish": "pl", "polski": "pl"}
LIMITS = {"company": 200, "website": 500, "audience": 200, "source": 200, "consent_note": 1000}


@dataclass
class ProspectRow:
    """A valid row, normalised: lower-cased email, a supported locale."""

    row: int  # as a spreadsheet numbers it: the header is row 1
    email: str
    name: str = ""
    company: str | None = None
    website: str | None = None
    audience: str | None = None
    source: str | None = None
    locale: str = DEFAULT_LOCALE
    consent_note: str | None = None
    note: str = ""  # e.g. an unknown locale replaced by the default


@dataclass
class RowResult:
    """What became of one row."""

    row: int
    email: str
    status: str  # imported | duplicate | invalid | suppressed
    reason: str = ""
    prospect_id: int | None = None


@dataclass
class ImportReport:
    program: str
    total: int = 0
    imported: int = 0
    duplicate: int = 0
    invalid: int = 0
    suppressed: int = 0
    seconds: float = 0.0
    rows: list[RowResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. which column the addresses were found in


def decode_csv(data: bytes) -> str:
    return decode_text(data)


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["Mail=email", "Niche=audience"]`` → ``{"mail": "email", "niche": "audience"}``."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, target = item.partition("=")
        target = target.strip().lower()
        if not sep or not column.strip():
            raise CsvFormatError(f"mapping {item!r} must look like column=field")
        if target not in FIELDS:
            raise CsvFormatError(f"mapping {item!r}: unknown field {target!r} (one of {', '.join(FIELDS)})")
        mapping[header_key(column)] = target
    return mapping


def resolve_columns(table: Table, mapping: dict[str, str], notes: list[str] | None = None) -> dict[str, str]:
    """Which header feeds which field: explicit mapping first, then the common names, and for the
    email, when no header names it, the column whose values are addresses."""
    columns: dict[str, str] = {}
    for header in table.headers:
        key = header_key(header)
        target = mapping.get(key) or HEADER_ALIASES.get(key)
        if target and target not in columns:
            columns[target] = header
    missing = set(mapping) - {header_key(h) for h in table.headers}
    if missing:
        raise CsvFormatError(f"mapped column(s) not in the file: {', '.join(sorted(missing))}")
    if "email" not in columns:
        guess = find_email_column(table, exclude=set(columns.values()))
        if guess is None:
            raise CsvFormatError(
                f"no email column among {table.headers}: no header names it and no column's values are "
                "addresses (use --map <column>=email)"
            )
        columns["email"] = guess.column
        if notes is not None:
            notes.append(guess.note)
    return columns


def read_csv(
    text: str, mapping: dict[str, str], notes: list[str] | None = None
) -> Iterator[ProspectRow | RowResult]:
    """Each data row, cleaned, or an ``invalid`` result saying why; ``,`` ``;`` or tab separated.

    How the email column was found, when no header names it, is added to ``notes``."""
    table = read_table(text)
    columns = resolve_columns(table, mapping, notes)
    for number, cells in table.rows:
        yield clean_row(number, {f: cells.get(h, "").strip() for f, h in columns.items()})


def clean_row(row: int, values: dict[str, str]) -> ProspectRow | RowResult:
    raw_email = values.get("email", "")
    raw_email = email_in(raw_email) or raw_email  # "Ada <ada@x.io>" → ada@x.io
    if not raw_email:
        return RowResult(row, "", "invalid", "missing email")
    try:
        email = validate_email(raw_email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return RowResult(row, raw_email, "invalid", f"bad email: {exc}")
    name = values.get("name") or " ".join(filter(None, (values.get("first_name"), values.get("last_name"))))
    locale, note = _locale(values.get("locale", ""))
    cut = {key: (values.get(key) or None) and values[key][:limit] for key, limit in LIMITS.items()}
    website, dropped = url_or_note("website", values.get("website", ""), LIMITS["website"])  # never cut
    note = "; ".join(filter(None, (note, dropped)))
    return ProspectRow(row, email, (name or "")[:200], cut["company"], website, cut["audience"],
                       cut["source"], locale, cut["consent_note"], note)  # fmt: skip


def _locale(value: str) -> tuple[str, str]:
    key = value.strip().lower()
    if not key:
        return DEFAULT_LOCALE, ""
    code = LANGUAGE_NAMES.get(key, re.split(r"[-_]", key)[0])
    if code in LOCALES:
        return code, ""
    return DEFAULT_LOCALE, f"unknown locale {value!r}, using {DEFAULT_LOCALE}"
