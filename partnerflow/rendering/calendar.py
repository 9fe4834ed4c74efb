"""iCalendar (.ics) invitations for webinar sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText

from partnerflow.config import Settings

IcsMethod = Literal["REQUEST", "CANCEL"]
METHODS: tuple[IcsMethod, ...] = ("REQUEST", "CANCEL")


class Webinar(Protocol):
    """What an invitation needs of a webinar session (the store's ``Webinar`` row has it)."""

    id: int | None
    title: str
    starts_at: datetime
    duration_minutes: int
    timezone: str
    join_url: str
    created_at: datetime


def webinar_uid(webinar_id: int | None, public_url: str) -> str:
    """Globally unique and stable per webinar and deployment, so later updates replace the event."""
    return f"webinar-{webinar_id}@{urlsplit(public_url).hostname or 'partnerflow.invalid'}"


def webinar_ics(
    webinar: Webinar,
    attendee_email: str,
    attendee_name: str,
    settings: Settings,
    *,
    method: IcsMethod = "REQUEST",
    sequence: int = 0,
) -> bytes:
    """An invitation (METHOD:REQUEST) or its cancellation (METHOD:CANCEL) for one attendee.

    Calendar apps match events by UID: a REQUEST with a higher ``sequence`` reschedules the event
    already in the calendar, a CANCEL (STATUS:CANCELLED) removes it (RFC 5546).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if sequence < 0:
        raise ValueError("sequence must not be negative")
    calendar = Calendar()
    calendar.add("prodid", "-//Partnerflow//Webinars//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", webinar_uid(webinar.id, settings.public_url))
    event.add("sequence", sequence)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("dtstamp", datetime.now(UTC).replace(microsecond=0))  # when this copy was generated
    event.add("summary", webinar.title)
    event.add("dtstart", _utc(webinar.starts_at))
    event.add("dtend", _utc(webinar.starts_at) + timedelta(minutes=webinar.duration_minutes))
    event.add("location", webinar.join_url)
    event.add("url", webinar.join_url)
    event.add("description", f"Join: {webinar.join_url}")
    organizer = vCalAddress(f"mailto:{settings.email_from}")
    organizer.params["cn"] = vText(settings.email_from_name)
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["cn"] = vText(attendee_name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    if method == "REQUEST":
        attendee.params["partstat"] = vText("NEEDS-ACTION")
        attendee.params["rsvp"] = vText("TRUE")
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "fr": ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
    "de": ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
    "pl": ["pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz."],
}


def webinar_context(webinar: Webinar, locale: str) -> dict[str, Any]:
    """The session as email templates show it, in the webinar's own time zone."""
    try:
        zone = ZoneInfo(webinar.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = webinar.starts_at.astimezone(zone)
    weekday = _WEEKDAYS.get(locale, _WEEKDAYS["en"])[local.weekday()]
    return {
        "id": webinar.id,
        "title": webinar.title,
        "starts_at": webinar.starts_at.isoformat(),
        "starts_at_local": f"{weekday} {local:%d.%m.%Y, %H:%M} ({zone.key})",
        "join_url": webinar.join_url,
        "duration_minutes": webinar.duration_minutes,
    }
