"""Imports refuse an unreadable file with a 422 message, never a 500, and never store a NUL."""

from __future__ import annotations

import pytest

from partnerflow.domain import csv_import, prospect_import

HUGE_FIELD = "x" * 200_000  # over the csv module's 128 KiB field limit


def test_a_field_over_the_csv_limit_is_a_format_error_naming_the_line() -> None:
    data = f"email,name\nok@example.com,Ok\nbig@example.com,{HUGE_FIELD}\n".encode()
    text = prospect_import.decode_csv(data)
    with pytest.raises(
        prospect_import.CsvFormatError, match=r"line 3 is not readable CSV: field larger than"
    ):
        list(prospect_import.read_csv(text, {}))
    # the partner-migration importer reads files through the same table reader
    with pytest.raises(csv_import.CsvFormatError, match=r"line 3 is not readable CSV: field larger than"):
        csv_import.read_table(csv_import.decode_text(data))


def test_nul_characters_are_dropped_from_imported_files() -> None:
    data = b"email,name\nada@example.com,Ada\x00 Lovelace\n"
    [row] = prospect_import.read_csv(prospect_import.decode_csv(data), {})
    assert isinstance(row, prospect_import.ProspectRow) and row.name == "Ada Lovelace"
    [(_line, raw)] = csv_import.read_table(csv_import.decode_text(data)).rows
    assert raw["name"] == "Ada Lovelace"
