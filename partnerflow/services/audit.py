"""The audit trail: who decided, sent, accepted or changed what, and when.

It joins the store (application decisions, the outbox, terms acceptances with IP and user agent,
terms versions and application-page edits) with the workflow's timeline (manager actions such
as pauses, checklist marks, tier decisions and offboarding; stage changes). The timeline comes
from the ``status`` query, so it holds what the workflow carries: its last 100 entries after a
review's continue-as-new (Temporal keeps every run's full history).
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client

from partnerflow.domain.lifecycle import HistoryEntry, PartnerStatus
from partnerflow.domain.stages import Stage, empty_checklist
from partnerflow.services.partners import live_status
from partnerflow.store import audit as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner

QUERY_TIMEOUT = timedelta(seconds=3)
QUERIES_AT_ONCE = 8
# Timeline entries the store records better (with the reason, IP and user agent): left out.
IN_THE_STORE = {"approved", "rejected", "terms-accepted", "applied"}
PARTNER_EVENTS = {"portal-link-requested"}
_BY = re.compile(r"\bby ([^:()]+?)(?:[:(]|$)")
_TIER_AUTHOR = re.compile(r"\(([^)]+)\)\s*$")


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    kind: (
        str  # application | decision | message | terms_acceptance | manager_action | partner_action | system
    )
    actor: str  # a manager's name, rule:<name>, partner, applicant or system
    summary: str
    detail: str = ""
    partner_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    source: str = "store"  # store | workflow


@dataclass(frozen=True)
class PartnerTrail:
    partner: Partner
    entries: list[AuditEntry]
    timeline: bool  # False: the workflow did not answer, only the store's records are listed


async def partner_trail(
    engine: Engine, client: Client | None, partner_id: str, history: list[HistoryEntry] | None = None
) -> PartnerTrail | None:
    """One partner's whole trail, oldest first; None for an unknown partner. ``history``: the
    workflow timeline when the caller has it already."""
    found = await asyncio.to_thread(_stored, engine, [partner_id], None, None)
    partner = found[1].get(partner_id)
    if partner is None:
        return None
    live = history is not None
    if history is None:
        status = await _status(client, partner)
        live, history = status is not None, status.history if status else []
    entries = found[0] + timeline_entries(partner_id, history)
    return PartnerTrail(partner, sorted(entries, key=lambda e: e.at), live)


async def program_trail(
    engine: Engine, client: Client | None, program: str, start: datetime, end: datetime
) -> list[tuple[AuditEntry, Partner | None]]:
    """The program's trail in ``[start, end)``, oldest first, each entry with its partner."""
    entries, partners = await asyncio.to_thread(_stored, engine, None, program, (start, end))
    gate = asyncio.Semaphore(QUERIES_AT_ONCE)

    async def timeline(partner: Partner) -> list[AuditEntry]:
        async with gate:
            status = await _status(client, partner)
        return timeline_entries(partner.id, status.history if status else [])

    for found in await asyncio.gather(*(timeline(p) for p in partners.values())):
        entries.extend(entry for entry in found if start <= entry.at < end)
    return [(entry, partners.get(entry.partner_id or "")) for entry in sorted(entries, key=lambda e: e.at)]


def timeline_entries(partner_id: str, history: list[HistoryEntry]) -> list[AuditEntry]:
    """The workflow's timeline as audit entries: who did it, parsed from the entry's detail."""
    entries = []
    for item in history:
        if item.event in IN_THE_STORE:
            continue
        try:
            at = datetime.fromisoformat(item.at)
        except ValueError:
            continue
        kind, actor = _author(item)
        title = "Stage changed to" if item.event == "stage" else item.event.replace("-", " ").capitalize()
        entries.append(AuditEntry(at, kind, actor, title, item.detail, partner_id, source="workflow"))
    return entries


def _author(item: HistoryEntry) -> tuple[str, str]:
    if item.event in PARTNER_EVENTS:
        return "partner_action", "partner"
    if item.event == "tier":
        found = _TIER_AUTHOR.search(item.detail)
        author = found.group(1).strip() if found else "auto"
        return ("system", "system") if author == "auto" else ("manager_action", author)
    found = _BY.search(item.detail)
    return ("manager_action", found.group(1).strip()) if found else ("system", "system")


async def _status(client: Client | None, partner: Partner) -> PartnerStatus | None:
    if client is None:
        return None
    stored = PartnerStatus(partner.id, Stage(partner.stage), empty_checklist(), partner.tier, [])
    status = await live_status(client, partner.id, stored, QUERY_TIMEOUT, tolerate_errors=True)
    return None if status is stored else status


def _stored(
    engine: Engine,
    partner_ids: list[str] | None,
    program: str | None,
    period: tuple[datetime, datetime] | None,
) -> tuple[list[AuditEntry], dict[str, Partner]]:
    start, end = period or (None, None)
    with session_scope(engine) as session:
        if program is not None and start is not None and end is not None:
            partners = {p.id: p for p in store.partners_to_audit(session, program, start, end)}
            entries = _program_changes(session, program, start, end)
        else:
            partners = {p.id: p for pid in partner_ids or [] if (p := session.get(Partner, pid))}
            entries = []
        entries += _partner_records(session, list(partners), start, end)
    return [e for e in entries if (start is None or e.at >= start) and (end is None or e.at < end)], partners


def _partner_records(
    session: Session, ids: list[str], start: datetime | None, end: datetime | None
) -> list[AuditEntry]:
    entries = []
    for application in store.applications(session, ids):
        pid = application.partner_id
        entries.append(
            AuditEntry(application.submitted_at, "application", "applicant", "Application submitted", "", pid)
        )
        if application.decided_at is not None:
            shared = " (shared with the applicant)" if application.share_reason else ""
            reason = f"Reason: {application.reason}{shared}" if application.reason else "No reason given"
            who = application.decided_by or "unknown"
            entries.append(
                AuditEntry(
                    application.decided_at, "decision", who, f"Application {application.status}", reason, pid
                )
            )
    for message in store.messages(session, ids, start, end):
        what = (
            f"{message.channel.capitalize()} “{message.template}” to {message.recipient} ({message.status})"
        )
        detail = message.subject + (f" — error: {message.error}" if message.status == "failed" else "")
        entries.append(AuditEntry(message.created_at, "message", "system", what, detail, message.partner_id))
    for accepted in store.acceptances(session, ids, start, end):
        entries.append(
            AuditEntry(
                accepted.accepted_at,
                "terms_acceptance",
                "partner",
                f"Terms version {accepted.version} accepted",
                "",
                accepted.partner_id,
                accepted.ip,
                accepted.user_agent,
            )
        )
    return entries


def _program_changes(session: Session, program: str, start: datetime, end: datetime) -> list[AuditEntry]:
    entries = [
        AuditEntry(
            terms.published_at,
            "manager_action",
            terms.published_by or "unknown",
            f"Terms version {terms.version} published",
            terms.title,
        )
        for terms in store.terms_published(session, program, start, end)
    ]
    entries += [
        AuditEntry(
            page.updated_at,
            "manager_action",
            page.updated_by or "unknown",
            f"Application page text ({page.locale}) updated",
        )
        for page in store.page_edits(session, program, start, end)
    ]
    return entries
