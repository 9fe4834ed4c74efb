"""Reading exports: encodings, separators, header keys, and the email column found by its values."""

from __future__ import annotations

import pytest

from partnerflow.domain.csv_import import (
    CsvFormatError,
    decode_text,
    email_in,
    find_email_column,
    header_key,
    read_table,
)


def test_decoding_and_separators() -> None:
    assert decode_text("\ufeffemail;name\n".encode()) == "email;name\n"
    assert decode_text("Müller".encode("cp1252")) == "Müller"
    assert decode_text(b"\x81\x8d") == "\x81\x8d"  # undefined in cp1252: Latin-1 still reads it
    table = read_table("email\tname\n\na@x.io\tAda\n\nb@x.io\tBob\n")
    assert table.headers == ["email", "name"]
    assert table.rows == [
        (3, {"email": "a@x.io", "name": "Ada"}),
        (5, {"email": "b@x.io", "name": "Bob"}),
    ]  # as numbered
    with pytest.raises(CsvFormatError, match="empty"):
        read_table("\n\n")


def test_header_keys_ignore_case_punctuation_and_indexes() -> None:
    assert header_key(" Affiliate E-mail ") == "affiliate e mail"
    assert header_key("links[].token") == header_key("links[0].token") == header_key("links.0.token")
    assert header_key("links.0.token") == "links token"
    assert header_key("referral_link.link") == "referral link link"
    assert header_key("Paid  customers") == "paid customers"


def test_one_address_per_cell() -> None:
    assert email_in("anna@kowalska-media.pl") == "anna@kowalska-media.pl"
    assert email_in("Ben Carter <ben@carterreviews.com>") == "ben@carterreviews.com"
    assert email_in("Ben (ben@carterreviews.com)") == "ben@carterreviews.com"
    assert email_in("ivan(at)example.com") is None
    assert email_in("a@x.io, b@y.io") is None  # two people: not a partner's address


def test_the_email_column_is_found_by_its_values() -> None:
    text = (
        "Partner,Owner,PayPal,Revenue\n"
        "Kowalska Media,anna@kowalska-media.pl,pay@kowalska-media.pl,10\n"
        "Carter Reviews,Ben Carter <ben@carterreviews.com>,pay@carter.com,5\n"
        "Petrov Tech,ivan.petrov(at)example.com,,1\n"
        "Lee,grace@example.com,,0\n"
        "Haddad,farid@haddad.io,,0\n"
    )
    guess = find_email_column(read_table(text))
    assert guess is not None and (guess.column, guess.matched, guess.sampled) == ("Owner", 4, 5)
    assert guess.note.startswith("email taken from column 'Owner': its values are addresses")
    assert find_email_column(read_table(text), exclude={"Owner"}) is None  # PayPal is never the partner's
    assert find_email_column(read_table("name,company\nAda,Engines\n")) is None


def test_attendance_from_an_export_or_a_typed_list() -> None:
    from partnerflow.domain.csv_import import attendance_from_export, attendance_from_list

    zoom = "Name (original name);User Email;Join time\nAda;ada@example.com;10:00\nBob;;10:01\n"
    assert attendance_from_export(zoom) == (["ada@example.com"], [])  # the column of addresses
    both = "Name,E-mail,Partner ID\nAda,ada@example.com,\nBob,,p2\n"
    assert attendance_from_export(both) == (["ada@example.com"], ["p2"])
    assert attendance_from_export("email\tminutes\nada@example.com\t55\n") == (["ada@example.com"], [])
    with pytest.raises(CsvFormatError, match="no email or partner_id column"):
        attendance_from_export("name,minutes\nAda,55\n")
    typed = "ada@example.com\np2, bob@example.com\n\n"
    assert attendance_from_list(typed) == (["ada@example.com", "bob@example.com"], ["p2"])
    assert attendance_from_list("  \n") == ([], [])
