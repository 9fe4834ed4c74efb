"""Imports refuse an unreadable file with a 422 message, never a 500, and never store a NUL."""

from __future__ import annotations

import pytest

from partnerflow.domain import migration, prospects

HUGE_FIELD = "x" * 200_000  # over the csv module's 128 KiB field limit


def test_a_field_over_the_csv_limit_is_a_format_error_naming_the_line() -> None:
    text = prospects.decode_csv(f"email,name\nok@example.com,Ok\nbig@example.com,{HUGE_FIELD}\n".encode())
    with pytest.raises(prospects.CsvFormatError, match=r"line 3 is not readable CSV: field larger than"):
        list(prospects.read_csv(text, {}))
    with pytest.raises(migration.MappingError, match=r"line 3 is not readable CSV: field larger than"):
        migration.read_csv(f"email,name\nok@example.com,Ok\nbig@example.com,{HUGE_FIELD}\n".encode())


def test_nul_characters_are_dropped_from_imported_files() -> None:
    [row] = prospects.read_csv(prospects.decode_csv(b"email,name\nada@example.com,Ada\x00 Lovelace\n"), {})
    assert isinstance(row, prospects.ProspectRow) and row.name == "Ada Lovelace"
    _headers, [raw] = migration.read_csv(b"email,name\nada@example.com,Ada\x00 Lovelace\n")
    assert raw["name"] == "Ada Lovelace"
