"""Body limits (api/limits.py) and security headers (api/security.py) on the real app, in process.

Neither needs Temporal: the middleware answers before any route runs, and the pages checked here
read only the store.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_settings
from hostile import parse
from pydantic import SecretStr
from sqlalchemy import Engine

from partnerflow.api.limits import FORM, json_problem
from partnerflow.api.main import create_app
from partnerflow.api.security import DOCS_POLICY, PAGE_POLICY

ALICE = {"Authorization": "Bearer tok-alice"}
DEEP = b"[" * 10_000 + b"]" * 10_000
SLACK_SECRET = "slack-limits-secret"


@pytest.fixture
async def app_client(tmp_path: Path, engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(tmp_path, engine) as client:
        yield client


def _client(tmp_path: Path, engine: Engine, temporal: object = None, **overrides: Any) -> httpx.AsyncClient:
    settings = make_settings(tmp_path, slack_signing_secret=SecretStr(SLACK_SECRET), **overrides)
    app = create_app(settings, engine, temporal=None)
    app.state.engine, app.state.temporal = engine, temporal  # what the lifespan sets; Temporal is not reached
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://partnerflow.test")


async def chunked(body: bytes) -> AsyncIterator[bytes]:
    """The body without a Content-Length: the middleware counts it as it arrives."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


def _limit_message(response: httpx.Response) -> str:
    [error] = response.json()["detail"]
    assert error["loc"] == ["body"] and error["type"] == "json_limit"
    return str(error["msg"])


# --- JSON depth and width ------------------------------------------------------------------------


def test_the_scan_counts_brackets_and_items_outside_strings_only() -> None:
    assert json_problem(DEEP, 32, 10_000) == "JSON body nested deeper than the limit of 32 levels"
    assert json_problem(b'{"a": ' * 33 + b"1" + b"}" * 33, 32, 10_000) is not None
    assert json_problem(b"[" * 32 + b"]" * 32, 32, 10_000) is None
    assert json_problem(b'["' + b"[" * 100 + b'"]', 32, 10_000) is None  # brackets in a string
    assert (
        json_problem(b'["\\"[[[[", [[1]]]', 2, 10_000) == "JSON body nested deeper than the limit of 2 levels"
    )
    wide = b"[" + b",".join([b"0"] * 10_001) + b"]"
    assert (
        json_problem(wide, 32, 10_000)
        == "a JSON array or object in the body has more than the limit of 10000 items"
    )
    assert json_problem(b"[" + b",".join([b"0"] * 10_000) + b"]", 32, 10_000) is None
    assert json_problem(b'["' + b"," * 20_000 + b'"]', 32, 10_000) is None  # commas in a string


@pytest.mark.parametrize(
    "path",
    ["/events", "/webhooks/partner-signup", "/partners/p1/decision", "/portal/t/terms/accept", "/campaigns"],
)
async def test_a_10000_deep_array_is_a_422_naming_the_limit(app_client: httpx.AsyncClient, path: str) -> None:
    response = await app_client.post(path, content=DEEP, headers=ALICE | {"Content-Type": "application/json"})

    assert response.status_code == 422
    assert _limit_message(response) == "JSON body nested deeper than the limit of 32 levels"


async def test_deep_json_in_any_content_type_and_in_a_slack_payload_is_a_4xx(
    app_client: httpx.AsyncClient,
) -> None:
    as_text = await app_client.post("/events", content=DEEP, headers=ALICE | {"Content-Type": "text/plain"})
    assert as_text.status_code == 422 and "32 levels" in _limit_message(as_text)

    body = b"payload=" + b"%5B" * 100_000  # form-encoded: JSON inside a field, parsed by the route
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    signed = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}
    slack = await app_client.post(
        "/slack/interactions",
        content=body,
        headers=signed | {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert slack.status_code == 400 and "payload" in slack.json()["detail"]


async def test_a_batch_over_its_maximum_is_a_422_and_the_openapi_says_the_maximum(
    app_client: httpx.AsyncClient,
) -> None:
    too_wide = b'{"partner_ids": [' + b",".join([b'"p"'] * 10_001) + b"]}"
    response = await app_client.post("/webinars/1/attendance", content=too_wide, headers=ALICE)
    assert response.status_code == 422 and "10000 items" in _limit_message(response)

    schema = (await app_client.get("/openapi.json")).json()
    events = schema["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    components = schema["components"]["schemas"]
    assert events["properties"]["events"]["maxItems"] == 1000
    assert components["AttendanceIn"]["properties"]["partner_ids"]["maxItems"] == 10_000
    assert components["AttendanceIn"]["properties"]["emails"]["maxItems"] == 10_000
    assert components["CampaignIn"]["properties"]["prospect_ids"]["anyOf"][0]["maxItems"] == 10_000


# --- body size -----------------------------------------------------------------------------------


async def test_a_huge_body_is_a_413_before_it_is_read(app_client: httpx.AsyncClient) -> None:
    huge = b'{"events": ["' + b"x" * (5 * 1024 * 1024) + b'"]}'
    declared = await app_client.post("/events", content=huge, headers=ALICE)

    streamed = await app_client.post("/webhooks/partner-signup", content=chunked(huge))

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json() == {"detail": "request body larger than the limit of 5 MiB (5242880 bytes)"}


async def test_uploads_have_their_own_cap(tmp_path: Path, engine: Engine) -> None:
    # 2 MB in one row of 20 wide columns: above the body limit, below the upload one.
    csv = (
        b"email,"
        + b",".join(b"c%d" % i for i in range(20))
        + b"\na@example.com,"
        + b",".join([b"x" * 100_000] * 20)
    )
    async with _client(tmp_path, engine, max_body_bytes=1024 * 1024) as client:
        imported = await client.post(
            "/prospects/import", content=csv, headers=ALICE | {"Content-Type": "text/csv"}
        )
    async with _client(tmp_path, engine, max_upload_bytes=1024 * 1024) as client:
        refused = await client.post(
            "/prospects/import", content=chunked(csv), headers=ALICE | {"Content-Type": "text/csv"}
        )
        form = await client.post("/migrations", files={"file": ("x.csv", csv, "text/csv")}, headers=ALICE)

    assert imported.status_code == 200 and imported.json()["imported"] == 1
    assert refused.status_code == form.status_code == 413
    assert refused.json()["detail"] == "request body larger than the limit of 1 MiB (1048576 bytes)"


# --- security headers ----------------------------------------------------------------------------


async def test_every_page_gets_the_strict_policy_and_every_answer_nosniff(
    app_client: httpx.AsyncClient,
) -> None:
    login = await app_client.get("/dashboard/login")
    unsubscribe = await app_client.get("/unsubscribe/not-a-token")
    api = await app_client.get("/partners", headers=ALICE)

    assert login.headers["content-security-policy"] == PAGE_POLICY
    assert "'unsafe-inline'" not in PAGE_POLICY and "script-src 'self'" in PAGE_POLICY
    for directive in ("object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in PAGE_POLICY
    assert login.headers["x-frame-options"] == "DENY"
    assert login.headers["referrer-policy"] == "same-origin"  # the dashboard's own, stricter choice
    assert unsubscribe.headers["referrer-policy"] == "no-referrer"  # a token in the path
    assert api.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "content-security-policy" not in api.headers
    for response in (login, unsubscribe, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "strict-transport-security" not in response.headers  # plain http


async def test_the_api_docs_run_no_inline_script(app_client: httpx.AsyncClient) -> None:
    docs = await app_client.get("/docs")
    script = await app_client.get("/static/docs.js")

    assert docs.status_code == 200 and docs.headers["content-security-policy"] == DOCS_POLICY
    assert "'unsafe-inline'" not in DOCS_POLICY.split("script-src", 1)[1].split(";", 1)[0]
    scripts = [attrs for tag, attrs in parse(docs.text).elements if tag == "script"]
    assert scripts and all(attrs.get("src") for attrs in scripts)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert (await app_client.get("/static/config.py")).status_code == 404


async def test_hsts_over_https_or_behind_a_trusted_proxy(tmp_path: Path, engine: Engine) -> None:
    async with _client(tmp_path, engine) as client:
        forwarded_untrusted = await client.get("/static/portal.css", headers={"X-Forwarded-Proto": "https"})
    async with _client(tmp_path, engine, trust_forwarded_proto=True) as client:
        forwarded = await client.get("/static/portal.css", headers={"X-Forwarded-Proto": "https"})
        direct = await client.get("https://partnerflow.test/static/portal.css")

    assert "strict-transport-security" not in forwarded_untrusted.headers
    assert forwarded.headers["strict-transport-security"] == direct.headers["strict-transport-security"]
    assert direct.headers["strict-transport-security"] == "max-age=31536000"


async def test_nul_is_refused_in_urls_and_bodies_before_it_reaches_the_database(
    app_client: httpx.AsyncClient,
) -> None:
    in_path = await app_client.get("/partners/a%00b", headers=ALICE)
    in_query = await app_client.get("/partners?program=a%00", headers=ALICE)
    in_json = await app_client.post("/partners/p1/decision", content=b'{"reason": "a\\u0000"}', headers=ALICE)
    in_form = await app_client.post("/dashboard/login", content=b"token=%00", headers={"Content-Type": FORM})
    escaped = await app_client.post(
        "/events", content=b'{"events": [{"event_id": "\\\\u0000"}]}', headers=ALICE
    )

    assert in_path.status_code == in_query.status_code == 400
    assert in_path.json() == {"detail": "the URL must not contain NUL characters (%00)"}
    for response in (in_json, in_form):
        assert response.status_code == 422
        assert (
            response.json()["detail"][0]["msg"] == "the body must not contain NUL characters (\\u0000, %00)"
        )
    assert escaped.status_code == 200, escaped.text  # a backslash, then "u0000": text, not NUL


# --- integer bounds (the schemathesis finding) ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "where"),
    [
        ("GET", "/campaigns/36893488147419103231", ["path", "campaign_id"]),
        ("GET", "/migrations/36893488147419103231", ["path", "run_id"]),
        ("DELETE", "/webhook-subscriptions/36893488147419103231", ["path", "subscription_id"]),
        ("POST", "/webhook-deliveries/36893488147419103231/replay", ["path", "delivery_id"]),
        (
            "GET",
            "/webhook-deliveries?subscription_id=-3837218906190988777095168",
            ["query", "subscription_id"],
        ),
        ("GET", "/webinars/0/attendance", None),  # not a route for GET: 405, still no 500
        ("POST", "/webinars/2147483648/attendance", ["path", "webinar_id"]),
        ("GET", "/outbox?offset=9223372036854775808", ["query", "offset"]),
        ("GET", "/partners/p1/kpis?from=0001-01-01", ["query", "from"]),
    ],
)
async def test_ids_and_offsets_beyond_the_columns_are_a_422_naming_the_parameter(
    tmp_path: Path, engine: Engine, method: str, path: str, where: list[str] | None
) -> None:
    async with _client(tmp_path, engine, temporal=object()) as client:  # routes needing it answer 422 first
        response = await client.request(method, path, headers=ALICE, json={"partner_ids": ["p"]})

    if where is None:
        assert response.status_code == 405
        return
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == where
