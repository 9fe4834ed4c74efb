"""`partnerflow prospects import`: mapping options, per-row report, refusals."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from partnerflow.cli.recruitment import prospects_app
from partnerflow.store.db import session_scope
from partnerflow.store.models import Prospect

FIXTURES = Path(__file__).parents[1] / "fixtures"
CUSTOM_MAP = ["Kontakt=name", "firma=company", "Zielgruppe=audience", "SPRACHE=locale"]


def prospects(engine: Engine, program: str = "default") -> dict[str, Prospect]:
    with session_scope(engine) as session:
        return {p.email: p for p in session.exec(select(Prospect).where(Prospect.program == program))}


def test_cli_import_with_mapping(engine: Engine, tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(prospects_app, name="prospects")
    args = ["prospects", "import", str(FIXTURES / "prospects_custom.csv"), "--data-dir", str(tmp_path)]
    for item in CUSTOM_MAP:
        args += ["--map", item]

    result = CliRunner().invoke(app, args)
    again = CliRunner().invoke(app, [*args, "--program", "default"])
    broken = CliRunner().invoke(app, [*args, "--map", "Mail=phone"])

    assert result.exit_code == 0, result.output
    assert "2 imported, 0 duplicate, 1 invalid, 0 suppressed of 3 rows" in result.output
    assert "row 4\tinvalid\tjohn at example.com" in result.output
    assert "0 imported, 2 duplicate" in again.output
    assert broken.exit_code != 0 and "unknown field" in broken.output
    assert prospects(engine)["hedy@example.com"].locale == "de"
