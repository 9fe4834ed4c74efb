"""PartnerLifecycleWorkflow: one durable workflow per partner, for the whole partnership."""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from partnerflow.activities.store import StageChange, StoreActivities
    from partnerflow.domain.lifecycle import (
        ApprovalTimings,
        DecisionInput,
        HistoryEntry,
        LifecycleInput,
        LifecycleState,
        PartnerStatus,
    )
    from partnerflow.domain.onboarding import (
        ChecklistUpdate,
        OnboardingTimings,
        PortalLinkRequest,
        TermsAccepted,
        TermsPublished,
        WebinarAttended,
    )
    from partnerflow.domain.review import OffboardInput, PauseInput, TierDecision
    from partnerflow.domain.stages import CHECKLIST_ITEMS, Stage
    from partnerflow.workflows.application import run_application_stage
    from partnerflow.workflows.decisions import ALREADY_DECIDED as ALREADY_DECIDED
    from partnerflow.workflows.decisions import ApplicationDecisions
    from partnerflow.workflows.engagement import run_active_stage
    from partnerflow.workflows.messaging import email_partner
    from partnerflow.workflows.offboarding import run_offboarding
    from partnerflow.workflows.onboarding import run_onboarding_stage
    from partnerflow.workflows.policies import STORE_RETRY, STORE_TIMEOUT
    from partnerflow.workflows.webhooks import publish
    from partnerflow.workflows.webinars import WebinarChanges

HISTORY_KEPT = 100  # timeline entries carried into the next run; Temporal keeps every run's full history


@workflow.defn
class PartnerLifecycleWorkflow(ApplicationDecisions, WebinarChanges):
    """Moves one partner through applied → onboarding → active → reviews, or to rejected."""

    @workflow.init
    def __init__(self, input: LifecycleInput) -> None:
        self.partner_id = input.partner_id
        self.program = input.program
        self.timings: ApprovalTimings = input.approval
        self.onboarding_timings: OnboardingTimings = input.onboarding
        self.tracking_url: str | None = None
        self.offboarded_by = ""
        self.state: LifecycleState = input.state or LifecycleState()
        self.decision: DecisionInput | None = None
        self.tier_proposal: str | None = None
        self.tier_decision: TierDecision | None = None
        self._lock = asyncio.Lock()
        self.webinar_lock = asyncio.Lock()  # one message about a webinar session at a time

    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        if input.state is None:
            self.note("applied", f"program {self.program}")
            await publish("partner.applied", {"program": self.program}, self.partner_id)
        elif input.reapplication:  # a rejected partner applies again: a new decision, same history
            self.note("reapplied", f"program {self.program}, application {self.state.attempt}")
            discriminator = f"attempt-{self.state.attempt}"
            await publish("partner.applied", {"program": self.program}, self.partner_id, discriminator)
        if self.state.stage == Stage.APPLIED:
            await run_application_stage(self)
        if self.state.stage == Stage.REJECTED:
            await self.send_rejection()
        elif self.state.stage == Stage.ONBOARDING:
            await email_partner(self.partner_id, "welcome", "welcome")
            await run_onboarding_stage(self)
        if self.state.stage == Stage.ACTIVE:
            await run_active_stage(self)
            if self.state.stage == Stage.ACTIVE:  # a review is done: start a fresh history
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._continue_as_new(input)
        if self.state.stage == Stage.OFFBOARDED:
            await run_offboarding(self)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    def _continue_as_new(self, input: LifecycleInput) -> None:
        self.state.runs += 1
        self.state.history = self.state.history[-HISTORY_KEPT:]
        workflow.continue_as_new(
            LifecycleInput(
                partner_id=self.partner_id,
                program=self.program,
                approval=input.approval,
                onboarding=input.onboarding,
                state=self.state,
            )
        )

    @workflow.query
    def status(self) -> PartnerStatus:
        return PartnerStatus(
            partner_id=self.partner_id,
            stage=self.state.stage,
            checklist=dict(self.state.checklist),
            tier=self.state.tier,
            history=list(self.state.history),
            paused=self.state.paused,
            tier_proposal=self.tier_proposal if self.tier_decision is None else None,
        )

    async def change_stage(self, stage: Stage) -> None:
        """Move to ``stage``: history, then the store's read model (stage filter, dashboards)."""
        self.state.stage = stage
        self.note("stage", stage.value)
        await workflow.execute_activity_method(
            StoreActivities.record_stage,
            StageChange(partner_id=self.partner_id, stage=stage.value, at=workflow.now()),
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )

    def note(self, event: str, detail: str = "") -> None:
        """Add to the partner's timeline (the ``status`` query's history)."""
        self.state.history.append(HistoryEntry(at=workflow.now().isoformat(), event=event, detail=detail))

    def check(self, item: str, detail: str = "") -> None:
        """Tick an onboarding checklist item (once)."""
        if not self.state.checklist.get(item):
            self.state.checklist[item] = True
            self.note("checklist", f"{item}" + (f": {detail}" if detail else ""))

    # --- active partners ---------------------------------------------------------------------

    @workflow.update
    def decide_tier(self, decision: TierDecision) -> str:
        """A manager confirms or refuses the tier change the last review proposed."""
        self.tier_decision = decision
        return self.tier_proposal or ""

    @decide_tier.validator
    def _validate_tier_decision(self, decision: TierDecision) -> None:
        if self.tier_proposal is None or self.tier_decision is not None:
            raise ApplicationError("no tier change is waiting for a decision", type="NoTierProposal")

    @workflow.update
    def set_paused(self, pause: PauseInput) -> PartnerStatus:
        """Pause (nudges stop) or resume an active partner."""
        if self.state.paused != pause.paused:
            self.state.paused = pause.paused
            self.note("paused" if pause.paused else "resumed", f"by {pause.manager}")
        return self.status()

    @set_paused.validator
    def _validate_pause(self, pause: PauseInput) -> None:
        if self.state.stage != Stage.ACTIVE:
            raise ApplicationError(f"partner is {self.state.stage.value}, not active", type="NotActive")

    @workflow.update
    def offboard(self, request: OffboardInput) -> PartnerStatus:
        """End the partnership; the run loop sends the farewell and deactivates the link."""
        self.state.offboarding_reason = request.reason
        self.note("offboarded", f"by {request.manager}: {request.reason}")
        self.offboarded_by = request.manager
        self.state.stage = Stage.OFFBOARDED
        return self.status()

    @offboard.validator
    def _validate_offboard(self, request: OffboardInput) -> None:
        if self.state.stage not in (Stage.ONBOARDING, Stage.ACTIVE):
            raise ApplicationError(
                f"partner is {self.state.stage.value}; cannot offboard", type="NotOffboardable"
            )
        if not request.reason.strip():
            raise ApplicationError("offboarding needs a reason", type="NotOffboardable")

    # --- onboarding messages ------------------------------------------------------------------

    @workflow.signal
    def terms_accepted(self, accepted: TermsAccepted) -> None:
        """The partner accepted a terms version in the portal (already recorded in the store)."""
        if self.state.terms_version is not None and accepted.version <= self.state.terms_version:
            return
        self.state.terms_version = accepted.version
        if self.state.terms_version_required and accepted.version >= self.state.terms_version_required:
            self.state.terms_version_required = None
        self.note("terms-accepted", f"version {accepted.version}")
        self.state.checklist["terms_accepted"] = True

    @workflow.signal
    async def terms_published(self, published: TermsPublished) -> None:
        """A new terms version: partners who accepted an older one are asked to re-accept."""
        accepted, required = self.state.terms_version, self.state.terms_version_required
        already_known = accepted is None or published.version <= max(accepted, required or 0)
        if already_known or self.state.stage not in (Stage.ONBOARDING, Stage.ACTIVE):
            return
        self.state.terms_version_required = published.version
        self.note("terms-updated", f"version {published.version} to accept")
        await email_partner(
            self.partner_id,
            f"terms-updated:v{published.version}",
            "terms_updated",
            {"version": published.version},
        )

    @workflow.signal
    def webinar_attended(self, attended: WebinarAttended) -> None:
        """Attendance was recorded for a session (already recorded in the store)."""
        if self.state.stage in (Stage.ONBOARDING, Stage.ACTIVE):
            self.check("webinar_attended", f"webinar {attended.webinar_id}")

    @workflow.update
    def complete_checklist_item(self, update: ChecklistUpdate) -> PartnerStatus:
        """A manager marks an item done by hand (e.g. trained in person) or waives the webinar."""
        verb = "waived" if update.waive else "marked done"
        self.check(update.item, f"{verb} by {update.manager}" + (f" ({update.note})" if update.note else ""))
        return self.status()

    @complete_checklist_item.validator
    def _validate_checklist_update(self, update: ChecklistUpdate) -> None:
        if update.item not in CHECKLIST_ITEMS:
            raise ApplicationError(
                f"unknown checklist item {update.item!r}; expected one of {', '.join(CHECKLIST_ITEMS)}",
                type="InvalidChecklistItem",
            )
        if update.waive and update.item != "webinar_attended":
            raise ApplicationError("only the webinar can be waived", type="InvalidChecklistItem")
        if self.state.stage != Stage.ONBOARDING:
            raise ApplicationError(
                f"partner is {self.state.stage.value}, not onboarding", type="NotOnboarding"
            )

    @workflow.update
    async def resend_portal_link(self, request: PortalLinkRequest) -> None:
        """Email a fresh portal link, at most once per day (the key names the day)."""
        self.note("portal-link-requested", f"from the {request.requested_from}")
        day = workflow.now().date().isoformat()
        await email_partner(self.partner_id, f"portal-link:{day}", "portal_link")

    @resend_portal_link.validator
    def _validate_portal_link(self, request: PortalLinkRequest) -> None:
        if self.state.stage not in (Stage.ONBOARDING, Stage.ACTIVE):
            raise ApplicationError(f"partner is {self.state.stage.value}; no portal", type="NoPortal")
