"""Limits every entry point shares (pure constants, no I/O)."""

from __future__ import annotations

MAX_ID = 2**31 - 1  # ids and counters live in INTEGER columns: PostgreSQL's int4
MAX_INT64 = 2**63 - 1  # what SQLite and PostgreSQL take for OFFSET and BIGINT
MAX_URL_LENGTH = 2000  # longer URLs are refused by some browsers and mail clients
MAX_DAYS = 3650  # ten years: the longest wait a program setting may ask for
