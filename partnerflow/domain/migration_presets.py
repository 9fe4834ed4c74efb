"""Which column of another platform's partner export feeds which field, and how we know (no I/O).

Each preset lists the columns the platform documents for its export; headers match ignoring case
and punctuation (``csv_import.header_key``), a flattened API export's ``links[].token`` included.
Exports differ by account, plan and date, so the common names (``GENERIC``) are tried next, the
email column is found by its values when no header names it, and ``--map column=field`` covers
anything else. Documented columns, by platform:

PartnerStack
- "All partners" export (Partner Management > All partners > Export all records; support article
  "Learning more about your partners", support.partnerstack.com/hc/en-us/articles/360058412814):
  Partner, Owner ("the team owner and their email"), Group, Signups, Paid customers, Revenue (USD,
  all time), Last active, Signed up. No header says email: the address is found in Owner by value.
- partner records export: Partner Key (what their links carry), First Name, Last Name, Email,
  Company, Group, Created At, Total Revenue.
Rewardful
- migration CSV ("How do I import data into Rewardful?", help.rewardful.com/en/articles/1988486),
  one row per referred customer: stripe_customer_id (the customer's), first_name, last_name, email,
  paypal_email, wise_email, token (the link token, ``?via=<token>``); an older template says
  "Affiliate Email", "Affiliate First Name", "Affiliate Last Name", "Affiliate PayPal Email".
- REST API affiliate object (developers.rewardful.com/rest-api/affiliates/object): id, created_at,
  updated_at, first_name, last_name, email, paypal_email, state, stripe_customer_id,
  stripe_account_id, visitors, leads, conversions, campaign {id, name}, links [{id, url, token,
  visitors, leads, conversions}], coupon {token}; commission_stats when expanded. Flattened to CSV:
  campaign.name, links[].token (several tokens joined by ``;``), links[].url.
Tapfiliate
- REST API affiliate (tapfiliate.com/docs/rest/ "Affiliates"): id, firstname, lastname, email,
  company {name}, group {id, name}, meta_data, referral_link (the default link, ``...?ref=<code>``),
  coupon, parent {id, email, firstname, lastname}, created_at. The referral code is "the value that
  follows ?ref= in a generic referral link" (support.tapfiliate.com/en/articles/4176525); an export
  with a referral_code column gives it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from partnerflow.domain.csv_import import CsvFormatError, Table, find_email_column, header_key
from partnerflow.domain.migration import Source

FIELDS = ("email", "name", "first_name", "last_name", "company", "tier", "revenue", "conversions",
          "tracking_code", "joined_at", "locale", "segment")  # fmt: skip
FIELD_ALIASES = {
    "group": "tier",
    "lifetime_revenue": "revenue",
    "code": "tracking_code",
    "token": "tracking_code",
}
# The field names themselves and their usual spellings, for any platform.
GENERIC: dict[str, tuple[str, ...]] = {
    "email": ("email", "email address", "e-mail", "e-mail address", "mail"),
    "name": ("name", "full name", "partner name", "affiliate name"),
    "first_name": ("first_name", "first name", "firstname", "given name"),
    "last_name": ("last_name", "last name", "lastname", "surname"),
    "company": ("company", "company name", "organization", "organisation"),
    "tier": ("tier", "group", "level"),
    "revenue": ("revenue", "lifetime_revenue", "total revenue", "net revenue", "gross revenue"),
    "conversions": ("conversions", "customers", "paid customers"),
    "tracking_code": ("tracking_code", "referral_code", "code", "token", "ref"),
    "joined_at": ("joined_at", "join date", "joined", "created_at", "signup date", "signed up"),
    "locale": ("locale", "language", "lang"),
    "segment": (),  # only by --map or segment_column: a wrong guess would reorder the phases
}
PRESETS: dict[Source, dict[str, tuple[str, ...]]] = {
    Source.PARTNERSTACK: {
        "email": ("email", "partner email", "owner email"),
        "name": ("partner name", "partner"),
        "tier": ("group", "group name"),
        "revenue": ("total revenue", "revenue"),
        "conversions": ("paid customers", "customers"),
        "tracking_code": ("partner key", "link key"),
        "joined_at": ("signed up", "created at"),
    },
    Source.REWARDFUL: {
        "email": ("email", "affiliate email"),
        "first_name": ("first_name", "affiliate first name"),
        "last_name": ("last_name", "affiliate last name"),
        "tier": ("campaign.name", "campaign"),
        "revenue": ("net_revenue", "gross_revenue", "revenue"),
        "conversions": ("conversions",),
        "tracking_code": ("token", "links[].token", "link token", "referral_code", "links[].url"),
        "joined_at": ("created_at",),
    },
    Source.TAPFILIATE: {
        "email": ("email",),
        "first_name": ("firstname",),
        "last_name": ("lastname",),
        "company": ("company.name", "company"),
        "tier": ("group.name", "group", "affiliate_group"),
        "revenue": ("total_revenue", "revenue"),
        "conversions": ("conversions",),
        "tracking_code": ("referral_code", "ref", "referral_link", "referral_link.link"),
        "joined_at": ("created_at",),
    },
    Source.GENERIC: {},
}


class MappingError(CsvFormatError):
    """The file cannot be mapped (no email column, an unknown field, a mapped column not in the file)."""


@dataclass
class ColumnMatch:
    """One column of the file: the field it feeds (None: not imported) and how that was decided."""

    column: str
    field: str | None
    detected_by: str | None  # map | preset | header | values
    note: str = ""


@dataclass
class ExportMapping:
    columns: dict[str, str]  # field → column
    matches: list[ColumnMatch]  # every column of the file, in its order
    notes: list[str] = field(default_factory=list)


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``["Affiliate Email=email", ...]`` → ``{field: column}`` (a later item wins)."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, name = item.rpartition("=")
        name = FIELD_ALIASES.get(name.strip().lower(), name.strip().lower())
        if not sep or not column.strip() or name not in FIELDS:
            raise MappingError(f"bad mapping {item!r}: use column=field, field one of {', '.join(FIELDS)}")
        mapping[name] = column.strip()
    return mapping


def resolve_columns(table: Table, source: Source, overrides: Mapping[str, str]) -> ExportMapping:
    """Fields from ``--map`` first, then the platform's preset, the common names, and for the
    email the values; an email column is required."""
    by_key: dict[str, str] = {}
    for header in table.headers:
        by_key.setdefault(header_key(header), header)
    columns: dict[str, str] = {}
    how: dict[str, str] = {}
    for name, column in overrides.items():
        if header_key(column) not in by_key:
            raise MappingError(f"column {column!r} (mapped to {name}) is not in the file {table.headers}")
        columns[name], how[name] = by_key[header_key(column)], "map"
    for name in FIELDS:
        preset, generic = PRESETS[source].get(name, ()), GENERIC[name]
        for origin, candidates in (("preset", preset), ("header", generic)):
            if name in columns:
                break
            for candidate in candidates:
                found = by_key.get(header_key(candidate))
                if found and found not in columns.values():
                    columns[name], how[name] = found, origin
                    break
    notes: list[str] = []
    email_note = ""
    if "email" not in columns:
        guess = find_email_column(table, exclude=set(columns.values()))
        if guess is None:
            raise MappingError(
                f"no email column found in {table.headers}: no header names it and no column's values "
                "are addresses; map one with --map <column>=email"
            )
        columns["email"], how["email"], email_note = guess.column, "values", guess.note
        notes.append(guess.note)
    notes += _gaps(columns)
    fields_of = {column: name for name, column in columns.items()}
    matches = [
        ColumnMatch(
            header,
            fields_of.get(header),
            how.get(fields_of.get(header, "")),
            email_note if fields_of.get(header) == "email" else "" if header in fields_of else "not imported",
        )
        for header in table.headers
    ]
    return ExportMapping(columns, matches, notes)


def _gaps(columns: Mapping[str, str]) -> list[str]:
    """What the file lacks that matters later: old links, and the measure that orders the phases."""
    notes = []
    if "tracking_code" not in columns:
        notes.append(
            "no tracking code column: partners get new links, and links they published before "
            "will not resolve (map the code column with --map <column>=tracking_code)"
        )
    if "segment" not in columns and "revenue" not in columns:
        notes.append(
            "no revenue column: segments follow conversions"
            if "conversions" in columns
            else "no revenue or conversions column: every partner is in the long tail"
        )
    return notes
