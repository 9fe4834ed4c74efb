"""Migrating a partner base from another platform: export rows, old referral codes, phases.

The column presets live in ``migration_presets``, file reading in ``csv_import``. No I/O here:
the store does the database work, the workflow the phases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from email_validator import EmailNotValidError, validate_email
from pydantic import TypeAdapter, ValidationError

from partnerflow.domain.csv_import import email_in
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
SEGMENT_WORDS = {"mid": Segment.MIDDLE, "tail": Segment.LONG_TAIL} | {s.value: s for s in Segment}
PHASE_OF = {Segment.TOP: 1, Segment.MIDDLE: 2, Segment.LONG_TAIL: 3}
PHASES = (1, 2, 3)
CODE_PATTERN = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")  # safe as the last segment of /r/<code>
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y", "%b %d, %Y",
                "%B %d, %Y", "%d %b %Y")  # fmt: skip
# Where the platforms' links carry the code: Tapfiliate ?ref=, Rewardful ?via=, FirstPromoter ?fpr=.
LINK_PARAMETERS = ("ref", "via", "fpr", "aff", "code")


@dataclass
class MigrationRow:
    line: int
    email: str
    name: str
    company: str | None = None
    tier: str | None = None
    revenue: float = 0.0
    tracking_code: str | None = None  # the partner's main old code: it becomes their tracking link
    joined_at: datetime | None = None
    locale: str = "en"
    segment: Segment | None = None
    conversions: int = 0
    other_codes: list[str] = field(default_factory=list)  # further old codes (Rewardful's links[])
    notes: list[str] = field(default_factory=list)  # said in the report, the row is still imported


@dataclass
class RowReport:
    line: int
    email: str
    status: str  # imported | duplicate | invalid
    reason: str = ""
    partner_id: str | None = None
    segment: str | None = None


def parse_row(line: int, raw: dict[str, str], columns: dict[str, str]) -> MigrationRow | RowReport:
    """One export row as a ``MigrationRow``, or an ``invalid`` report saying why."""
    value = {name: raw.get(column, "").strip() for name, column in columns.items()}
    given = value.get("email", "")
    email = normalize_email(email_in(given) or given)  # "Ada <ada@x.io>" → ada@x.io
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as exc:
        return RowReport(
            line, email, "invalid", f"email {email!r} is not valid: {exc}" if email else "no email"
        )
    problems: list[str] = []
    revenue = _money(value.get("revenue", ""), problems)
    joined_at = _date(value.get("joined_at", ""), problems)
    codes = old_codes(value.get("tracking_code", ""))
    for code in codes:
        if not CODE_PATTERN.match(code):
            problems.append(f"tracking code {code!r} has characters a link cannot carry (or is over 64)")
    notes = []
    if value.get("tracking_code") and not codes:
        link = value["tracking_code"]
        notes.append(f"no code in {link!r} (no ?ref= or ?via=): the partner gets a new link")
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
        tracking_code=codes[0] if codes else None,
        joined_at=joined_at,
        locale=locale if locale in LOCALES else "en",
        segment=segment,
        conversions=_count(value.get("conversions", "")),
        other_codes=codes[1:],
        notes=notes,
    )


def old_codes(cell: str) -> list[str]:
    """The codes in a cell: ``adam``, ``adam; adam-2`` (several links), or links
    ``https://x.io/?via=adam`` / ``https://x.io/?ref=adam`` (the code is the parameter's value)."""
    codes: list[str] = []
    for item in re.split(r"[\s;,|]+", cell.strip().strip("[]")):
        item = item.strip("\"'")
        code = code_in_link(item) if "?" in item or "://" in item else item
        if code and code not in codes:
            codes.append(code)
    return codes


def code_in_link(link: str) -> str | None:
    """``https://example.com/?ref=janedoe`` → ``janedoe`` (the first of ``LINK_PARAMETERS`` present)."""
    query = parse_qs(urlsplit(link if "://" in link else f"https://{link}").query)
    return next((query[name][0].strip() for name in LINK_PARAMETERS if query.get(name)), None)


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


def _count(text: str) -> int:
    digits = re.sub(r"\D", "", re.split(r"[.,]\d{1,2}$", text.strip())[0])  # "1,234" or "12.00"
    return int(digits) if digits else 0


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
