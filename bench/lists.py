"""Benchmark: list pages at scale (issue #15) on SQLite and PostgreSQL, through the real app in-process.

Fills a fresh SQLite file and a fresh PostgreSQL database (``partnerflow_bench_lists``, dropped
afterwards) with N partners (a realistic mix of stages and programs, bulk-inserted), then times
``GET /partners`` for each filter (first page, and a page 90 % deep by cursor), the dashboard board,
one stage's page (first and deep) and the applications page (first and deep): p50/p99 over
``--requests`` requests each. The app gets no Temporal client: a list page that called Temporal
would fail here (every answer must be 200). Prints a table, writes ``bench/results/lists.json``.

    python bench/lists.py --partners 100000 --requests 200
    python bench/lists.py --sqlite-defaults   # without this change's SQLite pragmas, to compare
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, insert, text
from starlette.responses import Response

from partnerflow.api.dashboard import auth
from partnerflow.api.main import create_app
from partnerflow.config import Settings
from partnerflow.domain import cursors
from partnerflow.store import db
from partnerflow.store.models import Application, Partner

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "partnerflow_bench_lists"
RESULTS = Path(__file__).parent / "results" / "lists.json"
STAGES = {"applied": 8, "approved": 0.5, "onboarding": 9.5, "active": 55, "offboarded": 12, "rejected": 15}
PROGRAMS = {"default": 50, "acme": 25, "globex": 15, "initech": 7, "umbrella": 3}
STATUS = {"applied": "pending", "rejected": "rejected"}  # every other stage: approved
TOKEN = "tok-bench"


def rows(count: int, seed: int = 15) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Partners created over three years (a few share a timestamp), each with its application."""
    rng = random.Random(seed)
    stages, programs = list(STAGES), list(PROGRAMS)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for index in range(count):
        created = start + timedelta(seconds=rng.randrange(3 * 365 * 86_400))
        stage = rng.choices(stages, weights=list(STAGES.values()))[0]
        partner = {
            "id": uuid.UUID(int=rng.getrandbits(128)).hex[:16],
            "program": rng.choices(programs, weights=list(PROGRAMS.values()))[0],
            "email": f"partner{index}@example.com",
            "name": f"Partner {index}",
            "company": f"Company {index % 5000}",
            "locale": "en",
            "stage": stage,
            "created_at": created,
            "stage_changed_at": created + timedelta(hours=rng.randrange(1, 24 * 200)),
        }
        application = {
            "partner_id": partner["id"],
            "submitted_at": created,
            "status": STATUS.get(stage, "approved"),
            "share_reason": False,
            "attempt": 1,
        }
        yield partner, application


def fill(engine: Engine, count: int, chunk: int = 5000) -> float:
    """Bulk insert (COPY on PostgreSQL), then VACUUM ANALYZE / ANALYZE: the steady state of a live DB."""
    began = time.perf_counter()
    generated = rows(count)
    if engine.dialect.name == "postgresql":
        _copy(engine, generated)
    else:
        with engine.begin() as connection:
            while batch := list(itertools.islice(generated, chunk)):
                connection.execute(insert(Partner), [partner for partner, _ in batch])
                connection.execute(insert(Application), [application for _, application in batch])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - began


def _copy(engine: Engine, generated: Iterator[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    partners, applications = zip(*generated, strict=True)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            for table, records in (("partners", partners), ("applications", applications)):
                columns = list(records[0])
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for record in records:
                        copy.write_row([record[column] for column in columns])
        raw.commit()
    finally:
        raw.close()


def deep_cursor(engine: Engine, kind: str, sql: str, params: dict[str, Any]) -> str:
    """The cursor of the row 90 % down a list (as if the reader had followed `next` that far)."""
    with engine.connect() as connection:
        total = connection.execute(text(f"SELECT count(*) FROM ({sql}) AS listed"), params).scalar_one()
        at, row_id = connection.execute(
            text(f"{sql} LIMIT 1 OFFSET :skip"), {**params, "skip": total * 9 // 10}
        ).one()
    moment = datetime.fromisoformat(at) if isinstance(at, str) else at
    return cursors.encode(kind, cursors.Position(moment.replace(tzinfo=moment.tzinfo or UTC), row_id))


def cases(engine: Engine, partners: int) -> dict[str, str]:
    newest = "SELECT created_at, id FROM partners {where} ORDER BY created_at DESC, id DESC"
    filters: list[dict[str, str]] = [
        {},
        {"stage": "applied"},
        {"stage": "active"},
        {"program": "acme"},
        {"program": "acme", "stage": "active"},
    ]
    urls: dict[str, str] = {}
    for params in filters:
        where = " AND ".join(f"{key} = :{key}" for key in params)
        query = "&".join(f"{key}={value}" for key, value in params.items())
        urls[f"GET /partners?{query}"] = f"/partners?{query}"
        deep = deep_cursor(engine, "partners", newest.format(where=f"WHERE {where}" if where else ""), params)
        urls[f"GET /partners?{query} (90% deep, cursor)"] = f"/partners?{query}&cursor={deep}"
    stage = "SELECT stage_changed_at, id FROM partners WHERE stage = :stage ORDER BY stage_changed_at, id"
    pending = (
        "SELECT submitted_at, partner_id FROM applications WHERE status = 'pending'"
        " ORDER BY submitted_at, partner_id"
    )
    urls["GET /partners?offset=90% (deprecated)"] = f"/partners?offset={partners * 9 // 10}"
    urls["dashboard board"] = "/dashboard"
    urls["dashboard stage=active"] = "/dashboard?stage=active"
    urls["dashboard stage=active (90% deep)"] = (
        f"/dashboard?stage=active&cursor={deep_cursor(engine, 'pipeline', stage, {'stage': 'active'})}"
    )
    urls["dashboard applications"] = "/dashboard/applications"
    urls["dashboard applications (90% deep)"] = (
        f"/dashboard/applications?cursor={deep_cursor(engine, 'applications', pending, {})}"
    )
    return urls


def counts_query_ms(engine: Engine, repeat: int = 50) -> dict[str, float]:
    """p50 of the board's counts: the trigger-kept table versus a GROUP BY over the stage index."""
    queries = {
        "partner_counts (triggers)": "SELECT stage, sum(partners) FROM partner_counts GROUP BY stage",
        "GROUP BY stage over partners": "SELECT stage, count(*) FROM partners GROUP BY stage",
    }
    result = {}
    with engine.connect() as connection:
        for name, sql in queries.items():
            samples = []
            for _ in range(repeat):
                began = time.perf_counter()
                connection.execute(text(sql)).all()
                samples.append(time.perf_counter() - began)
            result[name] = round(statistics.median(samples) * 1000, 2)
    return result


async def measure(
    engine: Engine, data_dir: Path, requests: int, partners: int
) -> dict[str, dict[str, float]]:
    settings = Settings(
        _env_file=None,
        data_dir=data_dir,
        manager_tokens=SecretStr(f"bench:{TOKEN}"),
        portal_secret=SecretStr("bench-secret"),
        public_url="http://bench.test",
    )
    app = create_app(settings, engine, temporal=None)
    app.state.engine, app.state.temporal = engine, None  # what the lifespan sets; no Temporal at all
    signed_in = Response()
    auth.start_session(signed_in, settings, "bench")
    cookie = signed_in.headers["set-cookie"].split(";", 1)[0].split("=", 1)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    results: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://bench.test",
        headers=headers,
        cookies={cookie[0]: cookie[1]},
    ) as http:
        for name, url in cases(engine, partners).items():
            for _ in range(5):  # warm up
                (await http.get(url)).raise_for_status()
            samples = []
            for _ in range(requests):
                began = time.perf_counter()
                response = await http.get(url)
                samples.append(time.perf_counter() - began)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text[:300]}")
            ordered = sorted(samples)
            results[name] = {
                "p50_ms": round(statistics.median(ordered) * 1000, 2),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
            }
    return results


def old_sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    """The pragmas before this change (WAL, FK, busy timeout): for ``--sqlite-defaults``."""
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def run(database: str, url: str, data_dir: Path, partners: int, requests: int) -> dict[str, Any]:
    engine = db.make_engine(url)
    db.upgrade(engine)
    seconds = fill(engine, partners)
    print(f"{database}: {partners} partners inserted in {seconds:.1f} s")
    load_before = os.getloadavg()[0]
    pages = asyncio.run(measure(engine, data_dir, requests, partners))
    load = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    print(f"{database}: 1-minute load average {load[0]} before, {load[1]} after ({os.cpu_count()} CPUs)")
    counts = counts_query_ms(engine)
    engine.dispose()
    return {
        "fill_seconds": round(seconds, 1),
        "load_average": load,
        "pages": pages,
        "counts_query_p50_ms": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--sqlite-defaults", action="store_true", help="the old SQLite pragmas")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.sqlite_defaults:
        db._sqlite_pragmas = old_sqlite_pragmas  # make_engine looks it up per call
    report: dict[str, Any] = {
        "partners": args.partners,
        "requests": args.requests,
        "sqlite_pragmas": "old" if args.sqlite_defaults else "new",
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-lists-") as tmp:
        if "sqlite" in args.databases:
            url = f"sqlite:///{Path(tmp) / 'lists.db'}"
            report["databases"]["sqlite"] = run("sqlite", url, Path(tmp), args.partners, args.requests)
        if "postgresql" in args.databases:
            admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
            try:
                url = ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"
                report["databases"]["postgresql"] = run(
                    "postgresql", url, Path(tmp), args.partners, args.requests
                )
            finally:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)'))
                admin.dispose()
    print_table(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


def print_table(report: dict[str, Any]) -> None:
    databases = list(report["databases"])
    names = list(next(iter(report["databases"].values()))["pages"]) if databases else []
    header = f"{'page (' + str(report['partners']) + ' partners)':<48}" + "".join(
        f"{d + ' p50/p99 ms':>26}" for d in databases
    )
    print(header)
    print("-" * len(header))
    for name in names:
        cells = [report["databases"][d]["pages"][name] for d in databases]
        print(f"{name:<48}" + "".join(f"{c['p50_ms']:>16.1f} / {c['p99_ms']:>6.1f}" for c in cells))
    for database in databases:
        print(f"{database} counts query p50 ms: {report['databases'][database]['counts_query_p50_ms']}")


if __name__ == "__main__":
    main()
