"""Block Kit for active partners: the tier-proposal and offboarding-proposal buttons, the offboard modal.

Like the application buttons (``slack_blocks``), each button names the partner it is about; the
tier buttons also name the proposed tier, so a click on an old proposal never settles a newer one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from partnerflow.rendering.slack_blocks import (
    DECISION_TEMPLATES,
    ModalTarget,
    decision_blocks,
    escape,
    text_sections,
)

CONFIRM_TIER_ACTION = "confirm_tier"
KEEP_TIER_ACTION = "keep_tier"
OFFBOARD_ACTION = "offboard_partner"
KEEP_PARTNER_ACTION = "keep_partner"
OFFBOARD_VIEW = "offboard_partner"  # callback_id of the modal
OFFBOARD_REASON_BLOCK, OFFBOARD_REASON_INPUT = "offboard_reason", "offboard_reason_input"
OFFBOARD_REASON_MAX = 1000  # as POST /partners/{id}/offboard

TIER_TEMPLATES = frozenset({"tier_change_proposed"})
OFFBOARDING_TEMPLATES = frozenset({"offboarding_proposed"})


def action_blocks(
    template: str, text: str, partner_id: str | None, context: dict[str, Any]
) -> list[dict[str, Any]]:
    """Buttons for the messages that ask managers something about one partner; none for the rest."""
    if not partner_id:
        return []
    if template in DECISION_TEMPLATES:
        return decision_blocks(text, partner_id)
    if template in TIER_TEMPLATES and context.get("proposed_tier"):
        current = context.get("current_tier")
        return tier_blocks(text, partner_id, str(context["proposed_tier"]), str(current) if current else None)
    if template in OFFBOARDING_TEMPLATES:
        return offboarding_blocks(text, partner_id)
    return []


@dataclass(frozen=True)
class TierChoice:
    """What a tier button is about: the partner, and the tier the review proposed."""

    partner_id: str
    proposed: str

    def dump(self) -> str:
        return json.dumps({"p": self.partner_id, "t": self.proposed}, separators=(",", ":"))

    @classmethod
    def load(cls, value: str) -> TierChoice:
        data = json.loads(value)
        return cls(str(data["p"]), str(data["t"]))


def tier_blocks(text: str, partner_id: str, proposed: str, current: str | None) -> list[dict[str, Any]]:
    """The proposal's text, then Confirm <tier> / Keep <current tier> buttons."""
    value = TierChoice(partner_id, proposed).dump()
    return [
        *text_sections(text),
        {
            "type": "actions",
            "block_id": f"tier:{partner_id}",
            "elements": [
                _button(f"Confirm {proposed}", CONFIRM_TIER_ACTION, value, "primary"),
                _button(f"Keep {current or 'current tier'}", KEEP_TIER_ACTION, value),
            ],
        },
    ]


def offboarding_blocks(text: str, partner_id: str) -> list[dict[str, Any]]:
    """The suggestion's text, then Offboard… (a modal asks the reason) / Keep buttons."""
    return [
        *text_sections(text),
        {
            "type": "actions",
            "block_id": f"offboarding:{partner_id}",
            "elements": [
                _button("Offboard…", OFFBOARD_ACTION, partner_id, "danger"),
                _button("Keep", KEEP_PARTNER_ACTION, partner_id),
            ],
        },
    ]


def when(at: datetime) -> str:
    """A time each reader sees in their own timezone, with a UTC fallback."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def tier_outcome(confirmed: bool, proposed: str, current: str | None, user_id: str, at: datetime) -> str:
    if confirmed:
        return f"✅ Tier change to *{escape(proposed)}* confirmed by <@{user_id}> at {when(at)}"
    kept = escape(current or "the current tier")
    return f"↩️ Kept at *{kept}* (not {escape(proposed)}) by <@{user_id}> at {when(at)}"


def offboarding_outcome(offboarded: bool, user_id: str, at: datetime, reason: str = "") -> str:
    if offboarded:
        return f"👋 Offboarded by <@{user_id}> at {when(at)}\n>{escape(reason)}"
    return f"👍 Kept by <@{user_id}> at {when(at)}: no change"


def offboard_modal(target: ModalTarget, partner: str) -> dict[str, Any]:
    """Modal asking why the partnership ends (required)."""
    consequences = (
        f"Offboard *{escape(partner)}*? They get a farewell email, their tracking link stops "
        "earning commission, and their workflow ends. This cannot be undone."
    )
    return {
        "type": "modal",
        "callback_id": OFFBOARD_VIEW,
        "private_metadata": target.dump(),
        "title": {"type": "plain_text", "text": "Offboard partner"},
        "submit": {"type": "plain_text", "text": "Offboard"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": consequences}},
            {
                "type": "input",
                "block_id": OFFBOARD_REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": OFFBOARD_REASON_INPUT,
                    "multiline": True,
                    "max_length": OFFBOARD_REASON_MAX,
                },
            },
        ],
    }


def read_offboard_view(view: dict[str, Any]) -> str:
    """The reason typed in a submitted offboard modal ("" if blank)."""
    values = view.get("state", {}).get("values", {})
    block = values.get(OFFBOARD_REASON_BLOCK, {}).get(OFFBOARD_REASON_INPUT, {})
    return str(block.get("value") or "").strip()


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:75]},
        "action_id": action_id,
        "value": value,
    }
    return button | ({"style": style} if style else {})
