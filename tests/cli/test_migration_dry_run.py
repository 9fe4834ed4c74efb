"""`partnerflow migrate import --dry-run`: the mapping, samples and problems; nothing written, no Temporal."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from partnerflow.cli.migration import migrate_app
from partnerflow.config import Settings
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import LegacyCode, MigrationRun, Partner, TrackingLink

FIXTURES = Path(__file__).parents[1] / "fixtures"


def test_dry_run_shows_what_the_import_would_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARTNERFLOW_PORTAL_SECRET", "portal-test-secret")
    monkeypatch.setenv("PARTNERFLOW_TEMPORAL_ADDRESS", "127.0.0.1:9")  # nothing listens: never needed
    engine = make_engine(Settings(_env_file=None).effective_database_url)  # type: ignore[call-arg]
    upgrade(engine)
    fixture = str(FIXTURES / "migration_partnerstack_all_partners.csv")

    result = CliRunner().invoke(
        migrate_app, ["import", fixture, "--source", "partnerstack", "--dry-run"], env={"COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    output = result.output
    assert (
        "dry run of migration_partnerstack_all_partners.csv (partnerstack preset): nothing is written"
        in output
    )
    assert "│ Owner" in output and "values" in output and "│ Partner" in output and "preset" in output
    assert "note: email taken from column 'Owner': its values are addresses (8 of 9 sampled)" in output
    assert "anna@kowalska-media.pl" in output and "would import: 8 imported, 0 duplicate, 1 invalid" in output
    assert "line 10 invalid: ivan.petrov(at)example.com" in output
    with session_scope(engine) as session:
        tables = (MigrationRun, Partner, TrackingLink, LegacyCode)
        assert [session.exec(select(func.count()).select_from(t)).one() for t in tables] == [0, 0, 0, 0]
    engine.dispose()


def test_dry_run_refuses_an_unmappable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERFLOW_DATA_DIR", str(tmp_path))
    engine = make_engine(Settings(_env_file=None).effective_database_url)  # type: ignore[call-arg]
    upgrade(engine)
    engine.dispose()
    export = tmp_path / "names.csv"
    export.write_text("Name,Ref\nLena,lena-f\n")

    result = CliRunner().invoke(migrate_app, ["import", str(export), "--source", "generic", "--dry-run"])

    assert result.exit_code == 2 and "no email column" in result.output
