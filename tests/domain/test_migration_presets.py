"""Each platform's export mapped by its preset: which column feeds which field, and how that was found."""

from __future__ import annotations

from pathlib import Path

import pytest

from partnerflow.domain.csv_import import decode_text, read_table
from partnerflow.domain.migration import MigrationRow, Source, code_in_link, old_codes, parse_row
from partnerflow.domain.migration_presets import ExportMapping, MappingError, parse_mapping, resolve_columns

FIXTURES = Path(__file__).parents[1] / "fixtures"


def mapping_of(name: str, source: Source, overrides: dict[str, str] | None = None) -> ExportMapping:
    return resolve_columns(read_table(decode_text((FIXTURES / name).read_bytes())), source, overrides or {})


def how(mapping: ExportMapping) -> dict[str, tuple[str | None, str | None]]:
    return {m.column: (m.field, m.detected_by) for m in mapping.matches}


def test_partnerstack_all_partners_export_takes_the_email_from_owner() -> None:
    mapping = mapping_of("migration_partnerstack_all_partners.csv", Source.PARTNERSTACK)

    assert how(mapping) == {
        "Partner": ("name", "preset"), "Owner": ("email", "values"), "Group": ("tier", "preset"),
        "Signups": (None, None), "Paid customers": ("conversions", "preset"), "Revenue": ("revenue", "preset"),
        "Last active": (None, None), "Signed up": ("joined_at", "preset"),
    }  # fmt: skip
    assert mapping.notes[0] == "email taken from column 'Owner': its values are addresses (8 of 9 sampled)"
    assert "no tracking code column" in mapping.notes[1]
    owner = next(m for m in mapping.matches if m.column == "Owner")
    assert owner.note == mapping.notes[0]


def test_partnerstack_partner_records_export() -> None:
    mapping = mapping_of("migration_partnerstack.csv", Source.PARTNERSTACK)
    assert mapping.columns == {
        "email": "Email", "first_name": "First Name", "last_name": "Last Name", "company": "Company",
        "tier": "Group", "revenue": "Total Revenue", "conversions": "Customers",
        "tracking_code": "Partner Key", "joined_at": "Created At",
    }  # fmt: skip
    assert how(mapping)["Email"] == ("email", "preset") and how(mapping)["First Name"] == (
        "first_name",
        "header",
    )
    assert mapping.notes == []


def test_rewardful_api_and_migration_exports() -> None:
    api = mapping_of("migration_rewardful_api.csv", Source.REWARDFUL)
    assert api.columns["tracking_code"] == "links[].token" and api.columns["tier"] == "campaign.name"
    assert api.columns["email"] == "email" and api.columns["conversions"] == "conversions"
    assert "paypal_email" not in api.columns.values() and "id" not in api.columns.values()
    assert api.notes == ["no revenue column: segments follow conversions"]
    migration = mapping_of("migration_rewardful_migration.csv", Source.REWARDFUL)
    assert migration.columns == {"email": "email", "first_name": "first_name", "last_name": "last_name",
                                 "tracking_code": "token"}  # fmt: skip
    assert how(migration)["stripe_customer_id"] == (None, None)  # the referred customer's, not the partner's


def test_tapfiliate_api_export_reads_codes_from_referral_links() -> None:
    mapping = mapping_of("migration_tapfiliate_api.csv", Source.TAPFILIATE)
    assert (
        mapping.columns["tracking_code"] == "referral_link" and how(mapping)["referral_link"][1] == "preset"
    )
    assert mapping.columns["tier"] == "group.name" and mapping.columns["company"] == "company.name"
    assert "parent.email" not in mapping.columns.values()
    assert (
        mapping_of("migration_tapfiliate.csv", Source.TAPFILIATE).columns["tracking_code"] == "referral_code"
    )


def test_explicit_mapping_wins_and_bad_mappings_are_refused() -> None:
    mapping = mapping_of("migration_generic.csv", Source.GENERIC, parse_mapping(["Level=segment"]))
    assert how(mapping)["Level"] == ("segment", "map")  # taken from the "tier" it would have fed
    assert how(mapping)["Affiliate E-mail"] == ("email", "values")
    with pytest.raises(MappingError, match="not in the file"):
        mapping_of("migration_generic.csv", Source.GENERIC, {"email": "Mail"})
    with pytest.raises(MappingError, match="bad mapping"):
        parse_mapping(["Level=rank"])
    with pytest.raises(MappingError, match="no email column"):
        resolve_columns(read_table("name,company\nAda,Engines\n"), Source.GENERIC, {})


def test_codes_in_cells_and_links() -> None:
    assert old_codes("adam") == ["adam"]
    assert old_codes("adam; adam-yt,adam") == ["adam", "adam-yt"]
    assert old_codes('["adam", "adam-yt"]') == ["adam", "adam-yt"]
    assert old_codes("http://www.example.com/?via=adam") == ["adam"]
    assert code_in_link("https://www.example.com/pricing?ref=klaus&tap_s=120-abc") == "klaus"
    assert code_in_link("https://www.example.com/?tap_a=30-abc") is None
    assert old_codes("") == []


def test_rows_keep_every_code_and_note_a_link_without_one() -> None:
    columns = {"email": "Owner", "tracking_code": "links", "conversions": "Paid"}
    row = parse_row(2, {"Owner": "Ada <ADA@x.io>", "links": "ada;ada-2", "Paid": "1,234"}, columns)
    assert isinstance(row, MigrationRow)
    assert (row.email, row.tracking_code, row.other_codes, row.conversions) == (
        "ada@x.io",
        "ada",
        ["ada-2"],
        1234,
    )
    anonymous = parse_row(3, {"Owner": "bo@x.io", "links": "https://x.io/?tap_a=1"}, columns)
    assert isinstance(anonymous, MigrationRow) and anonymous.tracking_code is None
    assert anonymous.notes == [
        "no code in 'https://x.io/?tap_a=1' (no ?ref= or ?via=): the partner gets a new link"
    ]
