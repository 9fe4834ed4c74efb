"""Opaque list cursors: where a page ended, as url-safe base64 of ``[list, timestamp, id]``.

A list ordered by ``(timestamp, id)`` continues after the position of its last row (keyset
pagination): every page is an index range, as fast on page 2,000 as on page 1, and rows added
meanwhile neither repeat nor skip rows. The list's name is part of the cursor, so a cursor taken
from one list is refused by another instead of silently landing somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_CURSOR_LENGTH = 200
MAX_ID_LENGTH = 32


class BadCursor(ValueError):
    """The cursor is not one this list handed out; the message says what is wrong with it."""


@dataclass(frozen=True)
class Position:
    """The sort key of the last row of a page: its timestamp (aware UTC) and id."""

    at: datetime
    id: str


def encode(kind: str, position: Position) -> str:
    payload = json.dumps([kind, position.at.astimezone(UTC).isoformat(), position.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode(kind: str, cursor: str) -> Position:
    """The position in ``cursor``, or ``BadCursor`` naming what is wrong with it."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor(f"cursor is longer than {MAX_CURSOR_LENGTH} characters; pass the `next` value as is")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, ValueError):
        raise BadCursor("cursor is not one this API handed out (not url-safe base64 JSON)") from None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(item, str) for item in value)):
        raise BadCursor("cursor is not one this API handed out (not a list position)")
    found, moment, row_id = value
    if found != kind:
        raise BadCursor(f"cursor belongs to another list ({found[:40]!r}, not {kind!r})")
    try:
        at = datetime.fromisoformat(moment)
    except ValueError:
        raise BadCursor("cursor holds no valid timestamp") from None
    if at.tzinfo is None:
        raise BadCursor("cursor timestamp has no UTC offset")
    try:
        at = at.astimezone(UTC)
    except OverflowError:
        raise BadCursor("cursor timestamp is out of range") from None
    if not row_id or len(row_id) > MAX_ID_LENGTH or not row_id.isprintable():
        raise BadCursor(f"cursor id must be 1 to {MAX_ID_LENGTH} printable characters")
    return Position(at, row_id)
