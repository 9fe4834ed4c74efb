"""Recruitment activities: outreach email to prospects (outbox-recorded, once per step) and campaign reads."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from temporalio import activity
from temporalio.exceptions import ApplicationError

from partnerflow.activities.messaging import MessagingActivities, _render_or_fail
from partnerflow.domain.delivery import INVALID_RECIPIENT, NON_RETRYABLE_DELIVERY_ERRORS
from partnerflow.domain.prospects import (
    CampaignBatchQuery,
    CampaignDefinition,
    CampaignProgress,
    CampaignRef,
    MemberOutcome,
    OutreachResult,
    OutreachSend,
    make_outreach_token,
    outreach_key,
)
from partnerflow.observability import metrics
from partnerflow.providers.email import OutboundEmail, message_tags, unsubscribe_headers
from partnerflow.store import outbox
from partnerflow.store import prospects as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import Campaign, Program, Prospect

log = logging.getLogger(__name__)


class RecruitmentActivities(MessagingActivities):
    """Outreach to prospects, who are not partners: same backends, outbox and idempotency as partner email."""

    def activities(self) -> list[Callable[..., Any]]:
        """The methods to register on a worker."""
        return [
            self.send_outreach,
            self.finish_outreach,
            self.load_campaign,
            self.campaign_batch,
            self.campaign_progress,
            self.complete_campaign,
        ]

    @activity.defn(name="send_outreach")
    def send_outreach(self, request: OutreachSend) -> OutreachResult:
        """Send one step, unless the prospect signed up, the address is suppressed or the campaign was
        paused or cancelled by now (answered as the status, nothing sent)."""
        result = self._send_outreach(request)
        metrics.count(metrics.CAMPAIGN_OUTREACH, step=request.step, outcome=result.status)
        return result

    def _send_outreach(self, request: OutreachSend) -> OutreachResult:
        key = outreach_key(request.prospect_id, request.campaign_id, request.step)
        with session_scope(self.engine) as session:
            prospect = session.get(Prospect, request.prospect_id)
            if prospect is None:
                raise ApplicationError(
                    f"prospect {request.prospect_id} not found", type="ProspectNotFound", non_retryable=True
                )
            blocked = store.blocked_reason(session, prospect)
            campaign = session.get(Campaign, request.campaign_id)
            if not blocked and campaign is not None and campaign.status in ("paused", "cancelled"):
                blocked = campaign.status  # a manager's control, before the sequence was told
            program = session.get(Program, prospect.program)
        if blocked:
            log.info("%s not sent: prospect %s is %s", key, prospect.id, blocked)
            return OutreachResult(key, blocked)
        landing = program.landing_url if program else self.settings.default_landing_url
        context = self._outreach_context(
            prospect, program.name if program else prospect.program, landing, request
        )
        rendered = _render_or_fail(lambda: self.renderer.email(request.template, prospect.locale, context))
        draft = outbox.Draft(
            key, "email", prospect.email, request.template, rendered.subject, rendered.text, rendered.html
        )
        email = OutboundEmail(
            key,
            prospect.email,
            prospect.name,
            self.settings.email_from,
            self.settings.email_from_name,
            rendered.subject,
            rendered.text,
            rendered.html,
            headers=unsubscribe_headers(context["unsubscribe_url"]),
            categories=message_tags(request.template),
            metadata={"prospect_id": str(request.prospect_id), "campaign_id": str(request.campaign_id)},
        )
        try:
            delivery = self._deliver(draft, self.email_backend.name, lambda: self.email_backend.send(email))
        except ApplicationError as err:
            if err.type not in NON_RETRYABLE_DELIVERY_ERRORS:
                raise
            return self._undeliverable(prospect, key, err)
        with session_scope(self.engine) as session:
            store.set_member(
                session,
                request.campaign_id,
                request.prospect_id,
                status="in_sequence",
                steps_sent=request.step,
                last_sent_at=request.at,
            )
            fresh = session.get(Prospect, request.prospect_id)
            if fresh is not None and fresh.status == "new":
                fresh.status = "contacted"
                session.add(fresh)
        return OutreachResult(key, delivery.status, delivery.provider_message_id or "")

    def _undeliverable(self, prospect: Prospect, key: str, err: ApplicationError) -> OutreachResult:
        """A hard bounce suppresses the address for good; a provider refusal only ends this sequence.

        A refusal (400/401/403) may be about our account rather than the address, so suppressing
        every recipient of a campaign because of a revoked API key would be wrong.
        """
        if err.type == INVALID_RECIPIENT:
            with session_scope(self.engine) as session:
                store.suppress(session, prospect.email, "bounced")
            return OutreachResult(key, "bounced", err.message)
        log.warning("%s refused by the provider: %s", key, err.message)
        return OutreachResult(key, "failed", err.message)

    def _outreach_context(
        self, prospect: Prospect, program_name: str, landing_url: str, request: OutreachSend
    ) -> dict[str, Any]:
        base = self.settings.public_url.rstrip("/")
        token = make_outreach_token(
            self.settings.portal_signing_key, request.prospect_id, request.campaign_id
        )
        return {
            "prospect": {"name": prospect.name, "company": prospect.company, "email": prospect.email},
            "program": program_name,
            "signup_url": self._signup_url(prospect.program, landing_url),
            "unsubscribe_url": f"{base}/outreach/unsubscribe/{token}",
            "step": request.step,
        }

    def _signup_url(self, program: str, landing_url: str) -> str:
        """PARTNERFLOW_SIGNUP_URL (the company's application form), else the program's landing page."""
        page = self.settings.signup_url or landing_url
        return f"{page}{'&' if '?' in page else '?'}{urlencode({'program': program})}"

    @activity.defn(name="finish_outreach")
    def finish_outreach(self, outcome: MemberOutcome) -> None:
        with session_scope(self.engine) as session:
            prospect = session.get(Prospect, outcome.prospect_id)
            if prospect and outcome.status in ("unsubscribed", "bounced") and prospect.status != "converted":
                prospect.status = outcome.status  # e.g. suppressed through another program's link
                session.add(prospect)
            store.set_member(
                session,
                outcome.campaign_id,
                outcome.prospect_id,
                status=outcome.status,
                steps_sent=outcome.steps_sent,
            )

    @activity.defn(name="load_campaign")
    def load_campaign(self, ref: CampaignRef) -> CampaignDefinition:
        with session_scope(self.engine) as session:
            campaign = session.get(Campaign, ref.campaign_id)
        if campaign is None:
            raise ApplicationError(
                f"campaign {ref.campaign_id} not found", type="CampaignNotFound", non_retryable=True
            )
        return CampaignDefinition(
            ref.campaign_id,
            campaign.program,
            store.campaign_steps(campaign),
            campaign.messages_per_minute,
            campaign.status,
        )

    @activity.defn(name="campaign_batch")
    def campaign_batch(self, query: CampaignBatchQuery) -> list[int]:
        with session_scope(self.engine) as session:
            return store.member_batch(session, query.campaign_id, query.after_prospect_id, query.limit)

    @activity.defn(name="campaign_progress")
    def campaign_progress(self, ref: CampaignRef) -> CampaignProgress:
        with session_scope(self.engine) as session:
            return store.progress(session, ref.campaign_id)

    @activity.defn(name="complete_campaign")
    def complete_campaign(self, ref: CampaignRef) -> None:
        with session_scope(self.engine) as session:
            campaign = session.get(Campaign, ref.campaign_id)
            if campaign is not None and campaign.status in ("running", "paused"):
                campaign.status = "completed"  # every member has settled, even if paused meanwhile
                session.add(campaign)
                metrics.count(metrics.RUNS_COMPLETED, kind="campaign")
