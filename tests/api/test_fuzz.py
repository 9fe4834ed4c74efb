"""Property-based fuzzing of every operation in /openapi.json, with schemathesis, on the real service.

The API, the worker and a Temporal dev server run in a background thread (``threaded.py``), so
signups start real workflows and updates reach them. Every operation gets schemathesis' boundary
cases (coverage phase) and a bounded number of generated ones, valid and invalid, once with the
manager's bearer token (and signed signup webhooks and Slack calls, so their bodies are fuzzed
past the signature check) and once without any credential, on PostgreSQL (production's
database: it refuses what SQLite lets through, e.g. over-long strings) when it answers. Checks:

- ``not_a_server_error``: no answer is a 5xx, whatever the input;
- ``response_schema_conformance``: an answer whose status code is documented matches its schema.

``status_code_conformance`` is left out for now: not every error status is in the OpenAPI yet
(documenting them is under way on another branch); add it here once they are.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from conftest import WEBHOOK_SECRET, _postgres_available, make_settings
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import response_schema_conformance
from threaded import ThreadedService, service_in_thread

from partnerflow.api.main import create_app
from partnerflow.rendering import signing

# Bounded so the whole module runs in well under 90 s on two shared cores; raise it locally with
# PARTNERFLOW_FUZZ_EXAMPLES=200 for a deeper run.
EXAMPLES = int(os.environ.get("PARTNERFLOW_FUZZ_EXAMPLES", "10"))
DATABASE = os.environ.get("PARTNERFLOW_FUZZ_DATABASE") or (
    "sqlite" if _postgres_available() else "postgresql"
)


def no_server_error(ctx: CheckContext, response: Response, case: schemathesis.Case) -> bool | None:
    """``not_a_server_error``, except /healthz's documented 503 naming what is down (it checks Temporal
    for real, and the dev server may be slow to answer while the fuzzer keeps the worker busy)."""
    if case.path == "/healthz" and response.status_code == 503 and "down" in response.text:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, response_schema_conformance]
MANAGER = {"Authorization": "Bearer tok-alice"}  # conftest.MANAGER_TOKENS
SLACK_SECRET = "slack-fuzz-secret"


class SigningSession(requests.Session):
    """Signs what it sends to the signup webhook and to Slack interactivity, as their senders do."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        path = request.path_url
        if path.startswith("/webhooks/partner-signup"):
            request.headers["Partnerflow-Signature"] = signing.sign(WEBHOOK_SECRET, body)
        elif path.startswith("/slack/interactions"):
            timestamp = str(int(time.time()))
            digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256)
            request.headers["X-Slack-Request-Timestamp"] = timestamp
            request.headers["X-Slack-Signature"] = f"v0={digest.hexdigest()}"
        return super().send(request, **kwargs)


@pytest.fixture(scope="module")
def fuzz_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ThreadedService]:
    # Configured like production: with the Slack signing secret, unsigned calls are 401, not 503.
    options: dict[str, Any] = {"slack_signing_secret": SecretStr(SLACK_SECRET)}
    if DATABASE == "postgresql":
        options["database_url"] = request.getfixturevalue("postgres_url")
    with service_in_thread(tmp_path_factory.mktemp("fuzz"), **options) as service:
        yield service


def _openapi() -> dict[str, Any]:
    """The app's own /openapi.json (the test below checks the served one is the same)."""
    with tempfile.TemporaryDirectory() as data_dir:
        return create_app(make_settings(Path(data_dir))).openapi()


def _schema(phases: list[str], examples: int) -> schemathesis.BaseSchema:
    config = schemathesis.Config()
    project = config.projects.default
    project.update(request_timeout=30)
    project.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=examples, database="none"
    )
    project.phases.update(phases=phases)
    return schemathesis.openapi.from_dict(OPENAPI, config=config)


OPENAPI = _openapi()
# As a manager: boundary values (the coverage phase found the 64-bit ids) and generated cases.
schema = _schema(["examples", "coverage", "fuzzing"], EXAMPLES)
# Without credentials most operations stop at 401: a few generated cases each are enough.
anonymous_schema = _schema(["fuzzing"], max(EXAMPLES // 3, 3))


def test_the_served_schema_is_the_one_fuzzed(fuzz_service: ThreadedService) -> None:
    assert httpx.get(f"{fuzz_service.base_url}/openapi.json").json() == OPENAPI


_SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@_SETTINGS
def test_no_operation_fails_as_a_manager(case: schemathesis.Case, fuzz_service: ThreadedService) -> None:
    with SigningSession() as session:
        case.call_and_validate(
            base_url=fuzz_service.base_url, session=session, headers=MANAGER, checks=CHECKS
        )


@anonymous_schema.parametrize()
@_SETTINGS
def test_no_operation_fails_anonymously(case: schemathesis.Case, fuzz_service: ThreadedService) -> None:
    case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
    case.call_and_validate(base_url=fuzz_service.base_url, checks=CHECKS)
