"""Message requests passed from workflows to the messaging activities."""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EmailRequest:
    """Send ``template`` to a partner, at most once per ``idempotency_key``."""

    idempotency_key: str
    partner_id: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    webinar_id: int | None = None  # adds the session as ``webinar`` to the context
    attach_calendar: bool = False  # attaches the session as an .ics invitation
    essential: bool = True  # False: has an unsubscribe link, and is not sent after unsubscribing
    calendar_method: str = "REQUEST"  # the attached .ics: REQUEST (invite, update) or CANCEL
    calendar_sequence: int | None = None  # its SEQUENCE; None: the session's current one


@dataclass
class SlackRequest:
    """Post ``template`` to the managers' channel, at most once per ``idempotency_key``."""

    idempotency_key: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    partner_id: str | None = None


@dataclass
class DeliveryResult:
    idempotency_key: str
    status: str  # "sent" | "duplicate" | "suppressed" (unsubscribed from non-essential email)
    provider_message_id: str | None = None


def message_key(partner_id: str, purpose: str) -> str:
    """Business idempotency key, e.g. ``partner:abc:welcome``."""
    return f"partner:{partner_id}:{purpose}"
