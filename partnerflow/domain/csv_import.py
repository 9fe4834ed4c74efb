"""Reading spreadsheet exports, shared by the prospect and partner-migration importers (no I/O).

Decoding (UTF-8 with or without BOM, else the Windows code page spreadsheets still save), the
separator (comma, semicolon or tab), header keys that ignore case and punctuation, and finding
the email column by its values when no header names it (PartnerStack's "All partners" export
puts the address in "Owner").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field

EMAIL_SAMPLE = 200  # non-empty cells looked at per column when guessing the email column
EMAIL_SHARE = 0.8  # share of those that must hold an address
# Addresses that are not the partner's own: payouts, the referrer in a multi-level program, managers.
NOT_THE_PARTNERS = re.compile(r"paypal|wise|payout|parent|manager|referr|customer|billing|invoice")
_ADDRESS = re.compile(r"[^@\s<>()\[\],;:\"']+@[^@\s<>()\[\],;:\"']+\.[^@\s<>()\[\],;:\"'.]+")


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported (unreadable, no header, no email column, bad mapping)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (spreadsheet row, cells)


@dataclass
class EmailGuess:
    """A column whose values are email addresses, found when no header says ``email``."""

    column: str
    matched: int  # cells holding an address, of
    sampled: int  # the non-empty cells looked at

    @property
    def note(self) -> str:
        return (
            f"email taken from column {self.column!r}: its values are addresses "
            f"({self.matched} of {self.sampled} sampled)"
        )


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not), else cp1252, else Latin-1 (which reads any byte); NUL dropped (it is
    never data, and PostgreSQL cannot store it)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding).replace("\x00", "")
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").replace("\x00", "")


def header_key(header: str) -> str:
    """``"Links[0].Token"`` → ``"links token"``: lower case; ``_ - . /`` and runs of spaces as one space.

    Index parts (``[0]``, ``[]``, ``.0.``) go, so a flattened API export's ``links[].token`` or
    ``links.0.token`` match ``links token``.
    """
    key = re.sub(r"\[\d*\]", " ", header.strip().lower())
    key = re.sub(r"(?<=\.)\d+(?=\.|$)", " ", key)
    return " ".join(re.sub(r"[\s_\-./]+", " ", key).split())


def read_table(text: str) -> Table:
    """Header row and data rows (blank rows skipped, numbered as a spreadsheet numbers them)."""
    header_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        raw_headers = next(reader, None)
        while raw_headers is not None and not any(cell.strip() for cell in raw_headers):
            raw_headers = next(reader, None)
        if not raw_headers:
            raise CsvFormatError("the file is empty or has no header row")
        headers = [h.strip() for h in raw_headers]
        table = Table([h for h in headers if h])
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            row: dict[str, str] = {}
            for header, cell in zip(headers, cells, strict=False):
                if header and header not in row:  # a repeated header: the first column wins
                    row[header] = cell
            table.rows.append((number, row))
    except csv.Error as exc:  # e.g. a field over 128 KiB
        raise CsvFormatError(f"line {reader.line_num} is not readable CSV: {exc}") from None
    return table


def email_in(cell: str) -> str | None:
    """The one address in a cell: ``a@b.io``, ``Ada <a@b.io>`` or ``Ada (a@b.io)``; else None."""
    found = _ADDRESS.findall(cell)
    return found[0] if len(found) == 1 else None


def find_email_column(table: Table, exclude: Collection[str] = ()) -> EmailGuess | None:
    """The column whose values are addresses (most of them, the best share wins, then the leftmost).

    Columns in ``exclude`` (already mapped to another field) and columns named for someone else's
    address (PayPal, payouts, a parent affiliate, a manager) are never taken.
    """
    best: EmailGuess | None = None
    for header in table.headers:
        if header in exclude or NOT_THE_PARTNERS.search(header_key(header)):
            continue
        values = [v for _, row in table.rows if (v := row.get(header, "").strip())][:EMAIL_SAMPLE]
        if not values:
            continue
        matched = sum(1 for value in values if email_in(value))
        if matched / len(values) >= EMAIL_SHARE and (
            best is None or matched / len(values) > best.matched / best.sampled
        ):
            best = EmailGuess(header, matched, len(values))
    return best


def attendance_from_export(text: str) -> tuple[list[str], list[str]]:
    """``(emails, partner ids)`` from a meeting tool's attendance export: its ``email`` and/or
    ``partner_id`` column (any case or punctuation), else the column whose values are addresses
    (Zoom's "User Email", say)."""
    table = read_table(text)
    keys = {header_key(header): header for header in table.headers}
    email, partner = keys.get("email") or keys.get("e mail"), keys.get("partner id") or keys.get("partnerid")
    if not email and not partner:
        guess = find_email_column(table)
        if guess is None:
            raise CsvFormatError("the export has no email or partner_id column, nor a column of addresses")
        found = (email_in(cells.get(guess.column, "")) for _, cells in table.rows)
        return [address for address in found if address], []
    emails = [cells.get(email, "").strip() for _, cells in table.rows] if email else []
    ids = [cells.get(partner, "").strip() for _, cells in table.rows] if partner else []
    return [e for e in emails if e], [i for i in ids if i]


def attendance_from_list(text: str) -> tuple[list[str], list[str]]:
    """``(emails, partner ids)`` typed one a line (or comma-separated): an address is an email."""
    values = [value.strip() for line in text.splitlines() for value in line.replace(";", ",").split(",")]
    return [v for v in values if v and "@" in v], [v for v in values if v and "@" not in v]
