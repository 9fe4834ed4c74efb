"""Each platform's documented export imports as it is; old codes are kept; the dry run writes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path

from alembic import command
from helpers import add_partner
from sqlalchemy import Engine, text
from sqlmodel import func, select

from partnerflow.domain.migration import Source
from partnerflow.store.db import alembic_config, session_scope, upgrade
from partnerflow.store.migration_import import ImportReport, import_csv, preview_csv
from partnerflow.store.models import (
    LegacyCode,
    MigratedPartner,
    MigrationRun,
    Partner,
    TrackingLink,
)
from partnerflow.store.onboarding import find_link, issue_tracking_link

FIXTURES = Path(__file__).parents[1] / "fixtures"
TABLES = (MigrationRun, Partner, MigratedPartner, TrackingLink, LegacyCode)
MEMBER_SQL = (
    "INSERT INTO migrated_partners (run_id, partner_id, segment, phase, lifetime_revenue, legacy_tracking_code, "
    "status) VALUES (1, :pid, 'top', 1, 10, 'oldie', 'waiting')"
)


def run_import(engine: Engine, name: str, source: Source, program: str = "default") -> ImportReport:
    with session_scope(engine) as session:
        return import_csv(session, (FIXTURES / name).read_bytes(), source, program)


def statuses(report: ImportReport) -> dict[int, tuple[str, str]]:
    return {row.line: (row.status, row.reason) for row in report.rows}


def members(engine: Engine, program: str = "default") -> dict[str, tuple[Partner, MigratedPartner]]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(Partner, MigratedPartner)
            .join(MigratedPartner, MigratedPartner.partner_id == Partner.id)
            .where(Partner.program == program)
        )
        return {partner.email: (partner, member) for partner, member in rows}


def codes_of(engine: Engine, partner_id: str) -> tuple[str | None, list[str]]:
    """The partner's tracking link code and every old code kept for them."""
    with session_scope(engine) as session:
        link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner_id)).first()
        old = session.exec(select(LegacyCode.code).where(LegacyCode.partner_id == partner_id)).all()
    return (link.code if link else None), sorted(old)


def counts(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        return [session.exec(select(func.count()).select_from(table)).one() for table in TABLES]


def test_partnerstack_all_partners_export_is_not_refused(any_engine: Engine) -> None:
    program = f"ps-{uuid.uuid4().hex[:6]}"
    report = run_import(any_engine, "migration_partnerstack_all_partners.csv", Source.PARTNERSTACK, program)

    assert report.counts == {"imported": 8, "duplicate": 0, "invalid": 1}
    assert "ivan.petrov(at)example.com" in statuses(report)[10][1]
    assert report.mapping and report.mapping.notes[0].startswith(
        "email taken from column 'Owner': its values are addresses"
    )
    partners = members(any_engine, program)
    anna, member = partners["anna@kowalska-media.pl"]
    assert (anna.name, member.legacy_tier, member.lifetime_revenue) == ("Kowalska Media", "Gold", 48200.0)
    assert partners["ben@carterreviews.com"][0].name == "Carter Reviews"  # "Ben Carter <ben@…>" in Owner
    assert "hugo@bernard.example.fr" in partners
    assert {e for e, (_, m) in partners.items() if m.segment == "top"} == {
        "anna@kowalska-media.pl", "ben@carterreviews.com"}  # fmt: skip


def test_rewardful_api_export_keeps_every_link_token(any_engine: Engine) -> None:
    program = f"rw-{uuid.uuid4().hex[:6]}"
    report = run_import(any_engine, "migration_rewardful_api.csv", Source.REWARDFUL, program)

    assert report.counts == {"imported": 6, "duplicate": 0, "invalid": 0}
    partners = members(any_engine, program)
    adam, member = partners["adam.jones@example.com"]
    assert codes_of(any_engine, adam.id) == ("adam", ["adam", "adam-yt"])
    assert (member.legacy_tracking_code, member.legacy_tier) == ("adam", "Best Friends")
    assert codes_of(any_engine, partners["tom.baker@example.co.uk"][0].id) == (None, [])
    # No revenue in the API export: the phases follow conversions.
    assert {e for e, (_, m) in partners.items() if m.segment == "top"} == {
        "adam.jones@example.com", "lucas@moreau.dev"}  # fmt: skip
    assert partners["tom.baker@example.co.uk"][1].segment == "long_tail"


def test_rewardful_migration_csv_one_row_per_referred_customer(any_engine: Engine) -> None:
    program = f"rwm-{uuid.uuid4().hex[:6]}"
    report = run_import(any_engine, "migration_rewardful_migration.csv", Source.REWARDFUL, program)

    assert report.counts == {"imported": 4, "duplicate": 1, "invalid": 0}
    assert statuses(report)[3] == ("duplicate", "same email as line 2")
    partners = members(any_engine, program)
    assert "payouts@nowak-cycling.pl" not in partners and "lucas@wise.example" not in partners
    assert codes_of(any_engine, partners["marta@nowak-cycling.pl"][0].id) == ("marta", ["marta"])


def test_tapfiliate_api_export_keeps_codes_from_referral_links(any_engine: Engine) -> None:
    program = f"tf-{uuid.uuid4().hex[:6]}"
    report = run_import(any_engine, "migration_tapfiliate_api.csv", Source.TAPFILIATE, program)

    assert report.counts == {"imported": 5, "duplicate": 0, "invalid": 0}
    partners = members(any_engine, program)
    expected = {"jane@doe-digital.com": "janedoe", "pierre@dupont.fr": "pierre",
                "klaus.mueller@example.de": "klaus", "zofia@wisniewska.pl": "zofia"}  # fmt: skip
    for email, code in expected.items():
        assert codes_of(any_engine, partners[email][0].id) == (code, [code])
        assert partners[email][1].legacy_tracking_code == code
    klaus = partners["klaus.mueller@example.de"]
    assert (klaus[0].company, klaus[1].legacy_tier) == ("Müller Medien", "Default")
    # An anonymised link carries no code: the partner is imported all the same, and told so.
    assert statuses(report)[6] == ("imported", "no code in 'https://www.example.com/?tap_a=30-abc&tap_s=120-def' "
                                   "(no ?ref= or ?via=): the partner gets a new link")  # fmt: skip


def test_old_codes_lead_to_the_partners_link(engine: Engine) -> None:
    run_import(engine, "migration_rewardful_api.csv", Source.REWARDFUL)
    other = add_partner(engine, "someone@example.com")
    with session_scope(engine) as session:
        own = issue_tracking_link(session, other)
        main, main_old = find_link(session, "adam") or (None, None)
        extra, extra_old = find_link(session, "adam-yt") or (None, None)
        mine, mine_old = find_link(session, own.code) or (None, None)
        assert find_link(session, "nobody") is None
    assert main and extra and mine
    assert (main.code, main_old, extra.code, extra_old) == ("adam", False, "adam", True)
    assert (mine.partner_id, mine_old) == (other.id, False)


def test_a_further_code_someone_else_has_is_dropped_with_a_note(engine: Engine) -> None:
    run_import(engine, "migration_rewardful_migration.csv", Source.REWARDFUL, "first")
    content = b"email,links[].token\nnew@example.com,fresh;marta\n"
    with session_scope(engine) as session:
        report = import_csv(session, content, Source.REWARDFUL, "second")

    assert [(r.status, r.reason) for r in report.rows] == [
        ("imported", "old code 'marta' is used by another partner: not kept")
    ]
    assert codes_of(engine, str(report.rows[0].partner_id)) == ("fresh", ["fresh"])


def test_dry_run_writes_nothing_and_matches_the_import(any_engine: Engine) -> None:
    before = counts(any_engine)
    with session_scope(any_engine) as session:
        plan = preview_csv(session, (FIXTURES / "migration_tapfiliate.csv").read_bytes(), Source.TAPFILIATE)
    assert counts(any_engine) == before
    predicted = [(r.line, r.status, r.reason, r.segment) for r in plan.all_reports()]
    assert plan.run_id is None and [row.email for row in plan.sample][:2] == [
        "jane@doe-digital.com", "pierre@dupont.fr"]  # fmt: skip

    report = run_import(any_engine, "migration_tapfiliate.csv", Source.TAPFILIATE)
    assert [(r.line, r.status, r.reason, r.segment) for r in report.rows] == predicted
    with session_scope(any_engine) as session:
        again = preview_csv(session, (FIXTURES / "migration_tapfiliate.csv").read_bytes(), Source.TAPFILIATE)
    assert again.run_id == report.run_id and again.new == []


def test_partners_migrated_before_keep_their_code_in_the_new_table(engine: Engine) -> None:
    """Migration 0005 copies the one code each earlier migrated partner kept."""
    partner = add_partner(engine, "old@example.com")  # through today's model, before the schema goes back
    command.downgrade(alembic_config(engine), "0004")
    run_sql = "INSERT INTO migration_runs (program, source, file_sha256, status, created_at) VALUES "
    with engine.begin() as connection:
        connection.execute(text(run_sql + "('default', 'tapfiliate', 'abc', 'running', CURRENT_TIMESTAMP)"))
        connection.execute(text(MEMBER_SQL), {"pid": partner.id})
    upgrade(engine)
    with session_scope(engine) as session:
        kept = session.get(LegacyCode, "oldie")
    assert kept and (kept.partner_id, kept.source, kept.run_id) == (partner.id, "tapfiliate", 1)
