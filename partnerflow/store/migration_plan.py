"""What importing a partner export would do: the file mapped, every row judged against the store.

Read-only, so the dry run (``POST /migrations?dry_run=true``, ``partnerflow migrate import
--dry-run``) shows exactly what the import would do, and the import does what the plan says.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from partnerflow.domain.csv_import import decode_text, read_table
from partnerflow.domain.kpis import Segment, segments
from partnerflow.domain.migration import MigrationRow, RowReport, Source, parse_row
from partnerflow.domain.migration_presets import ExportMapping, resolve_columns
from partnerflow.store.legacy_codes import LegacyCode
from partnerflow.store.models import MigratedPartner, MigrationRun, Partner, TrackingLink

CHUNK = 500  # parameters per IN (...) query
SAMPLE_ROWS = 5


@dataclass
class ImportPlan:
    program: str
    source: Source
    file_sha256: str
    mapping: ExportMapping
    run: MigrationRun | None  # this file's earlier run in this program, if any
    reports: dict[int, RowReport]  # by line: every row except the partners to create
    new: list[MigrationRow]  # partners to create, in file order
    placed: dict[int, Segment]  # by line: the segment of every row in the run
    valid: list[MigrationRow] = field(default_factory=list)  # every row that parsed, in file order

    @property
    def run_id(self) -> int | None:
        return self.run.id if self.run is not None else None

    def all_reports(self) -> list[RowReport]:
        """Every row as the import reports it (rows still to create: ``imported``, no partner id yet)."""
        to_create = {
            row.line: RowReport(row.line, row.email, "imported", "; ".join(row.notes), None,
                                self.placed[row.line].value)
            for row in self.new
        }  # fmt: skip
        merged = self.reports | to_create
        return [merged[line] for line in sorted(merged)]

    @property
    def sample(self) -> list[MigrationRow]:
        return self.valid[:SAMPLE_ROWS]


def plan_import(
    session: Session, content: bytes, source: Source, program: str, overrides: Mapping[str, str]
) -> ImportPlan:
    """Map the file and judge each row: invalid, duplicate, already in this run, or to create."""
    table = read_table(decode_text(content))
    mapping = resolve_columns(table, source, overrides)
    sha = hashlib.sha256(content).hexdigest()
    run = session.exec(
        select(MigrationRun).where(MigrationRun.program == program, MigrationRun.file_sha256 == sha)
    ).first()
    parsed = [parse_row(line, raw, mapping.columns) for line, raw in table.rows]
    rows = [row for row in parsed if isinstance(row, MigrationRow)]
    known = _existing_partners(session, program, [row.email for row in rows])
    members = _run_members(session, run.id) if run and run.id is not None else set()
    taken = _taken_codes(session, [code for row in rows for code in _codes(row)])
    reports: dict[int, RowReport] = {r.line: r for r in parsed if isinstance(r, RowReport)}
    seen_emails: dict[str, int] = {}
    seen_codes: dict[str, int] = {}
    in_run: list[MigrationRow] = []
    new: list[MigrationRow] = []
    for row in rows:
        if row.email in seen_emails:
            reports[row.line] = _report(row, "duplicate", f"same email as line {seen_emails[row.email]}")
            continue
        seen_emails[row.email] = row.line
        partner_id = known.get(row.email)
        if partner_id is not None:
            mine = partner_id in members
            why = "" if mine else f"already a partner of {program}"
            reports[row.line] = _report(row, "imported" if mine else "duplicate", why, partner_id)
            if mine:
                in_run.append(row)
            continue
        code = row.tracking_code
        if code and (code in taken or code in seen_codes):
            line = seen_codes.get(code)
            where = f"line {line}" if line else "another partner"
            reports[row.line] = _report(row, "invalid", f"tracking code {code!r} is already used by {where}")
            continue
        for other in list(row.other_codes):  # a further code someone else has: the partner goes without it
            if other in taken or other in seen_codes or other == code:
                row.other_codes.remove(other)
                row.notes.append(f"old code {other!r} is used by another partner: not kept")
        for kept in _codes(row):
            seen_codes[kept] = row.line
        in_run.append(row)
        new.append(row)
    placed = _segments(in_run)
    for row in in_run:
        if row.line in reports:
            reports[row.line].segment = placed[row.line].value
    return ImportPlan(program, source, sha, mapping, run, reports, new, placed, rows)


def _codes(row: MigrationRow) -> list[str]:
    return ([row.tracking_code] if row.tracking_code else []) + row.other_codes


def _segments(rows: Sequence[MigrationRow]) -> dict[int, Segment]:
    """The file's segment column when mapped, else top / middle / long tail by share of revenue
    (of conversions when the file has no revenue, like Rewardful's API export)."""
    if any(row.segment is not None for row in rows):  # parse_row made it required when mapped
        return {row.line: row.segment or Segment.LONG_TAIL for row in rows}
    measure = {f"{row.line:09d}": row.revenue for row in rows}
    if not any(value > 0 for value in measure.values()):
        measure = {f"{row.line:09d}": float(row.conversions) for row in rows}
    return {int(key): segment for key, segment in segments(measure).items()}


def _report(
    row: MigrationRow, status: str, reason: str, pid: str | None = None, seg: str | None = None
) -> RowReport:
    return RowReport(row.line, row.email, status, reason, pid, seg)


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _existing_partners(session: Session, program: str, emails: Iterable[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(emails))):
        statement = select(Partner.email, Partner.id).where(
            Partner.program == program, col(Partner.email).in_(chunk)
        )
        found.update({email: pid for email, pid in session.exec(statement)})
    return found


def _run_members(session: Session, run_id: int) -> set[str]:
    return set(session.exec(select(MigratedPartner.partner_id).where(MigratedPartner.run_id == run_id)))


def _taken_codes(session: Session, codes: Iterable[str]) -> set[str]:
    """Codes that already lead somewhere: someone's tracking link or someone's old code."""
    taken: set[str] = set()
    for chunk in _chunks(sorted(set(codes))):
        taken.update(session.exec(select(TrackingLink.code).where(col(TrackingLink.code).in_(chunk))))
        taken.update(session.exec(select(LegacyCode.code).where(col(LegacyCode.code).in_(chunk))))
    return taken
