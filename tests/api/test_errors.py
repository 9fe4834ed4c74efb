"""The error answers the OpenAPI docs promise: ``{"detail": ...}`` bodies, per route."""

from __future__ import annotations

from typing import Any

from partnerflow.api.errors import ErrorBody, responses
from partnerflow.api.main import create_app
from partnerflow.config import Settings

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}


def test_responses_names_each_code_and_its_body() -> None:
    answers = responses(404, 422, conflict="already decided", not_found="unknown partner")

    assert answers == {
        404: {"description": "unknown partner", "model": ErrorBody},
        409: {"description": "already decided", "model": ErrorBody},
        422: {"description": "invalid body or parameters", "model": ErrorBody},
    }
    assert ErrorBody(detail="no").detail == "no" and ErrorBody(detail=[{"loc": ["body"]}]).detail


def _portal_docs(settings: Settings) -> dict[str, Any]:
    spec = create_app(settings).openapi()
    return {path: ops for path, ops in spec["paths"].items() if path.startswith("/portal")}


def test_portal_routes_document_their_errors(settings: Settings) -> None:
    docs = _portal_docs(settings)

    page = docs["/portal/{token}"]["get"]["responses"]
    assert "expired" in page["403"]["description"] and "text/html" in page["403"]["content"]
    ics = docs["/portal/{token}/webinar.ics"]["get"]["responses"]
    assert ics["404"]["content"]["application/json"]["schema"] == ERROR_BODY and "403" in ics
    accept = docs["/portal/{token}/terms/accept"]["post"]["responses"]
    for code in ("403", "409"):  # a form post gets a page, a JSON one the detail
        assert accept[code]["content"]["application/json"]["schema"] == ERROR_BODY, code
        assert "text/html" in accept[code]["content"], code
    assert accept["422"]["content"]["application/json"]["schema"] == ERROR_BODY
    resend = docs["/portal/resend"]["post"]["responses"]
    assert {"200", "403", "409", "422", "503"} <= set(resend)
    assert resend["422"]["content"] == {"application/json": {"schema": ERROR_BODY}}
