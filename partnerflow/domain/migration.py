"""Migrating a partner base from another platform: CSV mapping presets, row parsing, phases.

The presets map the columns these platforms commonly document for their partner/affiliate
exports; exports differ by account, plan and date, so ``--map column=field`` (the generic
mapping) covers any other column name and overrides a preset column.

- PartnerStack partners export: "Partner Key", "First Name", "Last Name", "Email", "Company",
  "Group", "Created At", "Total Revenue" (the partner key is what their links carry);
- Rewardful affiliates export: "id", "first_name", "last_name", "email", "paypal_email",
  "token" (or "referral_code"), "campaign", "visitors", "leads", "conversions",
  "gross_revenue"/"net_revenue", "created_at";
- Tapfiliate affiliates export: "id", "firstname", "lastname", "email", "company", "group",
  "referral_code", "created_at" (+ a revenue column when the export includes one).
No I/O here: the store does the database work, the workflow the phases.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email
from pydantic import TypeAdapter, ValidationError

from partnerflow.domain.kpis import Segment
from partnerflow.domain.signup import normalize_email
from partnerflow.domain.stages import LOCALES


class Source(StrEnum):
    PARTNERSTACK = "partnerstack"
    REWARDFUL = "rewardful"
    TAPFILIATE = "tapfiliate"
    GENERIC = "generic"


SOURCE_NAMES = {
    Source.PARTNERSTACK: "PartnerStack",
    Source.REWARDFUL: "Rewardful",
    Source.TAPFILIATE: "Tapfiliate",
    Source.GENERIC: "our previous platform",
}
FIELD_ALIASES = {"group": "tier", "lifetime_revenue": "revenue", "code": "tracking_code"}
# Generic: the field names themselves and the usual spellings (header match ignores case and spaces).
GENERIC = {
    "email": ["email", "email address", "e-mail"],
    "name": ["name", "full name", "partner name"],
    "first_name": ["first_name", "first name", "firstname"],
    "last_name": ["last_name", "last name", "lastname"],
    "company": ["company", "company name", "organization"],
    "tier": ["tier", "group", "level"],
    "revenue": ["revenue", "lifetime_revenue", "lifetime revenue", "total revenue", "total_revenue"],
    "tracking_code": ["tracking_code", "tracking code", "referral_code", "referral code", "code"],
    "joined_at": ["joined_at", "join date", "joined", "created_at", "created at", "signup date"],
    "locale": ["locale", "language"],
}
FIELDS = (*GENERIC, "segment")
PRESETS: dict[Source, dict[str, list[str]]] = {
    Source.PARTNERSTACK: GENERIC
    | {"tracking_code": ["partner key", "link key"], "revenue": ["total revenue", "revenue"]},
    Source.REWARDFUL: GENERIC
    | {
        "tracking_code": ["token", "referral_code"],
        "tier": ["campaign"],
        "revenue": ["net_revenue", "gross_revenue", "revenue"],
    },
    Source.TAPFILIATE: GENERIC
    | {"tracking_code": ["referral_code", "referral code", "ref"], "tier": ["group", "affiliate_group"]},
    Source.GENERIC: GENERIC,
}
SEGMENT_WORDS = {"mid": Segment.MIDDLE, "tail": Segment.LONG_TAIL} | {s.value: s for s in Segment}
PHASE_OF = {Segment.TOP: 1, Segment.MIDDLE: 2, Segment.LONG_TAIL: 3}
PHASES = (1, 2, 3)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")  # safe as the last segment of /r/<code>
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")


class MappingError(ValueError):
    """The file cannot be mapped at all (no email column, unknown field, unreadable CSV)."""


@dataclass
class MigrationRow:
    line: int
    email: str
    name: str
    company: str | None = None
    tier: str | None = None
    revenue: float = 0.0
    tracking_code: str | None = None
    joined_at: datetime | None = None
    locale: str = "en"
    segment: Segment | None = None


@dataclass
class RowReport:
    line: int
    email: str
    status: str  # imported | duplicate | invalid
    reason: str = ""
    partner_id: str | None = None
    segment: str | None = None


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


def resolve_columns(headers: list[str], source: Source, overrides: dict[str, str]) -> dict[str, str]:
    """``{field: header}`` from the preset and the overrides; an email column is required."""
    by_key = {_key(header): header for header in headers}
    columns: dict[str, str] = {}
    for name, candidates in PRESETS[source].items():
        found = next((by_key[_key(c)] for c in candidates if _key(c) in by_key), None)
        if found:
            columns[name] = found
    for name, column in overrides.items():
        if _key(column) not in by_key:
            raise MappingError(f"column {column!r} (mapped to {name}) is not in the file")
        columns[name] = by_key[_key(column)]
    if "email" not in columns:
        raise MappingError(f"no email column found in {headers}; map one with --map <column>=email")
    return columns


def read_csv(content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Headers and rows; UTF-8 (with or without BOM) or Latin-1, comma, semicolon or tab."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    text = text.replace("\x00", "")  # NUL is never data, and PostgreSQL cannot store it
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[dict[str, str]] = []
    try:
        if not reader.fieldnames:
            raise MappingError("the file is empty or has no header row")
        rows.extend({k: (v or "") for k, v in row.items() if k is not None} for row in reader)
    except csv.Error as exc:  # e.g. a field over 128 KiB
        raise MappingError(f"line {len(rows) + 2} is not readable CSV: {exc}") from None
    return [h for h in reader.fieldnames if h], rows


def parse_row(line: int, raw: dict[str, str], columns: dict[str, str]) -> MigrationRow | RowReport:
    """One export row as a ``MigrationRow``, or an ``invalid`` report saying why."""
    value = {name: raw.get(column, "").strip() for name, column in columns.items()}
    email = normalize_email(value.get("email", ""))
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return RowReport(
            line, email, "invalid", f"email {email!r} is not valid: {exc}" if email else "no email"
        )
    problems: list[str] = []
    revenue = _money(value.get("revenue", ""), problems)
    joined_at = _date(value.get("joined_at", ""), problems)
    code = value.get("tracking_code") or None
    if code and not CODE_PATTERN.match(code):
        problems.append(f"tracking code {code!r} has characters a link cannot carry (or is over 64)")
    segment = None
    if "segment" in columns:
        segment = SEGMENT_WORDS.get(re.sub(r"[\s-]+", "_", value.get("segment", "").lower()))
        if segment is None:
            problems.append(f"segment {value.get('segment')!r} is not top, middle or long_tail")
    if problems:
        return RowReport(line, email, "invalid", "; ".join(problems))
    full = " ".join(filter(None, (value.get("first_name"), value.get("last_name"))))
    name = value.get("name") or full or email.split("@")[0]
    locale = value.get("locale", "").lower()[:2]
    return MigrationRow(
        line=line,
        email=email,
        name=name[:200],
        company=(value.get("company") or "")[:200] or None,
        tier=(value.get("tier") or "")[:64] or None,
        revenue=revenue,
        tracking_code=code,
        joined_at=joined_at,
        locale=locale if locale in LOCALES else "en",
        segment=segment,
    )


def parse_pause(value: str | int | float | timedelta) -> timedelta:
    """``P7D``, ``PT12H`` or seconds; at least one second."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    try:
        pause = TypeAdapter(timedelta).validate_python(value)
    except ValidationError:
        raise ValueError(f"pause {value!r} is not a duration (use ISO 8601 like P7D or seconds)") from None
    if pause < timedelta(seconds=1):
        raise ValueError("the pause between phases must be at least one second")
    return pause


def _key(header: str) -> str:
    return re.sub(r"[\s_-]+", " ", header.strip().lower())


def _money(text: str, problems: list[str]) -> float:
    if text.strip().lower() in ("", "-", "n/a", "none"):
        return 0.0
    cleaned = re.sub(r"[^\d,.\-]", "", text)
    if re.search(r",\d{1,2}$", cleaned):  # decimal comma: 1234,5 or 1.234,56
        cleaned = cleaned.replace(".", "").replace(",", ".")
    cleaned = cleaned.replace(",", "")
    try:
        return round(float(cleaned), 2)
    except ValueError:
        problems.append(f"revenue {text!r} is not a number")
        return 0.0


def _date(text: str, problems: list[str]) -> datetime | None:
    if not text:
        return None
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = next((d for d in (_strptime(text, f) for f in DATE_FORMATS) if d), None)
    if parsed is None:
        problems.append(f"join date {text!r} is not a date")
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _strptime(text: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(text, fmt)
    except ValueError:
        return None


# --- workflow payloads ---------------------------------------------------------------------------


def migration_workflow_id(run_id: int, file_sha256: str) -> str:
    """Run id for people, file hash so that a fresh database never meets an old run's workflow."""
    return f"migration-{run_id}-{file_sha256[:12]}"


@dataclass
class PhaseProgress:
    phase: int
    segment: str
    total: int = 0
    started: int = 0
    accepted: int = 0


@dataclass
class MigrationState:
    """What the workflow carries across continue-as-new."""

    phase: int = 1
    phase_opened: bool = False  # pause and back-check before this phase are done
    cursor: int = 0  # last MigratedPartner.id started in this phase
    phases: list[PhaseProgress] = field(default_factory=list)
    runs: int = 1


@dataclass
class MigrationInput:
    run_id: int
    program: str = "default"
    pause: timedelta = timedelta(days=7)
    batch_size: int = 200  # partners per activity call
    batch_interval: timedelta = timedelta(seconds=30)  # paces welcome emails: ~400 partners a minute
    final_check: bool = True  # one more pause and back-check after the last phase
    max_history_events: int = 2_000  # continue-as-new beyond this
    state: MigrationState | None = None


@dataclass
class MigrationProgress:
    run_id: int
    status: str  # starting | pausing | migrating | checking | completed
    phase: int
    next_step_at: datetime | None
    phases: list[PhaseProgress]
