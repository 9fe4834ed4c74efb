"""The audit trail (manager token): one partner's as JSON, a program's period as CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlmodel import select

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep
from partnerflow.api.errors import responses
from partnerflow.api.routes.kpis import _FROM, _TO, _period
from partnerflow.services.audit import AuditEntry, partner_trail, program_trail
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Program

router = APIRouter(tags=["audit"], responses=MANAGER_AUTH)
CSV_COLUMNS = ("at", "partner_id", "partner_email", "kind", "actor", "summary", "detail", "ip", "user_agent",
               "source")  # fmt: skip
KINDS = ("application", "decision", "message", "terms_acceptance", "manager_action", "partner_action",
         "system")  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AuditItem(BaseModel):
    at: datetime
    kind: str = Field(description=f"one of {', '.join(KINDS)}")
    actor: str = Field(description="a manager's name, rule:<name>, partner, applicant or system")
    summary: str
    detail: str
    ip: str | None = Field(description="terms acceptances: the partner's address")
    user_agent: str | None
    source: str = Field(description="store or workflow (the partner's timeline)")


class PartnerAudit(BaseModel):
    partner_id: str
    timeline: bool = Field(description="false when the workflow did not answer: store records only")
    items: list[AuditItem]


@router.get(
    "/partners/{partner_id}/audit",
    response_model=PartnerAudit,
    responses=responses(422, not_found="unknown partner"),
)
async def partner_audit(partner_id: str, request: Request, engine: EngineDep, _m: ManagerDep) -> PartnerAudit:
    """Every decision, message, terms acceptance and manager action for the partner, oldest first."""
    trail = await partner_trail(engine, request.app.state.temporal, partner_id)
    if trail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"partner {partner_id} not found")
    items = [AuditItem(**_fields(entry)) for entry in trail.entries]
    return PartnerAudit(partner_id=partner_id, timeline=trail.timeline, items=items)


@router.get(
    "/programs/{program}/audit.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "one row per entry, oldest first"},
        **responses(
            not_found="unknown program",
            unprocessable_entity="unreadable or empty from/to period (to is exclusive)",
        ),
    },
)
async def program_audit_csv(
    program: ProgramId,
    request: Request,
    engine: EngineDep,
    _m: ManagerDep,
    start: str | None = _FROM,
    end: str | None = _TO,
) -> Response:
    """The program's audit trail in the period (default: the last 30 days) as CSV."""
    begin, finish = _period(start, end)
    if not await run_in_threadpool(_known, engine, program):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"program {program!r} not found")
    rows = await program_trail(engine, request.app.state.temporal, program, begin, finish)
    name = f"audit-{program}-{begin.date().isoformat()}-{finish.date().isoformat()}.csv"
    return Response(
        to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def to_csv(rows: list[tuple[AuditEntry, Partner | None]]) -> str:
    """CSV of the entries; a cell that a spreadsheet would read as a formula starts with a quote."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry, partner in rows:
        values = _fields(entry) | {"partner_id": entry.partner_id, "partner_email": partner and partner.email}
        values["at"] = entry.at.isoformat()
        writer.writerow([safe_cell(values.get(column)) for column in CSV_COLUMNS])
    return out.getvalue()


def safe_cell(value: object) -> str:
    """Neutralise CSV injection: ``=``, ``+``, ``-``, ``@`` (and tab, CR) at the start get a ``'``."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _fields(entry: AuditEntry) -> dict[str, object]:
    return {
        "at": entry.at,
        "kind": entry.kind,
        "actor": entry.actor,
        "summary": entry.summary,
        "detail": entry.detail,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
        "source": entry.source,
    }


def _known(engine: Engine, program: str) -> bool:
    with session_scope(engine) as session:
        if session.get(Program, program) is not None:
            return True
        return session.exec(select(Partner.id).where(Partner.program == program)).first() is not None
