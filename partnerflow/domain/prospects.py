"""Prospects and recruitment campaigns: CSV rules, campaign payloads and ids (no I/O)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, URLSafeSerializer

from partnerflow.domain.stages import DEFAULT_LOCALE, LOCALES
from partnerflow.domain.urls import url_or_note

# --- CSV import ----------------------------------------------------------------------------------

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


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (no email column, bad --map option)."""


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


def decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):  # spreadsheets on Windows still save cp1252
        try:
            return data.decode(encoding).replace("\x00", "")  # NUL: never data, and not storable
        except UnicodeDecodeError:
            continue
    raise CsvFormatError("the CSV must be UTF-8 encoded")


def normalize_header(header: str) -> str:
    return " ".join(re.sub(r"[_\-]", " ", header).lower().split())


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
        mapping[normalize_header(column)] = target
    return mapping


def resolve_columns(headers: list[str], mapping: dict[str, str]) -> dict[str, str]:
    """Which header feeds which field: explicit mapping first, then the common names."""
    columns: dict[str, str] = {}
    for header in headers:
        key = normalize_header(header)
        target = mapping.get(key) or HEADER_ALIASES.get(key)
        if target and target not in columns:
            columns[target] = header
    missing = set(mapping) - {normalize_header(h) for h in headers}
    if missing:
        raise CsvFormatError(f"mapped column(s) not in the file: {', '.join(sorted(missing))}")
    if "email" not in columns:
        raise CsvFormatError(f"no email column among {headers} (use --map <column>=email)")
    return columns


def read_csv(text: str, mapping: dict[str, str]) -> Iterator[ProspectRow | RowResult]:
    """Each data row, cleaned, or an ``invalid`` result saying why; ``,`` ``;`` or tab separated."""
    header_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    headers = next(reader, None)
    if not headers:
        raise CsvFormatError("the file is empty")
    columns = {f: headers.index(h) for f, h in resolve_columns(headers, mapping).items()}
    try:
        for number, cells in enumerate(reader, start=2):
            if any(cell.strip() for cell in cells):
                yield clean_row(
                    number, {f: cells[i].strip() if i < len(cells) else "" for f, i in columns.items()}
                )
    except csv.Error as exc:  # e.g. a field over 128 KiB
        raise CsvFormatError(f"line {reader.line_num} is not readable CSV: {exc}") from None


def clean_row(row: int, values: dict[str, str]) -> ProspectRow | RowResult:
    raw_email = values.get("email", "")
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


# --- Campaigns (Temporal payloads) ---------------------------------------------------------------

OUTREACH_TEMPLATES = ("outreach_intro", "outreach_follow_up", "outreach_last_note")
OPEN_MEMBER_STATUSES = ("pending", "in_sequence")


@dataclass
class CampaignStep:
    template: str
    delay_days: float = 0.0  # wait before this step (after the previous one; the first after its slot)


DEFAULT_STEPS = [
    CampaignStep("outreach_intro", 0),
    CampaignStep("outreach_follow_up", 4),
    CampaignStep("outreach_last_note", 6),
]


@dataclass
class CampaignCursor:
    """What the parent carries across continue-as-new."""

    after_prospect_id: int = 0  # members are launched in prospect-id order
    next_slot: datetime | None = None  # the earliest first-send time not yet handed out
    launched: int = 0
    launch_done: bool = False
    runs: int = 1


@dataclass
class CampaignInput:
    campaign_id: int
    batch_size: int = 100  # child workflows started together
    batches_per_run: int = 10  # then continue-as-new, keeping the history small
    progress_every: timedelta = timedelta(hours=1)  # store refresh while the sequences run
    cursor: CampaignCursor | None = None


@dataclass
class CampaignRef:
    campaign_id: int


@dataclass
class CampaignDefinition:
    campaign_id: int
    program: str
    steps: list[CampaignStep]
    messages_per_minute: int
    status: str


@dataclass
class CampaignBatchQuery:
    campaign_id: int
    after_prospect_id: int
    limit: int


@dataclass
class CampaignProgress:
    members: int = 0
    sent: int = 0  # emails sent, every step counted
    pending: int = 0  # not contacted yet
    in_sequence: int = 0
    completed: int = 0
    converted: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    failed: int = 0


@dataclass
class CampaignStatus:
    campaign_id: int
    phase: str  # launching | running | completed
    launched: int
    runs: int
    progress: CampaignProgress
    as_of: datetime | None = None


@dataclass
class OutreachInput:
    campaign_id: int
    prospect_id: int
    steps: list[CampaignStep]
    first_send_at: datetime | None = None  # the throttle slot handed out by the parent


@dataclass
class OutreachSend:
    campaign_id: int
    prospect_id: int
    step: int  # 1-based
    template: str
    at: datetime  # workflow time of the send


@dataclass
class OutreachResult:
    idempotency_key: str
    status: str  # sent | duplicate | converted | unsubscribed | bounced | failed
    detail: str = ""


@dataclass
class MemberOutcome:
    campaign_id: int
    prospect_id: int
    status: str  # completed | converted | unsubscribed | bounced | failed
    steps_sent: int


@dataclass
class OutreachStatus:
    prospect_id: int
    steps_sent: int
    sent_at: list[datetime]
    outcome: str | None  # None while the sequence runs
    first_send_at: datetime | None = None  # the throttle slot: no step is sent before it


@dataclass
class ProspectConverted:
    partner_id: str


@dataclass
class ProspectUnsubscribed:
    email: str = ""


def campaign_workflow_id(campaign_id: int) -> str:
    return f"campaign-{campaign_id}"


def outreach_workflow_id(campaign_id: int, prospect_id: int) -> str:
    return f"outreach-{campaign_id}-{prospect_id}"


def outreach_key(prospect_id: int, campaign_id: int, step: int) -> str:
    return f"prospect:{prospect_id}:campaign:{campaign_id}:step:{step}"


# --- One-click unsubscribe links (never expire: they must work from any old email) --------------

_SALT = "partnerflow.outreach-unsubscribe"


def make_outreach_token(secret: str, prospect_id: int, campaign_id: int) -> str:
    return URLSafeSerializer(secret, salt=_SALT).dumps({"p": prospect_id, "c": campaign_id})


def read_outreach_token(secret: str, token: str) -> tuple[int, int]:
    """``(prospect_id, campaign_id)``; raises ValueError for a forged or mangled token."""
    try:
        data = URLSafeSerializer(secret, salt=_SALT).loads(token)
    except BadSignature as exc:
        raise ValueError("unsubscribe link is not valid") from exc
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in ("p", "c")):
        raise ValueError("unsubscribe link is not valid")
    return data["p"], data["c"]
