"""Accepting the partner terms from the portal: recorded with its audit trail, then told to the workflow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.api.deps import EngineDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.api.portal.access import LINK_REFUSED, PRIVATE, Denied, as_pages, notice, partner_for
from partnerflow.domain.limits import MAX_ID
from partnerflow.domain.onboarding import TermsAccepted
from partnerflow.services.partners import signal_terms_accepted
from partnerflow.store import onboarding
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, TermsAcceptance

router = APIRouter()

_CONFLICT = "no terms published yet, or `version` is no longer the current one (the page links back)"


class AcceptBody(BaseModel):
    version: int | None = Field(None, ge=1, le=MAX_ID)  # the version read; refused if no longer current


class TermsAcceptedResponse(BaseModel):
    partner_id: str
    version: int
    accepted_at: datetime
    already_accepted: bool


@router.post(
    "/{token}/terms/accept",
    response_model=TermsAcceptedResponse,
    responses={
        303: {"description": "form post: back to the portal"},
        **as_pages(responses(forbidden=LINK_REFUSED, conflict=_CONFLICT), json_too=True),
        **responses(503, unprocessable_entity="`version` is not a whole number"),
    },
)
async def accept_terms(
    token: str, request: Request, settings: SettingsDep, engine: EngineDep, client: TemporalDep
) -> Response:
    """Accept the current terms (form or JSON, optional ``version``); idempotent."""
    as_json = request.headers.get("content-type", "").startswith("application/json")
    try:
        partner = await partner_for(request, settings, engine, token, as_json)
        body = await _accept_body(request, as_json)
        acceptance, created = await run_in_threadpool(
            _accept, engine, partner, body.version, _client_ip(request), request.headers.get("user-agent")
        )
    except Denied as denied:
        return denied.response
    except _Conflict as conflict:
        back = f"/portal/{token}"
        return notice(request, partner, 409, conflict.kind, as_json, back_url=back, values=conflict.values)
    await _signal_acceptance(client, acceptance)
    if not as_json:
        return RedirectResponse(f"/portal/{token}", status.HTTP_303_SEE_OTHER, headers=PRIVATE)
    result = TermsAcceptedResponse(
        partner_id=partner.id,
        version=acceptance.version,
        accepted_at=acceptance.accepted_at,
        already_accepted=not created,
    )
    return JSONResponse(result.model_dump(mode="json"), headers=PRIVATE)


async def _accept_body(request: Request, as_json: bool) -> AcceptBody:
    if as_json:
        raw = await request.body()
        data: Any = await request.json() if raw.strip() else {}
    else:
        data = {key: value for key, value in (await request.form()).items() if value != ""}
    try:
        return AcceptBody.model_validate(data if isinstance(data, dict) else {"version": data})
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from exc


class _Conflict(Exception):
    def __init__(self, kind: str, **values: object) -> None:
        super().__init__(kind)
        self.kind, self.values = kind, values


def _accept(
    engine: Engine, partner: Partner, version: int | None, ip: str | None, user_agent: str | None
) -> tuple[TermsAcceptance, bool]:
    with session_scope(engine) as session:
        terms = onboarding.current_terms(session, partner.program)
        if terms is None:
            raise _Conflict("no_terms")
        if version is not None and version != terms.version:
            raise _Conflict("conflict", version=terms.version)
        return onboarding.record_acceptance(session, partner.id, terms, ip=ip, user_agent=user_agent)


async def _signal_acceptance(client: Client, acceptance: TermsAcceptance) -> None:
    """Tell the workflow (again, harmlessly, on a repeat: it may have missed the first signal)."""
    accepted = TermsAccepted(acceptance.version, acceptance.accepted_at)
    await signal_terms_accepted(client, acceptance.partner_id, accepted)


def _client_ip(request: Request) -> str | None:
    forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
    return (forwarded or (request.client.host if request.client else ""))[:64] or None
