"""A program's hosted application page: edit its text per locale (CSRF-protected, post/redirect/get),
and export the program's audit trail as CSV."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import Engine

from partnerflow.api.dashboard import auth
from partnerflow.api.dashboard.views import render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.api.routes.audit import to_csv
from partnerflow.api.routes.kpis import _period
from partnerflow.api.routes.program_page import ProgramPageIn, apply_url
from partnerflow.domain.stages import LOCALES
from partnerflow.services.audit import program_trail
from partnerflow.store import onboarding, program_pages
from partnerflow.store.db import session_scope
from partnerflow.store.models import ProgramPage

router = APIRouter()
LANGUAGES = {"en": "English", "fr": "French", "de": "German", "pl": "Polish"}


@router.get("/programs/{program}/page")
def page_form(
    program: str, request: Request, session: auth.SessionDep, engine: EngineDep, settings: SettingsDep,
    locale: str = "en",
) -> Response:  # fmt: skip
    """The application page's text in one locale, as a form."""
    locale = locale if locale in LOCALES else "en"
    pages = _pages(engine, program)
    today = datetime.now(UTC).date()
    return render(
        request,
        "program_page",
        session,
        active="programs",
        program=program,
        locale=locale,
        languages=LANGUAGES,
        written=sorted(pages),
        page=pages.get(locale),
        public_url=apply_url(settings, program),
        audit_from=(today - timedelta(days=30)).isoformat(),
        audit_to=(today + timedelta(days=1)).isoformat(),
    )


@router.post("/programs/{program}/page")
async def save_page(
    program: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    locale: Annotated[str, Form()] = "en",
    description: Annotated[str, Form()] = "",
    commission_summary: Annotated[str, Form()] = "",
    terms_summary: Annotated[str, Form()] = "",
) -> Response:
    """Save one locale's text (as ``PUT /programs/{program}/page``), then back to the form."""
    here = f"{auth.PATH}/programs/{quote(program, safe='')}/page?locale={quote(locale, safe='')}"
    response = RedirectResponse(here, status.HTTP_303_SEE_OTHER)
    try:
        body = ProgramPageIn(
            locale=locale,
            description=description,
            commission_summary=commission_summary,
            terms_summary=terms_summary,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        auth.flash(response, settings, "error", f"Nothing saved: {problems}")
        return response
    await run_in_threadpool(_save, engine, settings.default_landing_url, program, body, session.manager)
    auth.flash(response, settings, "success", f"Saved the {LANGUAGES[body.locale]} text of {program}'s page.")
    return response


@router.get("/programs/{program}/audit.csv")
async def audit_csv(program: str, request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """The program's audit trail for the period (``?from=&to=``), as ``GET /programs/{program}/audit.csv``."""
    params = request.query_params
    try:
        begin, finish = _period(params.get("from") or None, params.get("to") or None)
    except RequestValidationError as exc:  # the API's 422 naming the parameter: shown as text here
        return PlainTextResponse(f"Bad period: {'; '.join(e['msg'] for e in exc.errors())}", 422)
    rows = await program_trail(engine, request.app.state.temporal, program, begin, finish)
    name = f"audit-{program}-{begin.date().isoformat()}-{finish.date().isoformat()}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)


def _pages(engine: Engine, program: str) -> dict[str, ProgramPage]:
    with session_scope(engine) as db:
        return {page.locale: page for page in program_pages.pages_of(db, program)}


def _save(engine: Engine, landing: str, program: str, body: ProgramPageIn, manager: str) -> None:
    with session_scope(engine) as db:
        onboarding.ensure_program(db, program, landing)
        program_pages.save_page(db, program, by=manager, **body.model_dump())
