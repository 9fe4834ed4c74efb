"""Which Slack messages carry which buttons, and what the buttons and the offboard modal hold."""

from __future__ import annotations

from datetime import UTC, datetime

from partnerflow.rendering.slack_partner_blocks import (
    ModalTarget,
    TierChoice,
    action_blocks,
    offboard_modal,
    offboarding_outcome,
    read_offboard_view,
    tier_outcome,
)


def buttons(blocks: list[dict]) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    return [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]]


def test_each_question_gets_its_buttons_and_other_messages_none() -> None:
    tier = action_blocks(
        "tier_change_proposed", "text", "p1", {"proposed_tier": "gold", "current_tier": "silver"}
    )
    offboarding = action_blocks("offboarding_proposed", "text", "p1", {"days_inactive": 180})
    application = action_blocks("application_submitted", "text", "p1", {})

    value = TierChoice("p1", "gold").dump()
    assert buttons(tier) == [("confirm_tier", "Confirm gold", value), ("keep_tier", "Keep silver", value)]
    assert TierChoice.load(value) == TierChoice("p1", "gold")
    assert buttons(offboarding) == [("offboard_partner", "Offboard…", "p1"), ("keep_partner", "Keep", "p1")]
    assert [b[0] for b in buttons(application)] == ["approve_application", "reject_application"]
    assert action_blocks("partner_silent", "text", "p1", {}) == []
    assert action_blocks("offboarding_proposed", "text", None, {}) == []
    assert action_blocks("tier_change_proposed", "text", "p1", {}) == []  # no tier to confirm


def test_offboard_modal_round_trip_and_outcomes() -> None:
    target = ModalTarget("p1", "C1", "123.456")
    modal = offboard_modal(target, "Ada <script> (ada@example.com)")
    assert ModalTarget.load(modal["private_metadata"]) == target
    assert "&lt;script&gt;" in modal["blocks"][0]["text"]["text"]
    [reason] = [b for b in modal["blocks"] if b["type"] == "input"]
    assert "optional" not in reason and reason["element"]["max_length"] == 1000
    view = {"state": {"values": {"offboard_reason": {"offboard_reason_input": {"value": "  gone  "}}}}}
    assert read_offboard_view(view) == "gone" and read_offboard_view({}) == ""

    at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert tier_outcome(False, "gold", None, "U1", at).startswith("↩️ Kept at *the current tier* (not gold)")
    assert "\n>a &lt;b&gt;" in offboarding_outcome(True, "U1", at, "a <b>")
