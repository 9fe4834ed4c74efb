"""Webinar .ics files interoperate: read back by an independent parser (vobject, not the
``icalendar`` package that writes them) and checked against RFC 5545's line rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import vobject
from conftest import make_settings

from partnerflow.config import Settings
from partnerflow.rendering.calendar import webinar_ics, webinar_uid
from partnerflow.store.models import Webinar

STARTS = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
# Long, and multi-byte throughout (2-, 3- and 4-byte UTF-8), so folding lands inside characters.
LONG_TITLE = (
    "Żółta ścieżka partnerów Velocity — część druga: pytania, odpowiedzi i przykłady "
    "kampanii 日本語のウェビナー 🚴🚴‍♀️ ende"
)


def webinar(**overrides: Any) -> Webinar:
    values: dict[str, Any] = {"id": 12, "title": "Velocity partner onboarding", "starts_at": STARTS,
                              "timezone": "Europe/Warsaw", "duration_minutes": 45,
                              "join_url": "https://meet.example.com/j/velocity-8841", "capacity": 50}  # fmt: skip
    return Webinar(**(values | overrides))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path,
        public_url="https://partners.velocity.example/app/",
        email_from="partners@velocity.example",
        email_from_name="Velocity, Partner Team",
    )


def parse(ics: bytes) -> Any:
    return vobject.readOne(ics.decode("utf-8"))


def test_invitation_reads_back_with_an_independent_parser(settings: Settings) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    ics = webinar_ics(webinar(), "ada@partner.example", "Ada Lovelace", settings)
    after = datetime.now(UTC)

    calendar = parse(ics)
    event = calendar.vevent
    assert calendar.method.value == "REQUEST"
    assert event.uid.value == "webinar-12@partners.velocity.example"
    assert event.sequence.value == "0"
    assert event.status.value == "CONFIRMED"
    assert before <= event.dtstamp.value <= after and event.dtstamp.value.utcoffset() == timedelta(0)
    assert (event.dtstart.value, event.dtend.value) == (STARTS, STARTS + timedelta(minutes=45))
    assert event.summary.value == "Velocity partner onboarding"
    assert event.organizer.value == "mailto:partners@velocity.example"
    assert event.organizer.params["CN"] == ["Velocity, Partner Team"]
    assert event.attendee.value == "mailto:ada@partner.example"
    assert event.attendee.params["CN"] == ["Ada Lovelace"]
    assert event.attendee.params["RSVP"] == ["TRUE"]
    assert event.attendee.params["PARTSTAT"] == ["NEEDS-ACTION"]


def test_uid_is_stable_per_webinar_and_deployment(settings: Settings, tmp_path: Path) -> None:
    first = parse(webinar_ics(webinar(), "ada@partner.example", "Ada", settings)).vevent.uid.value
    again = parse(
        webinar_ics(webinar(title="Moved"), "bob@partner.example", "Bob", settings)
    ).vevent.uid.value
    other_webinar = parse(
        webinar_ics(webinar(id=13), "ada@partner.example", "Ada", settings)
    ).vevent.uid.value
    elsewhere = make_settings(tmp_path, public_url="https://partners.other.example")
    other_deployment = parse(webinar_ics(webinar(), "ada@partner.example", "Ada", elsewhere)).vevent.uid.value

    assert first == again == webinar_uid(12, settings.public_url)
    assert len({first, other_webinar, other_deployment}) == 3


def test_reschedule_and_cancel_carry_sequence_and_status(settings: Settings) -> None:
    moved = parse(
        webinar_ics(webinar(starts_at=STARTS + timedelta(days=1)), "a@p.example", "A", settings, sequence=1)
    )
    cancelled = parse(webinar_ics(webinar(), "a@p.example", "A", settings, method="CANCEL", sequence=2))

    assert (moved.method.value, moved.vevent.sequence.value) == ("REQUEST", "1")
    assert moved.vevent.dtstart.value == STARTS + timedelta(days=1)
    assert (cancelled.method.value, cancelled.vevent.sequence.value) == ("CANCEL", "2")
    assert cancelled.vevent.status.value == "CANCELLED"
    assert moved.vevent.uid.value == cancelled.vevent.uid.value
    assert "RSVP" not in cancelled.vevent.attendee.params


@pytest.mark.parametrize(("method", "sequence"), [("PUBLISH", 0), ("request", 0), ("REQUEST", -1)])
def test_unsupported_method_or_sequence_is_refused(settings: Settings, method: Any, sequence: int) -> None:
    with pytest.raises(ValueError):
        webinar_ics(webinar(), "a@p.example", "A", settings, method=method, sequence=sequence)


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_rfc5545_line_rules_hold_for_a_long_non_ascii_title(settings: Settings, method: Any) -> None:
    ics = webinar_ics(
        webinar(title=LONG_TITLE), "zofia@partner.example", "Zofia Żółkiewska", settings, method=method
    )

    assert ics.endswith(b"\r\n")
    assert ics.count(b"\n") == ics.count(b"\r\n"), "every line ends with CRLF"
    assert b"\r" not in ics.replace(b"\r\n", b"")
    lines = ics.split(b"\r\n")[:-1]
    summary_lines = [i for i, line in enumerate(lines) if line.startswith(b"SUMMARY:")]
    assert summary_lines and lines[summary_lines[0] + 1].startswith(b" "), "the long title was folded"
    for line in lines:
        assert len(line) <= 75, f"{len(line)} octets: {line!r}"
        line.decode("utf-8")  # a fold inside a multi-byte sequence would leave half a character here
    assert parse(ics).vevent.summary.value == LONG_TITLE
