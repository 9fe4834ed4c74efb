"""Replay protection shared by every API process: a captured Slack request is refused by all of them."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from conftest import make_settings
from fastapi import FastAPI
from pydantic import SecretStr
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from partnerflow.api.main import create_app
from partnerflow.store import guards
from partnerflow.store.guards import RateLimitCounter, SeenRequest
from partnerflow.store.models import utcnow

SECRET = "slack-signing-test"


def _app(tmp_path: Path, engine: Engine) -> FastAPI:
    """One API process: its own app and settings, the shared database."""
    app = create_app(make_settings(tmp_path, slack_signing_secret=SecretStr(SECRET)), engine=engine)
    app.state.engine, app.state.temporal = engine, None  # what the lifespan sets
    return app


def _captured() -> tuple[bytes, dict[str, str]]:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": [], "n": time.time()})})
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.encode()) or ""
    headers = {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return body.encode(), headers


async def _post(app: FastAPI, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        return await http.post("/slack/interactions", content=body, headers=headers)


async def test_a_request_captured_at_one_process_is_refused_by_another(
    tmp_path: Path, any_engine: Engine
) -> None:
    first, second = _app(tmp_path / "a", any_engine), _app(tmp_path / "b", any_engine)
    body, headers = _captured()

    assert (await _post(first, body, headers)).status_code == 200
    replay = await _post(second, body, headers)
    assert (replay.status_code, replay.json()["detail"]) == (401, "replayed request")
    # A restarted process (a new app on the same database) refuses it too.
    restarted = await _post(_app(tmp_path / "c", any_engine), body, headers)
    assert restarted.status_code == 401
    # Another genuine request still goes through.
    assert (await _post(second, *_captured())).status_code == 200


def test_seen_requests_expire_and_are_purged(any_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guards, "PURGE_CHANCE", 0.0)  # purge only when asked here
    now = utcnow()
    old = guards.request_key("slack", "1", "v0=old")
    assert guards.first_time(any_engine, "slack", old, now - timedelta(seconds=1))
    live = guards.request_key("slack", "2", "v0=live")
    assert guards.first_time(any_engine, "slack", live, now + timedelta(minutes=5))
    assert not guards.first_time(any_engine, "slack", live, now + timedelta(minutes=5))

    assert guards.purge_expired(any_engine) >= 1
    with Session(any_engine) as session:
        keys = set(session.exec(select(SeenRequest.key)))
    assert old not in keys and live in keys


def test_rate_limit_counters_count_atomically_and_restart_after_their_window(any_engine: Engine) -> None:
    key = f"test/{time.time()}"
    counts = [guards.hit(any_engine, key, timedelta(minutes=1))[0] for _ in range(3)]
    assert counts == [1, 2, 3]
    _, ends = guards.hit(any_engine, key, timedelta(minutes=1), amount=0)
    assert timedelta(seconds=50) < ends - utcnow() <= timedelta(minutes=1)

    short = f"short/{time.time()}"
    guards.hit(any_engine, short, timedelta(milliseconds=50))
    time.sleep(0.1)
    assert guards.hit(any_engine, short, timedelta(minutes=1))[0] == 1  # a new window
    with Session(any_engine) as session:
        assert guards.counter(session, short) is not None
        assert session.exec(select(func.count()).select_from(RateLimitCounter)).one() >= 2
    guards.clear(any_engine, short)
    with Session(any_engine) as session:
        assert guards.counter(session, short) is None
