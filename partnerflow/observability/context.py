"""Ids that belong on every log line of the current request or activity (contextvars)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

_fields: ContextVar[Mapping[str, str]] = ContextVar("partnerflow_log_fields", default={})  # noqa: B039


def current() -> Mapping[str, str]:
    """The fields bound so far in this context (request id, partner id, ...)."""
    return _fields.get()


def bind(**fields: str | None) -> None:
    """Add fields for the rest of this context (an async task or a request); None values are skipped."""
    _fields.set({**_fields.get(), **{key: value for key, value in fields.items() if value}})


@contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    """Fields for the duration of a block."""
    token = _fields.set({**_fields.get(), **{key: value for key, value in fields.items() if value}})
    try:
        yield
    finally:
        _fields.reset(token)
