"""Rate limits: sign-in per IP and per account, portal, /r/ (redirects, uncounted), unsubscribe, apply."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from conftest import make_settings
from fastapi import APIRouter, Depends, FastAPI
from helpers import add_partner
from pydantic import ValidationError
from sqlalchemy import Engine, func
from sqlmodel import select

from partnerflow.api.main import create_app
from partnerflow.api.rate_limits import rate_limit
from partnerflow.rendering.tokens import make_unsubscribe_token
from partnerflow.store.db import session_scope
from partnerflow.store.models import PerformanceEvent, TrackingLink

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _app(tmp_path: Path, engine: Engine, **limits: str) -> FastAPI:
    app = create_app(make_settings(tmp_path, **limits), engine=engine)
    app.state.engine, app.state.temporal = engine, None  # what the lifespan sets
    return app


def _client(app: FastAPI, ip: str = "203.0.113.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def _sign_in(http: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await http.get("/dashboard/login")
    found = CSRF.search(form.text)
    assert found, form.text
    return await http.post("/dashboard/login", data={"token": token, "csrf_token": found.group(1)})


def _assert_429(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 3600


async def test_sign_in_attempts_are_limited_per_ip(tmp_path: Path, engine: Engine) -> None:
    app = _app(tmp_path, engine, rate_limit_login_ip="3/minute")
    async with _client(app) as guesser, _client(app, "198.51.100.1") as alice:
        assert [(await _sign_in(guesser, f"guess-{n}")).status_code for n in range(3)] == [401] * 3
        blocked = await _sign_in(guesser, "tok-alice")  # even the right token, from that address
        _assert_429(blocked)
        assert "Too many sign-in attempts" in blocked.text
        assert (await _sign_in(alice, "tok-alice")).status_code == 303  # another address is not hit


async def test_sign_ins_are_limited_per_account(tmp_path: Path, engine: Engine) -> None:
    app = _app(tmp_path, engine, rate_limit_login_account="2/minute")

    async def sign_in(ip: str, token: str) -> httpx.Response:
        async with _client(app, ip) as browser:  # a browser of its own: no session yet
            return await _sign_in(browser, token)

    assert (await sign_in("198.51.100.1", "tok-alice")).status_code == 303
    assert (await sign_in("198.51.100.2", "tok-alice")).status_code == 303
    _assert_429(await sign_in("198.51.100.3", "tok-alice"))  # alice's third, from anywhere
    assert (await sign_in("198.51.100.3", "tok-bob")).status_code == 303  # bob is another account


async def test_portal_token_attempts_are_limited_per_ip(tmp_path: Path, engine: Engine) -> None:
    app = _app(tmp_path, engine, rate_limit_portal="2/minute")
    async with _client(app) as http:
        assert [(await http.get(f"/portal/guess{n}")).status_code for n in range(2)] == [403, 403]
        over = await http.get("/portal/guess3")
        _assert_429(over)
        assert "too many portal requests" in over.json()["detail"]


async def test_redirects_over_the_limit_still_redirect_but_are_not_counted(
    tmp_path: Path, engine: Engine
) -> None:
    partner = add_partner(engine)
    with session_scope(engine) as session:
        session.add(TrackingLink(code="lim123", partner_id=partner.id, program="default"))
    app = _app(tmp_path, engine, rate_limit_redirect="2/minute")
    async with _client(app) as http:
        answers = [(await http.get("/r/lim123")).status_code for _ in range(4)]
    assert answers == [302] * 4
    with session_scope(engine) as session:
        clicks = session.exec(select(func.count()).select_from(PerformanceEvent)).one()
    assert clicks == 2


async def test_unsubscribe_is_limited_per_ip(tmp_path: Path, engine: Engine) -> None:
    partner = add_partner(engine)
    app = _app(tmp_path, engine, rate_limit_unsubscribe="2/minute")
    token = make_unsubscribe_token(app.state.settings.portal_signing_key, partner.id)
    async with _client(app) as http:
        assert (await http.get(f"/unsubscribe/{token}")).status_code == 200
        assert (await http.post(f"/unsubscribe/{token}")).status_code == 200
        _assert_429(await http.post(f"/unsubscribe/{token}"))
        _assert_429(await http.get("/outreach/unsubscribe/anything"))  # the same budget


async def test_the_reusable_dependency_limits_a_new_route(tmp_path: Path, engine: Engine) -> None:
    app = _app(tmp_path, engine, rate_limit_apply="2/hour")
    apply = APIRouter()

    @apply.post("/limited/{program}", dependencies=[Depends(rate_limit("apply", "applications"))])
    def submit(program: str) -> dict[str, str]:
        return {"program": program}

    app.include_router(apply)
    async with _client(app) as http, _client(app, "198.51.100.9") as other:
        assert [(await http.post("/limited/default")).status_code for _ in range(2)] == [200, 200]
        over = await http.post("/limited/default")
        _assert_429(over)
        assert int(over.headers["Retry-After"]) > 60 * 50  # the hour's window
        assert (await other.post("/limited/default")).status_code == 200


async def test_an_empty_limit_is_off(tmp_path: Path, engine: Engine) -> None:
    app = _app(tmp_path, engine, rate_limit_portal="")
    async with _client(app) as http:
        assert {(await http.get(f"/portal/guess{n}")).status_code for n in range(80)} == {403}


async def test_database_storage_is_shared_by_every_api_process(tmp_path: Path, any_engine: Engine) -> None:
    limits = {"rate_limit_storage": "database", "rate_limit_portal": "3/minute"}
    first, second = _app(tmp_path / "a", any_engine, **limits), _app(tmp_path / "b", any_engine, **limits)
    ip = f"192.0.2.{id(any_engine) % 250}"
    async with _client(first, ip) as one, _client(second, ip) as two:
        assert (await one.get("/portal/x")).status_code == 403
        assert (await two.get("/portal/x")).status_code == 403
        assert (await one.get("/portal/x")).status_code == 403
        _assert_429(await two.get("/portal/x"))


def test_a_limit_limits_cannot_read_is_refused_at_start_up(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        make_settings(tmp_path, rate_limit_portal="10 per fortnight")
