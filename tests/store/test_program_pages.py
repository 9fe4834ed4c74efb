"""Program page texts per locale, and migrations 0007-0008 both ways with partners in the table."""

from __future__ import annotations

from alembic import command
from helpers import add_partner
from sqlalchemy import Engine

from partnerflow.store.db import alembic_config, session_scope, upgrade
from partnerflow.store.models import Partner
from partnerflow.store.program_pages import page_for, pages_of, save_page


def test_text_per_locale_with_english_then_any_as_fallback(any_engine: Engine) -> None:
    with session_scope(any_engine) as session:
        assert page_for(session, "acme", "fr") is None
        save_page(session, "acme", "pl", "Opis", "", "", by="alice")
        assert page_for(session, "acme", "fr").locale == "pl"  # type: ignore[union-attr]
        save_page(session, "acme", "en", "About", "20 %", "Be fair", by="alice")
        save_page(session, "acme", "en", "About us", "20 %", "Be fair", by="bob")  # replaces
        english = page_for(session, "acme", "fr")
        assert english is not None and (english.locale, english.description, english.updated_by) == (
            "en", "About us", "bob",
        )  # fmt: skip
        assert [p.locale for p in pages_of(session, "acme")] == ["en", "pl"]
        assert page_for(session, "acme", "pl").description == "Opis"  # type: ignore[union-attr]


def test_migrations_0007_0008_go_back_and_forth_with_partners(any_engine: Engine) -> None:
    partner = add_partner(any_engine, "ada@example.com", country="fr")
    command.downgrade(alembic_config(any_engine), "0006")
    upgrade(any_engine)
    with session_scope(any_engine) as session:
        again = session.get(Partner, partner.id)
    assert again is not None and again.email == "ada@example.com" and again.country is None
