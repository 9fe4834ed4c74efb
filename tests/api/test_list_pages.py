"""List pages by cursor on the real app, in process and without Temporal (list pages never call it).

``GET /partners`` with every filter, the dashboard's pipeline stage page and applications page:
follow ``next`` to the end without repeats or gaps; a bad cursor is a 422 naming ``cursor``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import make_settings
from sqlalchemy import Engine, insert
from starlette.responses import Response

from partnerflow.api.dashboard import auth
from partnerflow.api.main import create_app
from partnerflow.domain import cursors
from partnerflow.store.models import Application, Partner

ALICE = {"Authorization": "Bearer tok-alice"}
BASE = datetime(2026, 10, 1, tzinfo=UTC)


@pytest.fixture
async def http(tmp_path: Path, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path)
    app = create_app(settings, engine, temporal=None)
    app.state.engine, app.state.temporal = engine, None  # no Temporal: a list page calling it would fail
    signed_in = Response()
    auth.start_session(signed_in, settings, "alice")
    name, value = signed_in.headers["set-cookie"].split(";", 1)[0].split("=", 1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://partnerflow.test", cookies={name: value}
    ) as client:
        yield client


def _fill(engine: Engine, count: int = 130) -> list[dict[str, object]]:
    """Partners in two programs and three stages; pairs share a creation time (ties)."""
    rows: list[dict[str, object]] = [
        {"id": f"p{index:04d}", "program": ("acme", "beta")[index % 2], "email": f"p{index}@example.com",
         "name": f"Partner {index:04d}", "locale": "en", "stage": ("applied", "active", "active")[index % 3],
         "created_at": BASE + timedelta(minutes=index // 2), "stage_changed_at": BASE + timedelta(hours=index)}
        for index in range(count)
    ]  # fmt: skip
    with engine.begin() as connection:
        connection.execute(insert(Partner), rows)
        pending = [r for r in rows if r["stage"] == "applied"]
        connection.execute(
            insert(Application), [{"partner_id": r["id"], "submitted_at": r["created_at"]} for r in pending]
        )
    return rows


async def _walk(http: httpx.AsyncClient, limit: int, **filters: str) -> list[list[str]]:
    pages: list[list[str]] = []
    params: dict[str, str | int] = {**filters, "limit": limit}
    while True:
        response = await http.get("/partners", params=params, headers=ALICE)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["partner_id"] for item in body["items"]])
        if body["next"] is None:
            return pages
        params["cursor"] = body["next"]


@pytest.mark.parametrize(
    "filters", [{}, {"stage": "active"}, {"program": "beta"}, {"program": "acme", "stage": "applied"}]
)
async def test_next_pages_through_each_filter_newest_first(
    http: httpx.AsyncClient, engine: Engine, filters: dict[str, str]
) -> None:
    rows = _fill(engine)
    newest = sorted(rows, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    expected = [r["id"] for r in newest if all(r[key] == value for key, value in filters.items())]
    pages = await _walk(http, 7, **filters)
    assert [pid for page in pages for pid in page] == expected
    assert all(len(page) == 7 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 7


async def test_last_page_has_no_next_and_offset_still_works(http: httpx.AsyncClient, engine: Engine) -> None:
    _fill(engine, 10)
    whole = (await http.get("/partners", params={"limit": 10}, headers=ALICE)).json()
    assert len(whole["items"]) == 10 and whole["next"] is None
    skipped = (await http.get("/partners", params={"limit": 3, "offset": 8}, headers=ALICE)).json()
    assert [i["partner_id"] for i in skipped["items"]] == [i["partner_id"] for i in whole["items"]][8:]


def _raw(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).decode()


@pytest.mark.parametrize(
    ("cursor", "message"),
    [
        ("not base64 at all!", "not one this API handed out (not url-safe base64 JSON)"),
        (_raw('{"a": 1}'), "not one this API handed out (not a list position)"),
        (cursors.encode("pipeline", cursors.Position(BASE, "p0001")), "cursor belongs to another list"),
        (_raw('["partners","2026-13-01","p1"]'), "cursor holds no valid timestamp"),
        (_raw('["partners","2026-10-01T00:00:00","p1"]'), "cursor timestamp has no UTC offset"),
        ("x" * 201, "cursor is longer than 200 characters"),
        (_raw('["partners","0001-01-01T00:00:00+01:00","p1"]'), "cursor timestamp is out of range"),
        (_raw('["partners","2026-10-01T00:00:00+00:00","p\\u0000"]'), "1 to 32 printable characters"),
        (_raw('["partners","2026-10-01T00:00:00+00:00",""]'), "1 to 32 printable characters"),
    ],
)
async def test_a_bad_cursor_is_a_422_naming_it(
    http: httpx.AsyncClient, engine: Engine, cursor: str, message: str
) -> None:
    response = await http.get("/partners", params={"cursor": cursor}, headers=ALICE)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "cursor"] and message in error["msg"]


async def test_cursor_and_offset_together_are_refused(http: httpx.AsyncClient, engine: Engine) -> None:
    _fill(engine, 4)
    first = (await http.get("/partners", params={"limit": 2}, headers=ALICE)).json()
    response = await http.get("/partners", params={"cursor": first["next"], "offset": 2}, headers=ALICE)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "offset"]


# --- dashboard -------------------------------------------------------------------------------------

NEXT = re.compile(r'<a rel="next" href="([^"]+)">Next page</a>')


def _next(html: str) -> str | None:
    found = NEXT.search(html)
    return found.group(1).replace("&amp;", "&") if found else None


async def test_pipeline_stage_pages_follow_next_to_the_end(http: httpx.AsyncClient, engine: Engine) -> None:
    rows = _fill(engine)
    active = [
        r["id"]
        for r in sorted(rows, key=lambda r: (r["stage_changed_at"], r["id"]))
        if r["stage"] == "active"
    ]
    board = (await http.get("/dashboard")).text
    assert re.search(r'id="count-active">.*<strong>86</strong>', board) and len(active) == 86
    board_ids = re.findall(r'<tr id="partner-(p\d+)" class="partner-row">', board)
    assert len(board_ids) == 20 + 20 and active[:20] == [pid for pid in board_ids if pid in active]
    links = [next_url for next_url in NEXT.findall(board)]  # applied (44) and active (86): both go on
    assert [parse_qs(urlsplit(link).query)["stage"] for link in links] == [["applied"], ["active"]]
    continued = (await http.get(links[1].replace("&amp;", "&"))).text  # the active column, on from 20
    assert re.findall(r'<tr id="partner-(p\d+)" class="partner-row">', continued) == active[20:70]
    seen: list[str] = []
    url: str | None = "/dashboard?stage=active"
    pages = 0
    while url:
        html = (await http.get(url)).text
        seen += re.findall(r'<tr id="partner-(p\d+)" class="partner-row">', html)
        assert ('rel="first"' in html) == (pages > 0)
        url, pages = _next(html), pages + 1
    assert seen == active and pages == 2
    assert 'href="/dashboard?stage=active">First page' in html


async def test_applications_pages_follow_next_oldest_first(http: httpx.AsyncClient, engine: Engine) -> None:
    rows = _fill(engine, 160)
    pending = [
        r["id"] for r in sorted(rows, key=lambda r: (r["created_at"], r["id"])) if r["stage"] == "applied"
    ]
    first = (await http.get("/dashboard/applications")).text
    assert f"{len(pending)} pending, oldest first" in first and 'rel="first"' not in first
    second_url = _next(first)
    assert second_url
    second = (await http.get(second_url)).text
    ids = re.findall(r'<tr id="application-(p\d+)"', first) + re.findall(
        r'<tr id="application-(p\d+)"', second
    )
    assert ids == pending and len(pending) == 54 and _next(second) is None
    back = urlsplit(second_url).query  # a decision taken on page 2 comes back to page 2
    assert f'name="next" value="/dashboard/applications?{back}"' in second


async def test_dashboard_refuses_a_foreign_cursor(http: httpx.AsyncClient, engine: Engine) -> None:
    foreign = cursors.encode("partners", cursors.Position(BASE, "p0001"))
    response = await http.get("/dashboard/applications", params={"cursor": foreign})
    assert response.status_code == 422 and "belongs to another list" in response.text
