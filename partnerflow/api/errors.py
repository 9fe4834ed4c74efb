"""Error answers for the OpenAPI docs: the ``{"detail": ...}`` body and ``responses=`` entries.

Routers write ``responses=responses(404, 422, conflict="already decided")``: each code gets its
standard phrase, or the description given under its ``http.HTTPStatus`` name (``not_found``,
``conflict``, ``unprocessable_entity``...), and the error body as its model.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    """FastAPI's error shape: a message, or for 422 the list of what was invalid."""

    detail: str | list[dict[str, Any]]


def responses(*codes: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the error ``codes`` and the ``descriptions`` keyed by status name."""
    described = {HTTPStatus[name.upper()]: text for name, text in descriptions.items()}
    return {
        int(code): {"description": described.get(code, code.phrase), "model": ErrorBody}
        for code in sorted({*map(HTTPStatus, codes), *described})
    }
