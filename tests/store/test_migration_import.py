"""Importing a partner base from PartnerStack, Rewardful, Tapfiliate and generic CSV exports."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import func, select

from partnerflow.domain.migration import Source, parse_pause
from partnerflow.domain.migration_presets import MappingError, parse_mapping
from partnerflow.store.db import session_scope
from partnerflow.store.migration_import import ImportReport, import_csv, progress
from partnerflow.store.models import Application, MigratedPartner, MigrationRun, Partner, TrackingLink

FIXTURES = Path(__file__).parents[1] / "fixtures"
GENERIC_MAP = [
    "Affiliate E-mail=email", "Full name=name", "Organisation=company", "Level=tier",
    "Lifetime sales (EUR)=revenue", "Ref code=tracking_code", "Partner since=joined_at", "Bucket=segment",
]  # fmt: skip


def run_import(
    engine: Engine, name: str, source: Source, program: str = "default", **kw: object
) -> ImportReport:
    content = (FIXTURES / name).read_bytes() if name.endswith(".csv") else name.encode()
    with session_scope(engine) as session:
        return import_csv(session, content, source, program, **kw)  # type: ignore[arg-type]


def by_email(engine: Engine, program: str = "default") -> dict[str, tuple[Partner, MigratedPartner]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Partner, MigratedPartner)
            .join(MigratedPartner, MigratedPartner.partner_id == Partner.id)
            .where(Partner.program == program)
        )
        return {partner.email: (partner, member) for partner, member in rows}


def statuses(report: ImportReport) -> dict[int, tuple[str, str]]:
    return {row.line: (row.status, row.reason) for row in report.rows}


def test_partnerstack_export(any_engine: Engine) -> None:
    program = f"acme-{uuid.uuid4().hex[:6]}"
    report = run_import(any_engine, "migration_partnerstack.csv", Source.PARTNERSTACK, program)

    assert report.created and report.counts == {"imported": 8, "duplicate": 1, "invalid": 1}
    assert statuses(report)[10] == ("duplicate", "same email as line 2")
    assert statuses(report)[11][0] == "invalid" and "ivan.petrov(at)example.com" in statuses(report)[11][1]
    partners = by_email(any_engine, program)
    anna, member = partners["anna@kowalska-media.pl"]
    assert (anna.name, anna.company, anna.stage, anna.source) == (
        "Anna Kowalska", "Kowalska Media", "approved", "migration:partnerstack")  # fmt: skip
    assert (member.lifetime_revenue, member.legacy_tier, member.legacy_tracking_code) == (
        48200.0,
        "Gold",
        "anna-k7",
    )
    assert member.joined_at == datetime(2022, 3, 14, 10, 22, 31, tzinfo=UTC) and member.status == "waiting"
    assert "hugo@bernard.example.fr" in partners  # addresses are normalised
    segments = {email: m.segment for email, (_, m) in partners.items()}
    assert sorted(e for e, s in segments.items() if s == "top") == [
        "anna@kowalska-media.pl",
        "ben@carterreviews.com",
    ]
    assert [e for e, s in segments.items() if s == "middle"] == ["chloe.martin@example.fr"]
    with session_scope(any_engine) as session:
        links = {link.code: link.partner_id for link in session.exec(select(TrackingLink))}
        application = session.get(Application, anna.id)
        phases = progress(session, report.run_id)
    assert links["anna-k7"] == anna.id and len([c for c in links if c in {"ivan-p6", "anna-k7b"}]) == 0
    assert application and (application.status, application.decided_by) == ("approved", "migration")
    assert [(p.phase, p.segment, p.total, p.started, p.accepted) for p in phases] == [
        (1, "top", 2, 0, 0), (2, "middle", 1, 0, 0), (3, "long_tail", 5, 0, 0)]  # fmt: skip


def test_rewardful_export(engine: Engine) -> None:
    report = run_import(engine, "migration_rewardful.csv", Source.REWARDFUL)

    assert report.counts == {"imported": 5, "duplicate": 0, "invalid": 2}
    assert "tom/baker" in statuses(report)[7][1] and "not-a-date" in statuses(report)[8][1]
    partners = by_email(engine)
    marta, member = partners["marta@nowak-cycling.pl"]
    assert (marta.name, member.legacy_tracking_code, member.legacy_tier) == (
        "Marta Nowak",
        "marta",
        "Ambassadors",
    )
    assert member.lifetime_revenue == 25120.0  # net revenue, not gross
    assert member.joined_at == datetime(2022, 9, 1, 8, 30, tzinfo=UTC)
    assert "payouts@nowak-cycling.pl" not in partners  # the PayPal address is not the partner's
    assert {e for e, (_, m) in partners.items() if m.segment == "top"} == {
        "marta@nowak-cycling.pl",
        "lucas@moreau.dev",
    }


def test_tapfiliate_export(engine: Engine) -> None:
    report = run_import(engine, "migration_tapfiliate.csv", Source.TAPFILIATE)

    assert report.counts == {"imported": 5, "duplicate": 0, "invalid": 2}
    assert statuses(report)[7] == ("invalid", "tracking code 'pierre' is already used by line 3")
    assert statuses(report)[8] == ("invalid", "no email")
    partners = by_email(engine)
    klaus, member = partners["klaus.mueller@example.de"]
    assert (klaus.name, klaus.company, member.legacy_tier, member.legacy_tracking_code) == (
        "Klaus Müller", "Müller Medien", "Default", "klaus")  # fmt: skip
    assert member.joined_at == datetime(2022, 12, 1, 7, 0, tzinfo=UTC)  # +01:00 stored as UTC
    assert partners["jane@doe-digital.com"][1].segment == "top"
    assert partners["pierre@dupont.fr"][1].segment == "middle"


def test_generic_mapping_with_segment_column(engine: Engine) -> None:
    mapping = parse_mapping(GENERIC_MAP)
    report = run_import(engine, "migration_generic.csv", Source.GENERIC, mapping=mapping)

    assert report.counts == {"imported": 6, "duplicate": 0, "invalid": 1}
    assert "'vip' is not top, middle or long_tail" in statuses(report)[8][1]
    partners = by_email(engine)
    lena, member = partners["lena@fischer-blog.de"]
    assert (lena.name, lena.locale, member.lifetime_revenue, member.legacy_tier) == (
        "Lena Fischer",
        "de",
        18250.0,
        "Premium",
    )
    assert member.joined_at == datetime(2022, 3, 15, tzinfo=UTC) and member.legacy_tracking_code == "lena-f"
    assert [m.segment for _, m in partners.values()].count("middle") == 2
    assert (
        partners["ola@nowicka.example.pl"][1].segment == "long_tail"
        and partners["sam@taylor.example.com"][1].phase == 2
    )


def test_unmappable_files_and_bad_options_are_refused(engine: Engine) -> None:
    with pytest.raises(MappingError, match="no email column"):
        run_import(engine, "Name,Ref\nLena,lena-f\n", Source.GENERIC)
    with pytest.raises(MappingError, match="not in the file"):
        run_import(engine, "migration_generic.csv", Source.GENERIC, mapping={"email": "Mail"})
    with pytest.raises(MappingError, match="bad mapping"):
        parse_mapping(["Level=rank"])
    with pytest.raises(ValueError, match="not a duration"):
        parse_pause("a week")
    assert parse_pause("P7D").days == 7 and parse_pause("90").total_seconds() == 90
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(MigrationRun)).one() == 0


def test_reimport_is_idempotent_and_existing_partners_are_duplicates(engine: Engine) -> None:
    first = run_import(engine, "migration_partnerstack.csv", Source.PARTNERSTACK)
    again = run_import(engine, "migration_partnerstack.csv", Source.PARTNERSTACK)
    other_program = run_import(engine, "migration_partnerstack.csv", Source.PARTNERSTACK, "other")

    assert (again.run_id, again.created) == (first.run_id, False)
    assert statuses(again) == statuses(first) and again.counts == first.counts
    assert [r.partner_id for r in again.rows] == [r.partner_id for r in first.rows]
    assert other_program.run_id != first.run_id  # a run is per program: its codes are taken, though
    assert other_program.counts == {"imported": 0, "duplicate": 1, "invalid": 9}
    # Another export naming partners we already have: they are not created or migrated twice.
    overlap = "email,name,revenue\nben@carterreviews.com,Ben,10\nnew@example.com,New One,5\n"
    report = run_import(engine, overlap, Source.GENERIC)
    assert statuses(report) == {2: ("duplicate", "already a partner of default"), 3: ("imported", "")}
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Partner)).one() == 9
        assert session.exec(select(func.count()).select_from(MigratedPartner)).one() == 9


def test_ten_thousand_partners(engine: Engine, tmp_path: Path) -> None:
    rng = random.Random(7)
    lines = ["email,name,company,tier,lifetime_revenue,tracking_code,joined_at"]
    for n in range(10_000):
        revenue = round(rng.paretovariate(1.2) * 100 - 100, 2)
        lines.append(f"p{n}@example.com,Partner {n},Company {n % 700},{'gold' if revenue > 2000 else 'basic'},"
                     f"{revenue},code{n:05d},2023-{n % 12 + 1:02d}-{n % 28 + 1:02d}")  # fmt: skip
    content = "\n".join(lines).encode()

    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_csv(session, content, Source.GENERIC)
    took = time.perf_counter() - started
    started = time.perf_counter()
    with session_scope(engine) as session:
        again = import_csv(session, content, Source.GENERIC)
        phases = progress(session, report.run_id)
    took_again = time.perf_counter() - started
    print(f"\n10,000-row import: {took:.2f} s; re-import (no-op): {took_again:.2f} s; "
          f"segments {[(p.segment, p.total) for p in phases]}")  # fmt: skip

    assert report.counts == {"imported": 10_000, "duplicate": 0, "invalid": 0}
    assert again.run_id == report.run_id and not again.created and again.counts == report.counts
    assert sum(p.total for p in phases) == 10_000 and all(p.total for p in phases)
    assert phases[0].total < phases[1].total < phases[2].total  # a few big partners, a long tail
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(TrackingLink)).one() == 10_000
        first_ids = session.exec(
            select(MigratedPartner.lifetime_revenue)
            .where(MigratedPartner.run_id == report.run_id)
            .order_by(MigratedPartner.id)
            .limit(3)  # type: ignore[arg-type]
        ).all()
    assert list(first_ids) == sorted(first_ids, reverse=True)  # biggest partners start first
