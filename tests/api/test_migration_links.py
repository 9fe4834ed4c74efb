"""Old links of migrated partners (/r/<old>, /r?ref=, /r?via=) and the migration dry run, over HTTP.

The real app on a migrated SQLite database, without Temporal: neither the redirect nor the dry run
needs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_settings
from sqlalchemy import Engine
from sqlmodel import func, select

from partnerflow.api.main import create_app
from partnerflow.domain.migration import Source
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.migration_import import import_csv
from partnerflow.store.models import LegacyCode, MigrationRun, Partner, PerformanceEvent, TrackingLink

FIXTURES = Path(__file__).parents[1] / "fixtures"
ALICE = {"Authorization": "Bearer tok-alice"}
LANDING = "https://acme.example/partners"


@pytest.fixture
def engine(tmp_path: Path) -> AsyncIterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'links.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def http(engine: Engine, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path, default_landing_url=LANDING), engine=engine)
    app.state.engine, app.state.temporal = engine, None  # what the lifespan sets; no Temporal here
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


def migrate(engine: Engine, name: str, source: Source) -> dict[str, str]:
    """Import a fixture; ``{email: partner_id}`` of the imported partners."""
    with session_scope(engine) as session:
        report = import_csv(session, (FIXTURES / name).read_bytes(), source)
    return {row.email: str(row.partner_id) for row in report.rows if row.status == "imported"}


def clicks(engine: Engine) -> list[tuple[str, str]]:
    with session_scope(engine) as session:
        events = session.exec(select(PerformanceEvent).where(PerformanceEvent.type == "click")).all()
        return sorted((event.partner_id, event.source) for event in events)


PLATFORMS = [
    # (fixture, source, partner, old code(s) in the export, the partner's code now)
    ("migration_partnerstack.csv", Source.PARTNERSTACK, "anna@kowalska-media.pl", ["anna-k7"], "anna-k7"),
    ("migration_rewardful_api.csv", Source.REWARDFUL, "adam.jones@example.com", ["adam", "adam-yt"], "adam"),
    ("migration_rewardful_migration.csv", Source.REWARDFUL, "lucas@moreau.dev", ["lucasm"], "lucasm"),
    ("migration_tapfiliate_api.csv", Source.TAPFILIATE, "klaus.mueller@example.de", ["klaus"], "klaus"),
    ("migration_tapfiliate.csv", Source.TAPFILIATE, "jane@doe-digital.com", ["janedoe"], "janedoe"),
]


@pytest.mark.parametrize(("fixture", "source", "email", "old", "now"), PLATFORMS, ids=lambda p: str(p)[:24])
async def test_old_codes_redirect_and_count_a_click_for_the_partner(
    http: httpx.AsyncClient,
    engine: Engine,
    fixture: str,
    source: Source,
    email: str,
    old: list[str],
    now: str,
) -> None:
    partner_id = migrate(engine, fixture, source)[email]
    paths = [p for code in old for p in (f"/r/{code}", f"/r?ref={code}", f"/r?via={code}")]

    for path in paths:
        response = await http.get(path, follow_redirects=False)
        assert response.status_code == 302, (path, response.text)
        assert response.headers["location"] == f"{LANDING}?ref={now}", path
    counted = clicks(engine)
    assert len(counted) == len(paths) and {pid for pid, _ in counted} == {partner_id}
    assert {source for _, source in counted} == ({"redirect", "old-code"} if len(old) > 1 else {"redirect"})


async def test_unknown_or_missing_codes_get_a_clear_answer(http: httpx.AsyncClient, engine: Engine) -> None:
    migrate(engine, "migration_tapfiliate_api.csv", Source.TAPFILIATE)

    for path in ("/r/nobody", "/r?ref=nobody", "/r?via=nobody"):
        response = await http.get(path, follow_redirects=False)
        assert response.status_code == 404 and "unknown tracking code 'nobody'" in response.json()["detail"]
    missing = await http.get("/r", follow_redirects=False)
    assert missing.status_code == 400 and "/r?ref=<code>" in missing.json()["detail"]
    assert clicks(engine) == []


def counts(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        tables = (MigrationRun, Partner, TrackingLink, LegacyCode)
        return [session.exec(select(func.count()).select_from(t)).one() for t in tables]


async def preview(http: httpx.AsyncClient, path: str, name: str, **form: Any) -> httpx.Response:
    files = {"file": (name, (FIXTURES / name).read_bytes(), "text/csv")}
    return await http.post(path, files=files, data=form, headers=ALICE)


@pytest.mark.parametrize("path", ["/migrations?dry_run=true", "/migrations/preview"])
async def test_dry_run_shows_mapping_samples_and_problems_and_writes_nothing(
    http: httpx.AsyncClient, engine: Engine, path: str
) -> None:
    response = await preview(http, path, "migration_partnerstack_all_partners.csv", source="partnerstack")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] and body["imported_before"] is None
    assert body["counts"] == {"imported": 8, "duplicate": 0, "invalid": 1}
    columns = {c["column"]: (c["field"], c["detected_by"]) for c in body["columns"]}
    assert columns["Owner"] == ("email", "values") and columns["Partner"] == ("name", "preset")
    assert columns["Last active"] == (None, None)
    assert body["notes"][0].startswith("email taken from column 'Owner': its values are addresses")
    first = body["sample"][0]
    assert (first["line"], first["email"], first["name"], first["revenue"], first["segment"]) == (
        2, "anna@kowalska-media.pl", "Kowalska Media", 48200.0, "top")  # fmt: skip
    assert [(p["line"], p["status"]) for p in body["problems"]] == [(10, "invalid")]
    assert counts(engine) == [0, 0, 0, 0]


async def test_dry_run_refusals(http: httpx.AsyncClient, engine: Engine) -> None:
    no_email = await http.post(
        "/migrations/preview",
        files={"file": ("x.csv", b"Name,Ref\nLena,lena-f\n", "text/csv")},
        headers=ALICE,
    )
    bad_map = await preview(http, "/migrations/preview", "migration_generic.csv", map="Level=rank")
    bad_pause = await preview(http, "/migrations?dry_run=true", "migration_generic.csv", pause="soon")
    anonymous = await http.post("/migrations/preview", files={"file": ("x.csv", b"email\n", "text/csv")})

    assert no_email.status_code == 422 and "no email column" in no_email.json()["detail"][0]["msg"]
    assert bad_map.status_code == 422 and "bad mapping" in bad_map.json()["detail"][0]["msg"]
    assert bad_pause.status_code == 422 and "not a duration" in bad_pause.json()["detail"][0]["msg"]
    assert anonymous.status_code == 401
    without_temporal = await preview(http, "/migrations", "migration_generic.csv")
    assert without_temporal.status_code == 503  # a real import needs Temporal; nothing was stored
    assert counts(engine) == [0, 0, 0, 0]
