"""Block Kit for the managers' channel: decision buttons, the decided message, the reject modal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

APPROVE_ACTION = "approve_application"
REJECT_ACTION = "reject_application"
REJECT_VIEW = "reject_application"  # callback_id of the modal
REASON_BLOCK, REASON_INPUT = "reason", "reason_input"
SHARE_BLOCK, SHARE_INPUT = "share", "share_input"
SHARE_VALUE = "share_reason"
REASON_MAX = 2000

# Templates whose message asks for a decision on the partner it is about.
DECISION_TEMPLATES = frozenset({"application_submitted", "approval_reminder", "approval_escalation"})
SECTION_LIMIT = 3000  # Slack's limit for a section's text


def text_sections(text: str) -> list[dict[str, Any]]:
    """``text`` as mrkdwn sections, split at line breaks so each stays within Slack's limit."""
    lines = [
        line[i : i + SECTION_LIMIT]
        for line in text.strip().splitlines()
        for i in range(0, max(len(line), 1), SECTION_LIMIT)
    ]
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > SECTION_LIMIT:
            chunks.append(current)
            candidate = line
        current = candidate
    chunks.append(current)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks if c.strip()]


def decision_blocks(text: str, partner_id: str) -> list[dict[str, Any]]:
    """The template's text, then Approve / Reject buttons for ``partner_id``."""
    return [
        *text_sections(text),
        {
            "type": "actions",
            "block_id": f"decision:{partner_id}",
            "elements": [
                _button("Approve", APPROVE_ACTION, partner_id, "primary"),
                _button("Reject", REJECT_ACTION, partner_id, "danger"),
            ],
        },
    ]


def decided_blocks(text: str, outcome: str) -> list[dict[str, Any]]:
    """The original text without buttons, and who decided what, when."""
    return [*text_sections(text), {"type": "section", "text": {"type": "mrkdwn", "text": outcome}}]


def outcome_line(
    approved: bool, user_id: str, at: datetime, reason: str | None = None, shared: bool = False
) -> str:
    """``✅ Approved by <@U…> at <time>`` (the time shown in each reader's own timezone)."""
    fallback = f"{at:%Y-%m-%d %H:%M} UTC"
    when = f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"
    line = f"{'✅ Approved' if approved else '❌ Rejected'} by <@{user_id}> at {when}"
    if reason:
        line += f"\n>{escape(reason)}\n_{'shared with' if shared else 'not shared with'} the applicant_"
    return line


def escape(text: str) -> str:
    """Escape &, < and > as Slack's mrkdwn requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class ModalTarget:
    """What a modal (reject, offboard) is about: the partner, and the message to update afterwards."""

    partner_id: str
    channel: str
    ts: str

    def dump(self) -> str:
        return json.dumps({"partner_id": self.partner_id, "channel": self.channel, "ts": self.ts})

    @classmethod
    def load(cls, metadata: str) -> ModalTarget:
        data = json.loads(metadata)
        return cls(str(data["partner_id"]), str(data["channel"]), str(data["ts"]))


def reject_modal(target: ModalTarget, applicant: str) -> dict[str, Any]:
    """Modal asking for an optional reason and whether to share it with the applicant."""
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": target.dump(),
        "title": {"type": "plain_text", "text": "Reject application"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Reject the application from *{escape(applicant)}*?"},
            },
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Reason"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": REASON_MAX,
                },
            },
            {
                "type": "input",
                "block_id": SHARE_BLOCK,
                "optional": True,
                "label": {"type": "plain_text", "text": "Applicant"},
                "element": {
                    "type": "checkboxes",
                    "action_id": SHARE_INPUT,
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Share the reason with the applicant"},
                            "value": SHARE_VALUE,
                        }
                    ],
                },
            },
        ],
    }


def read_reject_view(view: dict[str, Any]) -> tuple[str | None, bool]:
    """The reason (None if blank) and the share checkbox from a submitted reject modal."""
    values = view.get("state", {}).get("values", {})
    reason = (values.get(REASON_BLOCK, {}).get(REASON_INPUT, {}).get("value") or "").strip()
    selected = values.get(SHARE_BLOCK, {}).get(SHARE_INPUT, {}).get("selected_options") or []
    share = any(option.get("value") == SHARE_VALUE for option in selected)
    return reason or None, share


def _button(label: str, action_id: str, value: str, style: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
        "style": style,
    }
