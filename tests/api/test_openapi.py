"""The OpenAPI document names every error each operation can answer, with the error schema."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import make_settings
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.api.deps import get_manager, get_temporal
from partnerflow.api.errors import ErrorBody
from partnerflow.api.main import create_app
from partnerflow.api.routes.events import get_sender

ERROR_REF = "#/components/schemas/ErrorBody"
Operation = tuple[str, str]  # (method, path)

# The portal answers a browser's refusal with a page in the partner's language (text/html).
HTML_ERROR_PAGES: set[Operation] = {
    ("GET", "/portal/{token}"),
    ("POST", "/portal/{token}/terms/accept"),
    ("GET", "/portal/{token}/webinar.ics"),
    ("POST", "/portal/resend"),
    ("GET", "/portal/{token}/account"),
    ("POST", "/portal/{token}/preferences"),
    # The hosted application page answers visitors in their language.
    ("GET", "/apply/{program}"),
    ("POST", "/apply/{program}"),
    ("GET", "/apply/{program}/thanks"),
}

# What a dependency answers before the route runs.
DEPENDENCY_ERRORS: dict[Callable[..., Any], set[int]] = {
    get_manager: {401},  # ManagerDep
    get_sender: {401},  # manager token or ingestion key (POST /events)
    get_temporal: {503},  # TemporalDep: Temporal not reachable yet
}
# Path parameters are looked up (404) unless named here.
NOT_LOOKED_UP = {
    "program": "a program exists once an operation names it; reads give defaults or empty lists",
    "token": "a signed link: the signature is checked instead (403)",
}
SIGNED_LINK = "token"  # -> 403

# What the routes answer beyond the rules above: their own HTTPExceptions and hand-parsed bodies.
SPECIAL: dict[Operation, set[int]] = {
    # bad signature; body parsed by hand (so not in the schema); no webhook secret configured
    ("POST", "/webhooks/partner-signup"): {401, 422, 503},
    ("POST", "/partners/{partner_id}/decision"): {409},
    ("POST", "/partners/{partner_id}/checklist"): {409},
    ("POST", "/partners/{partner_id}/offboard"): {409},
    ("POST", "/partners/{partner_id}/pause"): {409},
    ("POST", "/partners/{partner_id}/resume"): {409},
    ("GET", "/r"): {400},
    ("POST", "/portal/{token}/terms/accept"): {409},
    ("GET", "/portal/{token}/webinar.ics"): {404},
    ("POST", "/portal/resend"): {403, 409},
    ("POST", "/partners/{partner_id}/tier-decision"): {409},
    ("PUT", "/programs/{program}"): {409},  # currency change once amounts exist
    ("GET", "/programs/{program}/terms"): {404},  # no terms published
    ("GET", "/programs/{program}/kpis"): {404},  # a program nobody named
    ("POST", "/events"): {422},  # body parsed by hand
    ("POST", "/migrations"): {413},
    ("POST", "/prospects/import"): {413, 422},  # CSV body read by hand
    ("POST", "/webhook-deliveries/{delivery_id}/replay"): {409},
    ("POST", "/slack/interactions"): {400, 401, 503},  # no payload; bad signature; no signing secret
    ("POST", "/unsubscribe/{token}"): {404},  # the partner is gone
    ("POST", "/outreach/unsubscribe/{token}"): {404},  # the prospect is gone
    ("GET", "/healthz"): {503},
    ("GET", "/r/{code}"): {400},  # `to` off the landing site
    ("GET", "/apply/{program}"): {404},  # the page needs a program set up
    ("GET", "/apply/{program}/thanks"): {404},
    ("POST", "/apply/{program}"): {400, 404, 429, 503},  # form token; rate limit; Temporal unreachable
    ("GET", "/programs/{program}/audit.csv"): {404},  # a program nobody named
}
# Errors that deliberately answer with another body than ErrorBody.
OTHER_BODIES: dict[tuple[str, str, str], str] = {
    ("GET", "/healthz", "503"): "#/components/schemas/Health",  # the same body as the 200
    ("GET", "/readyz", "503"): "#/components/schemas/Health",
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(make_settings(tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
async def document(app: FastAPI) -> dict[str, Any]:
    # No lifespan: serving the document needs neither the database nor Temporal.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://api") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _routes(app: FastAPI) -> dict[Operation, Dependant]:
    """Each documented operation's dependencies, from the app's routes."""
    try:  # newer FastAPI keeps included routers nested; older versions flatten them into app.routes
        from fastapi.routing import iter_route_contexts
    except ImportError:
        routes: Any = app.routes
    else:
        routes = iter_route_contexts(app.routes)
    return {
        (method, route.path_format): route.dependant
        for route in routes
        if getattr(route, "include_in_schema", False) and hasattr(route, "dependant")
        for method in route.methods
    }


def _operations(document: dict[str, Any]) -> Iterator[tuple[Operation, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield (method.upper(), path), operation


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _expected(dependant: Dependant, key: Operation, operation: dict[str, Any]) -> set[int]:
    """The statuses this operation can answer, from its dependencies, parameters and SPECIAL."""
    calls = set(_calls(dependant))
    codes = {code for call, answers in DEPENDENCY_ERRORS.items() if call in calls for code in answers}
    parameters = operation.get("parameters", [])
    in_path = {p["name"] for p in parameters if p["in"] == "path"}
    if parameters or "requestBody" in operation:
        codes.add(422)
    if in_path - NOT_LOOKED_UP.keys():
        codes.add(404)
    if SIGNED_LINK in in_path:
        codes.add(403)
    return codes | SPECIAL.get(key, set())


def test_every_operation_documents_what_it_can_answer(app: FastAPI, document: dict[str, Any]) -> None:
    routes = _routes(app)
    missing = []
    checked = 0
    for key, operation in _operations(document):
        documented = {int(code) for code in operation["responses"] if code.isdigit()}
        for code in sorted(_expected(routes[key], key, operation) - documented):
            missing.append(f"{key[0]} {key[1]} does not document {code}")
        checked += 1
    hint = "\nList them in the route's responses=responses(...) (partnerflow/api/errors.py)."
    assert not missing, "\n".join(missing) + hint
    assert checked == len(routes) >= 48
    assert not SPECIAL.keys() - routes.keys(), "SPECIAL names operations that no longer exist"


def test_every_documented_error_has_the_error_schema(document: dict[str, Any]) -> None:
    wrong = []
    for (method, path), operation in _operations(document):
        for code, response in operation["responses"].items():
            if code[0] not in "45":
                continue
            if (method, path) in HTML_ERROR_PAGES and "text/html" in response.get("content", {}):
                continue  # a page, documented as text/html
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            expected = OTHER_BODIES.get((method, path, code), ERROR_REF)
            if schema.get("$ref") != expected:
                wrong.append(f"{method} {path} {code}: {schema or 'no JSON schema'} (expected {expected})")
    assert not wrong, "\n".join(wrong)


def test_the_error_schema_is_fastapis_shape(document: dict[str, Any]) -> None:
    detail = document["components"]["schemas"]["ErrorBody"]["properties"]["detail"]
    assert {branch["type"] for branch in detail["anyOf"]} == {"string", "array"}
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["detail"]


# --- over HTTP: the documented errors are what the service answers --------------------------------


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def _error(service: Service, method: str, path: str, status: int, **request: Any) -> ErrorBody:
    """Call ``path`` (the operation's template, filled in from ``request["ids"]``), check the status
    is the one answered and documented, and read the body as an ErrorBody (and nothing more)."""
    url = path.format(**request.pop("ids", {}))
    response = await service.http.request(method, url, **request)
    assert response.status_code == status, response.text
    spec = (await service.http.get("/openapi.json")).json()
    assert str(status) in spec["paths"][path][method.lower()]["responses"], f"{method} {path} {status}"
    assert set(response.json()) == {"detail"}
    return ErrorBody.model_validate_json(response.content)


async def test_errors_over_http_are_documented_error_bodies(service: Service) -> None:
    partner = {"partner_id": "nope"}
    missing = await _error(service, "GET", "/partners", 401)
    wrong = await _error(service, "GET", "/partners", 401, headers={"Authorization": "Bearer nope"})
    unknown = await _error(service, "GET", "/partners/{partner_id}", 404, ids=partner, headers=ALICE)
    invalid = await _error(
        service,
        "POST",
        "/partners/{partner_id}/decision",
        422,
        ids=partner,
        json={"decision": "maybe"},
        headers=ALICE,
    )
    link = await _error(service, "GET", "/unsubscribe/{token}", 403, ids={"token": "not-a-token"})
    no_webinar = await _error(
        service,
        "POST",
        "/webinars/{webinar_id}/attendance",
        404,
        ids={"webinar_id": 999},
        json={"emails": ["a@example.com"]},
        headers=ALICE,
    )

    assert isinstance(missing.detail, str) and "bearer" in missing.detail.lower()
    assert wrong.detail == "invalid manager token"
    assert unknown.detail == "partner nope not found"
    assert isinstance(invalid.detail, list) and invalid.detail[0]["loc"] == ["body", "decision"]
    assert link.detail == "this unsubscribe link is not valid"
    assert no_webinar.detail == "webinar 999 not found"


async def test_a_second_decision_is_a_documented_409(service: Service) -> None:
    partner_id = await service.approved_partner("twice@example.com")

    conflict = await _error(
        service,
        "POST",
        "/partners/{partner_id}/decision",
        409,
        ids={"partner_id": partner_id},
        json={"decision": "reject"},
        headers=ALICE,
    )

    assert isinstance(conflict.detail, str) and "decided" in conflict.detail
