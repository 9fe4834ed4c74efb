"""A program's partner terms: every version with its acceptances, and publishing the next one."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select
from temporalio.service import RPCError

from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.views import render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.services.onboarding import TERMS_AUDIENCE_STAGES, publish_terms
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TermsAcceptance, TermsVersion

log = logging.getLogger(__name__)
router = APIRouter()
BODY_MAX = 200_000  # as POST /programs/{program}/terms


@router.get("/programs/{program}/terms")
def terms_page(program: str, request: Request, session: auth.SessionDep, engine: EngineDep) -> Response:
    """Versions, newest first, with how many partners accepted each; the publish form."""
    return _page(request, session, engine, program)


def _page(
    request: Request,
    session: auth.DashboardSession,
    engine: Engine,
    program: str,
    title: str = "Partner terms",
    body: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    with session_scope(engine) as db:
        versions = _versions(db, program)
    return render(
        request,
        "terms",
        session,
        active="programs",
        status_code=status_code,
        program=program,
        versions=versions,
        title=title,
        body=body,
        error=error,
        body_max=BODY_MAX,
    )


@router.post("/programs/{program}/terms")
async def publish(
    program: str,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    title: Annotated[str, Form()] = "Partner terms",
    body: Annotated[str, Form()] = "",
) -> Response:
    """Publish the next version (as ``POST /programs/{program}/terms``): partners who accepted an
    older one are emailed to re-accept; onboarding does not restart."""
    title, body = title.strip() or "Partner terms", body.strip()
    client = forms.temporal(request)
    error = None
    if not body or len(body) > BODY_MAX or len(title) > 200:
        error = f"Write the terms (Markdown, up to {BODY_MAX:,} characters) and a title of up to 200."
    elif client is None:
        error = forms.NO_TEMPORAL
    if error or client is None:
        return _page(request, session, engine, program, title, body, error, 422)
    try:
        terms, told = await publish_terms(engine, client, settings, program, title, body, session.manager)
    except RPCError as exc:  # stored; some workflows may not have been told
        log.warning("terms of %s published, not every workflow told: %s", program, exc)
        return forms.redirect(settings, f"{auth.PATH}/programs/{program}/terms", "error", forms.RETRY)
    older = await run_in_threadpool(_accepted_older, engine, program, terms.version)
    message = (
        f"Terms v{terms.version} published. {older} partner{'s' if older != 1 else ''} who accepted an "
        f"older version {'are' if older != 1 else 'is'} asked to re-accept ({told} workflows told)."
    )
    return forms.redirect(settings, f"{auth.PATH}/programs/{program}/terms", "success", message)


def _versions(db: Session, program: str) -> list[tuple[TermsVersion, int]]:
    accepted = dict(
        db.exec(
            select(TermsAcceptance.terms_version_id, func.count()).group_by(
                col(TermsAcceptance.terms_version_id)
            )
        ).all()
    )
    statement = select(TermsVersion).where(TermsVersion.program == program)
    rows = db.exec(statement.order_by(col(TermsVersion.version).desc()))
    return [(terms, int(accepted.get(terms.id or 0, 0))) for terms in rows]


def _accepted_older(engine: Engine, program: str, version: int) -> int:
    """Onboarding or active partners whose latest accepted version is older than ``version``."""
    with session_scope(engine) as db:
        latest = (
            select(TermsAcceptance.partner_id, func.max(TermsAcceptance.version).label("v"))
            .group_by(col(TermsAcceptance.partner_id))
            .subquery()
        )
        statement = (
            select(func.count())
            .select_from(Partner)
            .join(latest, latest.c.partner_id == col(Partner.id))
            .where(
                Partner.program == program,
                col(Partner.stage).in_(TERMS_AUDIENCE_STAGES),
                latest.c.v < version,
            )
        )
        return int(db.exec(statement).one())
