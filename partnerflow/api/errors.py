"""The error body every route answers with, and the OpenAPI ``responses`` that document it."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """FastAPI's error shape: a message, or for invalid input a list of {"loc", "msg", "type"}."""

    detail: str | list[dict[str, Any]] = Field(
        description="what went wrong; for 422 usually a list naming each invalid field"
    )


_DEFAULTS = {
    400: "malformed request",
    401: "missing or invalid credentials",
    403: "credentials understood but not allowed here (bad, foreign or expired link)",
    404: "not found",
    409: "refused in the current state",
    413: "body too large",
    422: "invalid body or parameters",
    429: "too many requests; retry later",
    503: "a dependency is down or not configured",
}


def responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``{code: {"model": ErrorBody, "description": ...}}`` for a route's ``responses=``.

    Describe a code by its ``HTTPStatus`` name, which also adds it:
    ``responses(401, not_found="unknown partner", conflict="already decided")``.
    """
    described = {HTTPStatus[name.upper()].value: text for name, text in descriptions.items()}
    return {
        code: {
            "model": ErrorBody,
            "description": described.get(code) or _DEFAULTS.get(code) or HTTPStatus(code).phrase,
        }
        for code in sorted({*codes, *described})
    }


def unprocessable(message: str, *loc: str | int, kind: str = "value_error") -> RequestValidationError:
    """A 422 naming where the problem is (``loc``, e.g. ``("body", "starts_at")``) and what it is."""
    return RequestValidationError([{"type": kind, "loc": loc or ("body",), "msg": message, "input": None}])
