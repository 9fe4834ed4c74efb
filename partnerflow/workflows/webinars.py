"""Rescheduled and cancelled webinar sessions, as the partner's workflow hears of them.

``WebinarChanges`` is a mixin of ``PartnerLifecycleWorkflow`` holding the ``webinar_changed``
signal: it emails the partner a calendar update (``METHOD:REQUEST``, higher ``SEQUENCE``, same
``UID``) or cancellation (``METHOD:CANCEL``) and keeps the latest change per session in the
state, where the onboarding stage (``onboarding._attend``) follows it: a rescheduled session moves
its reminders and no-show deadline, a cancelled one ends the wait and the partner is invited to
the next session without it counting as missed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from partnerflow.domain.onboarding import WebinarChanged, WebinarSession
    from partnerflow.domain.stages import Stage
    from partnerflow.workflows.messaging import email_partner

if TYPE_CHECKING:
    from partnerflow.domain.lifecycle import LifecycleState

# Patch id of the whole change (the handler, and the run loop following what it records). A signal
# that a worker without the handler received (API deployed before the workers) replays as ignored.
WEBINAR_CHANGES = "webinar-changes"


class WebinarChanges:
    """The ``webinar_changed`` signal of ``PartnerLifecycleWorkflow``."""

    if TYPE_CHECKING:  # provided by the workflow class
        partner_id: str
        state: LifecycleState
        webinar_lock: asyncio.Lock

        def note(self, event: str, detail: str = "") -> None: ...

    @workflow.signal
    async def webinar_changed(self, change: WebinarChanged) -> None:
        """A session the partner holds a seat in was rescheduled or cancelled (already in the store)."""
        known = self.state.webinar_changes.get(change.webinar_id)
        if known is not None and change.sequence <= known.sequence:
            return  # delivered twice, or an older change arriving after a newer one
        if self.state.stage not in (Stage.ONBOARDING, Stage.ACTIVE):
            return
        if not workflow.patched(WEBINAR_CHANGES):
            return
        self.state.webinar_changes[change.webinar_id] = change
        self.note(*_timeline_entry(change))
        waiting = self.state.stage == Stage.ONBOARDING and not self.state.checklist.get("webinar_attended")
        async with self.webinar_lock:  # never overtakes (or is overtaken by) this session's invitation
            await email_partner(
                self.partner_id,
                f"webinar-changed:{change.webinar_id}:{change.sequence}",
                "webinar_cancelled" if change.cancelled else "webinar_updated",
                {"moved": change.moved, "reinvite": waiting},
                webinar_id=change.webinar_id,
                attach_calendar=True,
                calendar_method="CANCEL" if change.cancelled else "REQUEST",
                calendar_sequence=change.sequence,
            )


def pending_change(state: LifecycleState, session: WebinarSession) -> WebinarChanged | None:
    """The change to ``session`` the partner heard of since its seat was reserved, if any."""
    change = state.webinar_changes.get(session.webinar_id)
    return change if change is not None and change.sequence > session.sequence else None


def _timeline_entry(change: WebinarChanged) -> tuple[str, str]:
    detail = f"webinar {change.webinar_id} (sequence {change.sequence})"
    if change.cancelled:
        return "webinar-cancelled", detail + (f": {change.reason}" if change.reason else "")
    if change.moved and change.starts_at is not None:
        return "webinar-rescheduled", f"{detail} to {change.starts_at.isoformat()}"
    return "webinar-updated", detail
