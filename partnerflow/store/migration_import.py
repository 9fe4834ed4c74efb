"""Importing a partner base from a CSV export, and the read model of a migration's progress.

Idempotent twice over: a run is keyed by (program, file sha256), so the same file again returns
the same run, and a partner by (program, email), so nobody is created twice. What to create is
decided by ``migration_plan`` (read-only: the dry run shows the same plan).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, insert
from sqlmodel import Session, col, select

from partnerflow.domain import migration as rules
from partnerflow.domain.kpis import Segment
from partnerflow.domain.migration import MigrationRow, PhaseProgress, RowReport, Source
from partnerflow.domain.migration_presets import ExportMapping
from partnerflow.store.legacy_codes import LegacyCode
from partnerflow.store.migration_plan import ImportPlan, plan_import
from partnerflow.store.models import (
    Application,
    MigratedPartner,
    MigrationRun,
    Partner,
    TermsAcceptance,
    TrackingLink,
    new_partner_id,
    utcnow,
)


@dataclass
class ImportReport:
    run_id: int
    created: bool  # False: this file was imported into this program before
    program: str
    source: str
    file_sha256: str
    rows: list[RowReport] = field(default_factory=list)
    mapping: ExportMapping | None = None  # which column fed which field, and how that was found

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in ("imported", "duplicate", "invalid")}


def preview_csv(
    session: Session,
    content: bytes,
    source: Source,
    program: str = "default",
    mapping: Mapping[str, str] | None = None,
) -> ImportPlan:
    """What ``import_csv`` would do with this file; writes nothing."""
    return plan_import(session, content, source, program, mapping or {})


def import_csv(
    session: Session,
    content: bytes,
    source: Source,
    program: str = "default",
    mapping: Mapping[str, str] | None = None,
) -> ImportReport:
    """Create the run and its partners (approved, old codes kept); report every row."""
    plan = plan_import(session, content, source, program, mapping or {})
    run = plan.run
    if run is None:
        run = MigrationRun(program=program, source=source.value, file_sha256=plan.file_sha256)
        session.add(run)
        session.flush()
    assert run.id is not None
    reports = dict(plan.reports)
    for row, partner_id in zip(plan.new, _create(session, run, plan.new, plan.placed), strict=True):
        reason = "; ".join(row.notes)
        reports[row.line] = RowReport(row.line, row.email, "imported", reason, partner_id,
                                      plan.placed[row.line].value)  # fmt: skip
    rows = [reports[line] for line in sorted(reports)]
    return ImportReport(run.id, plan.run is None, program, run.source, plan.file_sha256, rows, plan.mapping)


def _create(
    session: Session, run: MigrationRun, rows: list[MigrationRow], placed: dict[int, Segment]
) -> list[str]:
    """Partners, approved applications, legacy links and run members; biggest partners first.

    Bulk INSERTs (not ORM objects): 10,000 rows in about a second instead of several.
    """
    assert run.id is not None
    now, ids = utcnow(), [new_partner_id() for _ in rows]
    order = sorted(
        range(len(rows)), key=lambda i: (rules.PHASE_OF[placed[rows[i].line]], -rows[i].revenue, i)
    )
    common: dict[str, Any] = {
        "program": run.program,
        "source": f"migration:{run.source}",
        "stage": "approved",
    }
    partners = [
        common | {"id": ids[i], "email": row.email, "name": row.name, "company": row.company,
                  "locale": row.locale, "segment": placed[row.line].value, "created_at": now,
                  "stage_changed_at": now}
        for i, row in enumerate(rows)
    ]  # fmt: skip
    reason = f"migrated from {run.source} (run {run.id})"
    applications = [
        {"partner_id": ids[i], "submitted_at": rows[i].joined_at or now, "status": "approved",
         "decided_by": "migration", "decided_at": now, "reason": reason, "share_reason": False}
        for i in order
    ]  # fmt: skip
    # Links exist before the lifecycle starts, so onboarding keeps the code the partner already uses.
    links = [
        {"code": rows[i].tracking_code, "partner_id": ids[i], "program": run.program, "active": True,
         "created_at": now}
        for i in order if rows[i].tracking_code
    ]  # fmt: skip
    # Every old code, the main one included: /r/<old>, /r?ref=<old> and /r?via=<old> find the partner.
    old_codes = [
        {"code": code, "partner_id": ids[i], "program": run.program, "source": run.source,
         "run_id": run.id, "created_at": now}
        for i in order for code in ([rows[i].tracking_code] if rows[i].tracking_code else [])
        + rows[i].other_codes
    ]  # fmt: skip
    members = [
        {"run_id": run.id, "partner_id": ids[i], "segment": placed[rows[i].line].value,
         "phase": rules.PHASE_OF[placed[rows[i].line]], "lifetime_revenue": rows[i].revenue,
         "legacy_tier": rows[i].tier, "legacy_tracking_code": rows[i].tracking_code,
         "joined_at": rows[i].joined_at, "status": "waiting"}
        for i in order
    ]  # fmt: skip
    for model, values in ((Partner, partners), (Application, applications), (TrackingLink, links),
                          (LegacyCode, old_codes), (MigratedPartner, members)):  # fmt: skip
        if values:  # in this order: each table points at the ones before
            session.execute(insert(model), values)
    return ids


# --- progress and phase members -----------------------------------------------------------------


def _accepted() -> ColumnElement[bool]:
    """SQL condition: the migrated partner has accepted some terms version."""
    return exists().where(col(TermsAcceptance.partner_id) == col(MigratedPartner.partner_id))


def progress(session: Session, run_id: int) -> list[PhaseProgress]:
    """Per phase: partners in it, lifecycles started, terms accepted (live from the store)."""
    started = col(MigratedPartner.status).in_(("invited", "accepted"))
    statement = (
        select(
            MigratedPartner.phase,
            func.count(),
            func.sum(case((started, 1), else_=0)),
            func.sum(case((_accepted(), 1), else_=0)),
        )
        .where(MigratedPartner.run_id == run_id)
        .group_by(col(MigratedPartner.phase))
    )
    counts = {phase: (total, int(s or 0), int(a or 0)) for phase, total, s, a in session.exec(statement)}
    names = {phase: segment.value for segment, phase in rules.PHASE_OF.items()}
    return [PhaseProgress(p, names[p], *counts.get(p, (0, 0, 0))) for p in rules.PHASES]


def phase_members(
    session: Session, run_id: int, phases: Sequence[int], after_id: int, limit: int, started: bool = False
) -> list[tuple[MigratedPartner, Partner]]:
    """The next members of these phases by id (the import put the biggest partners first)."""
    statement = (
        select(MigratedPartner, Partner)
        .join(Partner, col(Partner.id) == col(MigratedPartner.partner_id))
        .where(MigratedPartner.run_id == run_id, col(MigratedPartner.phase).in_(phases))
        .where(col(MigratedPartner.id) > after_id)
        .order_by(col(MigratedPartner.id))
        .limit(limit)
    )
    if started:  # only those whose lifecycle runs
        statement = statement.where(col(MigratedPartner.status) != "waiting")
    return [(member, partner) for member, partner in session.exec(statement)]


def accepted_among(session: Session, partner_ids: Sequence[str]) -> set[str]:
    """Which of these partners have accepted some terms version (TermsAcceptance rows)."""
    statement = select(TermsAcceptance.partner_id).where(col(TermsAcceptance.partner_id).in_(partner_ids))
    return set(session.exec(statement))


def set_run_status(session: Session, run_id: int, status: str) -> None:
    run = session.get(MigrationRun, run_id)
    if run is None:
        raise LookupError(f"migration run {run_id} not found")
    run.status = status
    session.add(run)
