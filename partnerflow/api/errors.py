"""Error answers in the shape the API documents: every 422 is a list of ``{loc, msg, type}``."""

from __future__ import annotations

from fastapi.exceptions import RequestValidationError


def unprocessable(message: str, *loc: str | int, kind: str = "value_error") -> RequestValidationError:
    """A 422 naming where the problem is (``loc``, e.g. ``("body", "starts_at")``) and what it is."""
    return RequestValidationError([{"type": kind, "loc": loc or ("body",), "msg": message, "input": None}])
