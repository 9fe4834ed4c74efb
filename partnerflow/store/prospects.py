"""Prospects, suppressions and campaign members: bulk import, selection, progress."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import Insert, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, func, select

from partnerflow.domain.prospect_import import ImportReport, ProspectRow, RowResult, read_csv
from partnerflow.domain.prospects import OPEN_MEMBER_STATUSES, CampaignProgress, CampaignStep
from partnerflow.store.models import Campaign, CampaignMember, EmailSuppression, Partner, Prospect, utcnow

CHUNK = 500  # bound parameters per IN (...) query
PROSPECT_COLUMNS = ("email", "name", "company", "website", "audience", "source", "locale", "consent_note")


def import_csv(session: Session, program: str, text: str, mapping: dict[str, str]) -> ImportReport:
    """Import a CSV; every row ends up imported, duplicate, invalid or suppressed, and says why."""
    started = time.perf_counter()
    report = ImportReport(program=program)
    results: list[RowResult] = []
    first_row: dict[str, int] = {}
    candidates: list[ProspectRow] = []
    for item in read_csv(text, mapping, report.notes):
        if isinstance(item, RowResult):
            results.append(item)
        elif item.email in first_row:
            results.append(
                RowResult(
                    item.row,
                    item.email,
                    "duplicate",
                    f"repeated in this file (first on row {first_row[item.email]})",
                )
            )
        else:
            first_row[item.email] = item.row
            candidates.append(item)
    emails = [row.email for row in candidates]
    suppressed = suppression_reasons(session, emails)
    known = set(_in_chunks(session, select(Prospect.email).where(Prospect.program == program), emails))
    partners = set(_in_chunks(session, select(Partner.email).where(Partner.program == program), emails))
    fresh: list[ProspectRow] = []
    for row in candidates:
        if row.email in suppressed:
            results.append(RowResult(row.row, row.email, "suppressed", f"address {suppressed[row.email]}"))
        elif row.email in known or row.email in partners:
            why = "already a prospect of this program" if row.email in known else "already a partner"
            results.append(RowResult(row.row, row.email, "duplicate", why))
        else:
            fresh.append(row)
    ids = _insert_new(session, program, fresh)
    for row in fresh:
        if row.email in ids:
            results.append(RowResult(row.row, row.email, "imported", row.note, ids[row.email]))
        else:  # another import won the race for this address
            results.append(RowResult(row.row, row.email, "duplicate", "already a prospect of this program"))
    report.rows = sorted(results, key=lambda result: result.row)
    report.total = len(report.rows)
    for result in report.rows:
        setattr(report, result.status, getattr(report, result.status) + 1)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _in_chunks(session: Session, statement: Any, emails: Sequence[str]) -> Iterable[Any]:
    """Rows of ``statement`` (on one table) whose ``email`` is among ``emails``."""
    email = statement.selected_columns[0].table.c.email
    for start in range(0, len(emails), CHUNK):
        yield from session.exec(statement.where(email.in_(emails[start : start + CHUNK])))


def suppression_reasons(session: Session, emails: Sequence[str]) -> dict[str, str]:
    rows = _in_chunks(session, select(EmailSuppression), emails)
    return {row.email: row.reason for row in rows}


def _insert_new(session: Session, program: str, rows: list[ProspectRow]) -> dict[str, int]:
    """One multi-row INSERT per chunk; rows that collide with a concurrent import are skipped."""
    if not rows:
        return {}
    now = utcnow()
    values = [
        {
            "program": program,
            "status": "new",
            "imported_at": now,
            **{key: getattr(row, key) for key in PROSPECT_COLUMNS},
        }
        for row in rows
    ]
    table = Prospect.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    statement: Insert
    if dialect in ("sqlite", "postgresql"):
        module = sqlite if dialect == "sqlite" else postgresql
        statement = module.insert(table).on_conflict_do_nothing(index_elements=["program", "email"])
    else:
        statement = insert(table)
    statement = statement.returning(table.c.id, table.c.email)
    ids: dict[str, int] = {}
    for start in range(0, len(values), CHUNK):
        for prospect_id, email in session.execute(statement, values[start : start + CHUNK]):
            ids[email] = prospect_id
    return ids


# --- campaigns ---------------------------------------------------------------------------------


def select_prospects(
    session: Session, program: str, prospect_ids: list[int] | None
) -> tuple[list[int], list[int]]:
    """``(ids to contact, unknown ids)``: all ``new`` prospects, or the given ones still reachable."""
    statement = select(Prospect.id).where(Prospect.program == program)
    if prospect_ids is None:
        found = list(session.exec(statement.where(Prospect.status == "new")))
        return sorted(pid for pid in found if pid is not None), []
    wanted = sorted(set(prospect_ids))
    statement = statement.where(col(Prospect.status).in_(("new", "contacted")))
    found_ids = {
        pid
        for start in range(0, len(wanted), CHUNK)
        for pid in session.exec(statement.where(col(Prospect.id).in_(wanted[start : start + CHUNK])))
    }
    return [pid for pid in wanted if pid in found_ids], [pid for pid in wanted if pid not in found_ids]


def create_campaign(
    session: Session,
    name: str,
    program: str,
    steps: list[CampaignStep],
    messages_per_minute: int,
    prospect_ids: list[int],
) -> Campaign:
    campaign = Campaign(
        name=name,
        program=program,
        steps=json.dumps([asdict(s) for s in steps]),
        messages_per_minute=messages_per_minute,
    )
    session.add(campaign)
    session.flush()
    members = [
        {"campaign_id": campaign.id, "prospect_id": pid, "status": "pending", "steps_sent": 0}
        for pid in prospect_ids
    ]
    for start in range(0, len(members), CHUNK):
        session.execute(insert(CampaignMember), members[start : start + CHUNK])
    return campaign


def campaign_steps(campaign: Campaign) -> list[CampaignStep]:
    return [CampaignStep(**step) for step in json.loads(campaign.steps)]


def member_batch(session: Session, campaign_id: int, after_prospect_id: int, limit: int) -> list[int]:
    statement = (
        select(CampaignMember.prospect_id)
        .where(CampaignMember.campaign_id == campaign_id, CampaignMember.prospect_id > after_prospect_id)
        .order_by(col(CampaignMember.prospect_id))
        .limit(limit)
    )
    return list(session.exec(statement))


def get_member(session: Session, campaign_id: int, prospect_id: int) -> CampaignMember | None:
    statement = select(CampaignMember).where(
        CampaignMember.campaign_id == campaign_id, CampaignMember.prospect_id == prospect_id
    )
    return session.exec(statement).first()


def progress(session: Session, campaign_id: int) -> CampaignProgress:
    statement = (
        select(CampaignMember.status, func.count(), func.coalesce(func.sum(CampaignMember.steps_sent), 0))
        .where(CampaignMember.campaign_id == campaign_id)
        .group_by(col(CampaignMember.status))
    )
    result = CampaignProgress()
    for status, count, sent in session.exec(statement):
        result.members += count
        result.sent += int(sent)
        if hasattr(result, status):
            setattr(result, status, getattr(result, status) + count)
    return result


def open_members(session: Session, emails: list[str], program: str | None = None) -> list[tuple[int, int]]:
    """``(campaign_id, prospect_id)`` of sequences that may still send to these addresses."""
    statement = (
        select(CampaignMember.campaign_id, CampaignMember.prospect_id)
        .join(Prospect, col(Prospect.id) == col(CampaignMember.prospect_id))
        .where(col(Prospect.email).in_(emails), col(CampaignMember.status).in_(OPEN_MEMBER_STATUSES))
    )
    if program is not None:
        statement = statement.where(Prospect.program == program)
    return [(cid, pid) for cid, pid in session.exec(statement)]


def mark_converted(session: Session, program: str, email: str, partner_id: str) -> Prospect | None:
    prospect = session.exec(
        select(Prospect).where(Prospect.program == program, Prospect.email == email)
    ).first()
    if prospect is not None:
        prospect.status, prospect.partner_id = "converted", partner_id
        session.add(prospect)
    return prospect


def suppress(session: Session, email: str, reason: str) -> None:
    """Never contact ``email`` again (first reason wins); its prospects show why."""
    if session.get(EmailSuppression, email) is None:
        session.add(EmailSuppression(email=email, reason=reason))
    stmt = select(Prospect).where(Prospect.email == email, col(Prospect.status).in_(("new", "contacted")))
    for prospect in session.exec(stmt):
        prospect.status = reason
        session.add(prospect)


def blocked_reason(session: Session, prospect: Prospect) -> str | None:
    """Why this prospect must not get outreach now, if anything (checked before every send)."""
    if prospect.status == "converted":
        return "converted"
    suppression = session.get(EmailSuppression, prospect.email)
    return suppression.reason if suppression else None


def set_member(session: Session, campaign_id: int, prospect_id: int, **changes: Any) -> None:
    member = get_member(session, campaign_id, prospect_id)
    if member is None:
        raise LookupError(f"prospect {prospect_id} is not in campaign {campaign_id}")
    for key, value in changes.items():
        setattr(member, key, value)
    session.add(member)
