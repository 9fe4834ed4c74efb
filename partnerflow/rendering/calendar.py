"""iCalendar (.ics) invitations for webinar sessions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText


class Webinar(Protocol):
    """What an invitation needs of a webinar session (the store's ``Webinar`` row has it)."""

    id: int | None
    title: str
    starts_at: datetime
    duration_minutes: int
    timezone: str
    join_url: str
    created_at: datetime


def webinar_ics(webinar: Webinar, attendee_email: str, attendee_name: str, organizer_email: str) -> bytes:
    """A METHOD:REQUEST invitation that calendar apps add with one click."""
    calendar = Calendar()
    calendar.add("prodid", "-//Partnerflow//Webinars//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"webinar-{webinar.id}@partnerflow")
    event.add("summary", webinar.title)
    event.add("dtstart", webinar.starts_at)
    event.add("dtend", webinar.starts_at + timedelta(minutes=webinar.duration_minutes))
    event.add("dtstamp", webinar.created_at)
    event.add("location", webinar.join_url)
    event.add("url", webinar.join_url)
    event.add("description", f"Join: {webinar.join_url}")
    organizer = vCalAddress(f"mailto:{organizer_email}")
    organizer.params["cn"] = vText("Partnerflow")
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["cn"] = vText(attendee_name)
    attendee.params["rsvp"] = vText("TRUE")
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()


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
