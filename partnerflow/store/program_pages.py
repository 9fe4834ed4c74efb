"""The hosted application page's texts: one row per program and locale, English as the fallback."""

from __future__ import annotations

from sqlmodel import Session, col, select

from partnerflow.domain.stages import DEFAULT_LOCALE
from partnerflow.store.models import ProgramPage, utcnow


def pages_of(session: Session, program: str) -> list[ProgramPage]:
    """Every locale's text of the program's page, by locale."""
    statement = select(ProgramPage).where(ProgramPage.program == program).order_by(col(ProgramPage.locale))
    return list(session.exec(statement))


def page_for(session: Session, program: str, locale: str) -> ProgramPage | None:
    """The text in ``locale``, else in English, else in any locale the program wrote; None without any."""
    pages = {page.locale: page for page in pages_of(session, program)}
    return pages.get(locale) or pages.get(DEFAULT_LOCALE) or next(iter(pages.values()), None)


def save_page(
    session: Session,
    program: str,
    locale: str,
    description: str,
    commission_summary: str,
    terms_summary: str,
    by: str,
) -> ProgramPage:
    """Create or replace the program's text in ``locale``."""
    statement = select(ProgramPage).where(ProgramPage.program == program, ProgramPage.locale == locale)
    page = session.exec(statement).first() or ProgramPage(program=program, locale=locale)
    page.description, page.commission_summary, page.terms_summary = (
        description,
        commission_summary,
        terms_summary,
    )
    page.updated_at, page.updated_by = utcnow(), by
    session.add(page)
    session.flush()
    return page
