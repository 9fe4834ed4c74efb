"""Onboarding: timings, signals, updates and activity payloads (pure types)."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class OnboardingTimings:
    """When onboarding nags (snapshotted into the workflow input from settings)."""

    terms_reminders: list[timedelta] = field(default_factory=lambda: [timedelta(days=2), timedelta(days=5)])
    terms_escalation: timedelta = timedelta(days=14)
    webinar_reminders: list[timedelta] = field(
        default_factory=lambda: [timedelta(hours=24), timedelta(hours=1)]
    )
    webinar_max_reinvites: int = 2
    attendance_grace: timedelta = timedelta(hours=12)  # after the end, before a no-show is assumed
    no_webinar_recheck: timedelta = timedelta(days=1)


@dataclass
class TermsAccepted:
    """Signal: the partner accepted a terms version in the portal."""

    version: int
    accepted_at: datetime


@dataclass
class TermsPublished:
    """Signal: a new terms version was published; partners who accepted an older one re-accept."""

    version: int


@dataclass
class WebinarAttended:
    """Signal: attendance recorded for a webinar session."""

    webinar_id: int
    attended_at: datetime


@dataclass
class WebinarChanged:
    """Signal: a session the partner holds a seat in was rescheduled or cancelled (already in the store)."""

    webinar_id: int
    sequence: int  # the session's .ics SEQUENCE after the change
    cancelled: bool = False
    starts_at: datetime | None = None  # the session's times after the change
    ends_at: datetime | None = None
    moved: bool = False  # its time or duration changed, not only its title or link
    reason: str | None = None  # why it was cancelled (for the partner's timeline, not the email)


@dataclass
class ChecklistUpdate:
    """Update: a manager marks an item done by hand (``waive`` for the webinar)."""

    item: str
    manager: str
    note: str = ""
    waive: bool = False


@dataclass
class Kit:
    """What the welcome-kit email shows: the tracking link and the partner's resources."""

    tracking_code: str
    tracking_url: str
    resources: list[dict[str, str]] = field(default_factory=list)  # title, kind, url


@dataclass
class WebinarInvite:
    """Activity input: reserve a seat in the next session with room, skipping ``exclude``."""

    partner_id: str
    exclude: list[int] = field(default_factory=list)
    after: datetime | None = None  # the workflow's clock: sessions starting later than this


@dataclass
class WebinarSession:
    webinar_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    join_url: str
    sequence: int = 0  # how often the session was changed before the seat was reserved


@dataclass
class NoShow:
    partner_id: str
    webinar_id: int


@dataclass
class PortalLinkRequest:
    """The partner asked for a fresh portal link (their old one expired)."""

    requested_from: str = "portal"
