"""GET /metrics and GET /readyz on the real app: store gauges cheap at 100k partners, probes bounded."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from conftest import make_settings
from prom import value
from sqlalchemy import Engine, event, insert
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.main import create_app
from partnerflow.config import Settings
from partnerflow.domain.stages import Stage
from partnerflow.store import stats
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner

STAGES = [stage.value for stage in Stage]


class _HangingHealth:
    async def check_health(self) -> None:
        await asyncio.sleep(30)


class _HangingTemporal:
    """A Temporal client whose health check never answers."""

    service_client = _HangingHealth()


class _RefusingHealth:
    async def check_health(self) -> None:
        raise ConnectionRefusedError


class _DeadTemporal:
    service_client = _RefusingHealth()


@asynccontextmanager
async def api(
    settings: Settings, engine: Engine | None = None, temporal: Any = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, engine=engine, temporal=temporal or _HangingTemporal())
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        if temporal is False:
            app.state.temporal = None
        yield http


def add_partners(engine: Engine, count: int, stage: str, submitted: datetime | None = None) -> None:
    now = datetime.now(UTC)
    rows = [
        {"id": uuid.uuid4().hex[:16], "program": "default", "email": f"{uuid.uuid4().hex}@example.com",
         "name": "P", "locale": "en", "stage": stage, "created_at": now, "stage_changed_at": now}
        for _ in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Partner), rows)
        if submitted is not None:
            connection.execute(
                insert(Application),
                [{"partner_id": row["id"], "submitted_at": submitted, "status": "pending"} for row in rows],
            )


async def test_metrics_exposition(settings: Settings, engine: Engine) -> None:
    add_partners(engine, 3, "applied", submitted=datetime.now(UTC) - timedelta(days=6))
    add_partners(engine, 1, "applied", submitted=datetime.now(UTC))
    add_partners(engine, 2, "active")
    async with api(settings, engine, _DeadTemporal()) as http:
        await http.get("/partners", headers={"Authorization": "Bearer wrong"})
        await http.get("/healthz")
        response = await http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    body = response.text
    assert {stage: value(body, "partnerflow_partners", stage=stage) for stage in STAGES} == {
        "applied": 4, "approved": 0, "rejected": 0, "onboarding": 0, "active": 2, "offboarded": 0,
    }  # fmt: skip
    assert value(body, "partnerflow_applications_pending") == 4
    assert value(body, "partnerflow_applications_overdue") == 3  # older than the 5-day escalation
    assert value(body, "partnerflow_webhook_deliveries_pending") == 0
    assert value(body, "partnerflow_store_up") == 1
    assert value(body, "http_requests_total", handler="/partners", method="GET", status="401") == 1
    assert "# TYPE partnerflow_signups_total counter" in body  # declared before the first signup
    assert 'handler="/healthz"' not in body and 'handler="/metrics"' not in body  # probes unmeasured


def test_stage_counts_read_the_kept_counts_not_the_partners(engine: Engine) -> None:
    """The gauge sums ``partner_counts`` (a few rows, kept by triggers): no scan of 100k partners."""
    add_partners(engine, 3, "active")
    captured: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        captured.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(engine) as session:
            assert stats.partners_per_stage(session) == {"active": 3}
    finally:
        event.remove(engine, "before_cursor_execute", record)
    [sql] = [statement for statement in captured if "SELECT" in statement]
    assert "FROM partner_counts" in sql and "FROM partners" not in sql


async def test_a_scrape_is_cheap_at_100k_partners(settings: Settings, engine: Engine) -> None:
    for stage, count in (
        ("active", 60_000),
        ("onboarding", 25_000),
        ("applied", 10_000),
        ("offboarded", 5_000),
    ):
        add_partners(engine, count, stage)
    async with api(settings, engine) as http:
        await http.get("/metrics")  # warm: connections, first compile
        started = time.perf_counter()
        body = (await http.get("/metrics")).text
        took = time.perf_counter() - started
    assert value(body, "partnerflow_partners") == 100_000
    assert value(body, "partnerflow_partners", stage="active") == 60_000
    assert took < 1.0, f"a scrape took {took:.2f} s"


async def test_a_dead_database_is_a_gauge_not_a_failed_scrape(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    async with api(settings) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200 and value(response.text, "partnerflow_store_up") == 0


async def test_readyz_is_200_when_both_answer(
    settings: Settings, engine: Engine, dev_env: WorkflowEnvironment
) -> None:
    async with api(settings, engine, dev_env.client) as http:
        response = await http.get("/readyz")
    assert (response.status_code, response.json()) == (
        200,
        {"status": "ok", "temporal": "ok", "database": "ok"},
    )


async def test_readyz_names_what_is_down_within_its_bound(settings: Settings, engine: Engine) -> None:
    async with api(settings, engine) as http:
        started = time.perf_counter()
        response = await http.get("/readyz")
        took = time.perf_counter() - started
    assert response.status_code == 503 and took < 3.5
    assert response.json() == {
        "status": "degraded",
        "temporal": "down: no answer within 2 s",
        "database": "ok",
    }


async def test_readyz_before_temporal_is_connected(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none")
    async with api(settings, temporal=False) as http:
        response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["temporal"] == "down: not connected" and body["database"].startswith("down")


async def test_request_ids_are_echoed_or_made(settings: Settings, engine: Engine) -> None:
    async with api(settings, engine) as http:
        given = await http.get("/metrics", headers={"X-Request-ID": "abc-123"})
        hostile = await http.get("/metrics", headers={"X-Request-ID": "bad\nid " + "x" * 80})
    assert given.headers["X-Request-ID"] == "abc-123"
    assert len(hostile.headers["X-Request-ID"]) == 32 and "bad" not in hostile.headers["X-Request-ID"]


def test_each_app_has_its_own_registry(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    assert first.state.metrics.registry is not second.state.metrics.registry
