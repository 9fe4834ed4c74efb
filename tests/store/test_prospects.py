"""Prospect CSV import (SQLite and PostgreSQL), the CLI command, outreach templates and links."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import add_partner
from sqlalchemy import Engine, text
from sqlmodel import func, select

from partnerflow.domain.prospect_import import CsvFormatError, ImportReport, parse_mapping
from partnerflow.domain.prospects import OUTREACH_TEMPLATES, make_outreach_token, read_outreach_token
from partnerflow.domain.stages import LOCALES
from partnerflow.rendering.templates import Renderer
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import EmailSuppression, Prospect

FIXTURES = Path(__file__).parents[1] / "fixtures"
CUSTOM_MAP = ["Kontakt=name", "firma=company", "Zielgruppe=audience", "SPRACHE=locale"]


@pytest.fixture
def db(any_engine: Engine) -> Iterator[Engine]:
    if any_engine.dialect.name == "postgresql":  # the session's database is shared by the tests
        with any_engine.begin() as connection:
            connection.execute(text("TRUNCATE prospects, campaigns, campaign_members, email_suppressions"))
    yield any_engine


def run_import(engine: Engine, name: str = "prospects.csv", mapping: list[str] | None = None,
               program: str = "default", content: str | None = None) -> ImportReport:  # fmt: skip
    body = content if content is not None else (FIXTURES / name).read_text(encoding="utf-8")
    with session_scope(engine) as session:
        return store.import_csv(session, program, body, parse_mapping(mapping or []))


def prospects(engine: Engine, program: str = "default") -> dict[str, Prospect]:
    with session_scope(engine) as session:
        return {p.email: p for p in session.exec(select(Prospect).where(Prospect.program == program))}


def by_row(report: ImportReport) -> dict[int, tuple[str, str]]:
    return {row.row: (row.status, row.reason) for row in report.rows}


def test_import_reports_every_row_with_its_reason(db: Engine) -> None:
    with session_scope(db) as session:
        session.add(EmailSuppression(email="suppressed@example.com", reason="unsubscribed"))

    report = run_import(db)

    rows = by_row(report)
    counts = (report.total, report.imported, report.duplicate, report.invalid, report.suppressed)
    assert counts == (8, 4, 1, 2, 1)
    assert rows[2] == ("imported", "") and rows[3] == ("imported", "") and rows[4] == ("imported", "")
    assert rows[5][0] == "invalid" and rows[5][1].startswith("bad email")
    assert rows[6] == ("invalid", "missing email")
    assert rows[7] == ("duplicate", "repeated in this file (first on row 2)")
    assert rows[8] == ("imported", "unknown locale 'xx', using en")
    assert rows[9] == ("suppressed", "address unsubscribed")
    stored = prospects(db)
    assert set(stored) == {"ada@example.com", "grace@example.com", "alan@example.com", "marie@example.com"}
    ada, grace = stored["ada@example.com"], stored["grace@example.com"]
    assert (ada.name, ada.company, ada.website, ada.audience, ada.source, ada.consent_note) == (
        "Ada Lovelace", "Analytical Engines", "https://ada.example/", "math blogs", "conference", "legitimate interest"
    )  # fmt: skip
    assert grace.locale == "fr" and stored["alan@example.com"].locale == "de" and ada.status == "new"
    assert all(row.prospect_id == stored[row.email].id for row in report.rows if row.status == "imported")


def test_reimport_changes_nothing_and_says_why(db: Engine) -> None:
    first = run_import(db)
    again = run_import(db)

    assert again.imported == 0 and again.duplicate == first.imported + first.duplicate
    assert by_row(again)[2] == ("duplicate", "already a prospect of this program")
    assert again.invalid == first.invalid and len(prospects(db)) == first.imported
    other = run_import(db, program="resellers")  # another program is another list
    assert other.imported == first.imported


def test_existing_partner_is_not_imported_again(db: Engine) -> None:
    add_partner(db, "alan@example.com")
    assert by_row(run_import(db))[4] == ("duplicate", "already a partner")


def test_column_mapping_option_and_semicolons(db: Engine) -> None:
    bare = run_import(db, "prospects_custom.csv", program="bare")  # "Mail" is recognised by itself
    mapped = run_import(db, "prospects_custom.csv", CUSTOM_MAP)

    assert (bare.imported, bare.invalid) == (2, 1) and prospects(db, "bare")["hedy@example.com"].name == ""
    hedy, emmy = prospects(db)["hedy@example.com"], prospects(db)["emmy@example.com"]
    assert (hedy.name, hedy.company, hedy.audience) == (
        "Hedy Lamarr",
        "Films",
        "inventors",
    ) and hedy.locale == "de"
    assert (emmy.name, emmy.company, emmy.locale) == ("Emmy Noether", None, "pl")
    assert by_row(mapped)[4][0] == "invalid"


def test_bad_mappings_and_files_are_refused(db: Engine) -> None:
    with pytest.raises(CsvFormatError, match="unknown field"):
        parse_mapping(["Mail=phone"])
    with pytest.raises(CsvFormatError, match="column=field"):
        parse_mapping(["email"])
    with pytest.raises(CsvFormatError, match="not in the file"):
        run_import(db, mapping=["Courriel=email"])
    with pytest.raises(CsvFormatError, match="no email column"):
        run_import(db, content="name,company\nAda,Engines\n")


def test_ten_thousand_rows_import_in_bulk(db: Engine) -> None:
    rng = random.Random(7)
    lines = ["email,name,company,niche,language"]
    for n in range(10_000):
        if n % 500 == 1:
            lines.append(f"broken-{n},Someone {n},,,en")  # 20 invalid
        elif n % 1000 == 3:
            lines.append(f"person{n - 1}@example.com,Again {n},,,en")  # 10 repeats of the row before
        else:
            niche, locale = rng.randint(1, 9), rng.choice(LOCALES)
            lines.append(f"person{n}@example.com,Person {n},Co {n},niche {niche},{locale}")

    started = time.perf_counter()
    report = run_import(db, content="\n".join(lines) + "\n")
    elapsed = time.perf_counter() - started

    print(f"\n10,000-row import on {db.dialect.name}: {elapsed:.2f} s (report says {report.seconds:.2f} s)")
    assert (report.total, report.imported, report.invalid, report.duplicate) == (10_000, 9_970, 20, 10)
    with session_scope(db) as session:
        assert session.exec(select(func.count()).select_from(Prospect)).one() == 9_970
    assert elapsed < 120  # generous: a bound against row-by-row inserts gone wild, not a benchmark


# --- templates and links -----------------------------------------------------------------------

CONTEXT: dict[str, Any] = {
    "prospect": {"name": "Ada <Lovelace>", "company": "Engines & Co", "email": "ada@example.com"},
    "program": "Acme",
    "signup_url": "https://partnerflow.test/join?program=default",
    "unsubscribe_url": "https://partnerflow.test/outreach/unsubscribe/tok123",
    "step": 1,
}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", OUTREACH_TEMPLATES)
def test_outreach_templates_render_in_every_locale(name: str, locale: str) -> None:
    email = Renderer().email(name, locale, CONTEXT)

    assert email.subject and "Acme" in email.subject and "\n" not in email.subject
    for body in (email.text, email.html):
        assert CONTEXT["signup_url"] in body and CONTEXT["unsubscribe_url"] in body
    assert "Ada <Lovelace>" in email.text and "Ada &lt;Lovelace&gt;" in email.html
    assert email.html.startswith("<!DOCTYPE html>") and f'lang="{locale}"' in email.html
    assert "applied" not in email.html  # not the partners' footer: prospects never applied
    nobody = {"prospect": {"name": "", "company": None, "email": "x@y.z"}}
    anonymous = Renderer().email(name, locale, CONTEXT | nobody)
    assert "None" not in anonymous.text and " ," not in anonymous.text


@pytest.mark.parametrize("name", OUTREACH_TEMPLATES)
def test_outreach_templates_are_translated(name: str) -> None:
    subjects = {Renderer().email(name, locale, CONTEXT).subject for locale in LOCALES}
    assert len(subjects) == len(LOCALES)


def test_unsubscribe_tokens_round_trip_and_refuse_tampering() -> None:
    token = make_outreach_token("secret", 42, 7)
    assert read_outreach_token("secret", token) == (42, 7)
    for bad in (token + "x", make_outreach_token("other", 42, 7), "garbage"):
        with pytest.raises(ValueError):
            read_outreach_token("secret", bad)


def test_a_website_that_is_no_web_address_is_dropped_with_a_note_not_the_row(db: Engine) -> None:
    content = (
        "email,name,website\n"
        "ok@example.com,Ok,https://ok.example/blog\n"
        "js@example.com,Js,javascript:alert(3)\n"
        'creds@example.com,Creds,"https://user:pw@evil.example/"\n'
        "ctl@example.com,Ctl,https://a.example/\x01\n"
    )
    report = run_import(db, content=content)

    assert report.imported == 4 and report.invalid == 0
    assert by_row(report)[2] == ("imported", "")
    assert by_row(report)[3] == (
        "imported", "website dropped: it must start with http:// or https:// (got javascript:)"
    )  # fmt: skip
    assert by_row(report)[4] == (
        "imported",
        "website dropped: it must not contain credentials (user:password@)",
    )
    assert by_row(report)[5][1].startswith("website dropped: it must not contain U+0001")
    stored = prospects(db)
    assert stored["ok@example.com"].website == "https://ok.example/blog"
    assert [stored[f"{name}@example.com"].website for name in ("js", "creds", "ctl")] == [None, None, None]
