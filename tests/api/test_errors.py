"""The error answers the OpenAPI docs promise: ``{"detail": ...}`` bodies, per route."""

from __future__ import annotations

from partnerflow.api.errors import ErrorBody, responses


def test_responses_names_each_code_and_its_body() -> None:
    answers = responses(404, 422, conflict="already decided", not_found="unknown partner")

    assert answers == {
        404: {"description": "unknown partner", "model": ErrorBody},
        409: {"description": "already decided", "model": ErrorBody},
        422: {"description": "Unprocessable Entity", "model": ErrorBody},
    }
    assert ErrorBody(detail="no").detail == "no" and ErrorBody(detail=[{"loc": ["body"]}]).detail
