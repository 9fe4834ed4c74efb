"""Messaging activities: render, record in the outbox, deliver once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from partnerflow.config import Settings
from partnerflow.domain.delivery import (
    INVALID_RECIPIENT,
    MAX_PROVIDER_RETRY_AFTER_SECONDS,
    PROVIDER_THROTTLED,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from partnerflow.domain.messages import DeliveryResult, EmailRequest, SlackRequest
from partnerflow.observability import metrics
from partnerflow.providers.email import (
    EmailAttachment,
    EmailBackend,
    OutboundEmail,
    message_tags,
    unsubscribe_headers,
)
from partnerflow.providers.slack import OutboundSlack, SlackBackend
from partnerflow.rendering.calendar import METHODS, webinar_context, webinar_ics
from partnerflow.rendering.slack_partner_blocks import action_blocks
from partnerflow.rendering.templates import Renderer, TemplateError
from partnerflow.rendering.tokens import make_portal_token, make_unsubscribe_token
from partnerflow.store import outbox
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, Webinar

log = logging.getLogger(__name__)


class MessagingActivities:
    """Email to partners and Slack to managers, each message at most once per idempotency key."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        email_backend: EmailBackend,
        slack_backend: SlackBackend,
        renderer: Renderer | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.email_backend = email_backend
        self.slack_backend = slack_backend
        self.renderer = renderer or Renderer()

    @activity.defn(name="send_email")
    def send_email(self, request: EmailRequest) -> DeliveryResult:
        partner = self._partner(request.partner_id)
        context = self._partner_context(partner) | request.context
        if not request.essential:
            if partner.unsubscribed_at is not None:
                log.info("%s not sent: partner %s unsubscribed", request.idempotency_key, partner.id)
                metrics.count(metrics.NUDGES, template=request.template, outcome="suppressed")
                return DeliveryResult(request.idempotency_key, "suppressed")
            token = make_unsubscribe_token(self.settings.portal_signing_key, partner.id)
            context["unsubscribe_url"] = f"{self.settings.public_url.rstrip('/')}/unsubscribe/{token}"
        attachments: list[EmailAttachment] = []
        if request.webinar_id is not None:
            webinar = self._webinar(request.webinar_id)
            context["webinar"] = webinar_context(webinar, partner.locale)
            if request.attach_calendar:
                attachments.append(self._calendar(request, webinar, partner))
        rendered = _render_or_fail(lambda: self.renderer.email(request.template, partner.locale, context))
        draft = outbox.Draft(
            idempotency_key=request.idempotency_key,
            channel="email",
            recipient=partner.email,
            template=request.template,
            subject=rendered.subject,
            body_text=rendered.text,
            body_html=rendered.html,
            partner_id=partner.id,
        )
        email = OutboundEmail(
            idempotency_key=request.idempotency_key,
            to=partner.email,
            to_name=partner.name,
            from_email=self.settings.email_from,
            from_name=self.settings.email_from_name,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            attachments=attachments,
            headers=unsubscribe_headers(context["unsubscribe_url"]) if "unsubscribe_url" in context else {},
            categories=message_tags(request.template),
            metadata={"partner_id": partner.id},
        )

        def send() -> str | None:
            try:
                validate_email(partner.email, check_deliverability=False)
            except EmailNotValidError as exc:
                raise PermanentDeliveryError(
                    INVALID_RECIPIENT, f"invalid address {partner.email!r}: {exc}"
                ) from exc
            return self.email_backend.send(email)

        if request.essential:
            return self._deliver(draft, self.email_backend.name, send)
        try:  # a nudge: counted as such too
            result = self._deliver(draft, self.email_backend.name, send)
        except Exception:
            metrics.count(metrics.NUDGES, template=request.template, outcome="failed")
            raise
        if result.status == "sent":
            metrics.count(metrics.NUDGES, template=request.template, outcome="sent")
        return result

    @activity.defn(name="notify_managers")
    def notify_managers(self, request: SlackRequest) -> DeliveryResult:
        context: dict[str, Any] = {"settings": self._public_settings()}
        if request.partner_id:
            context |= self._partner_context(self._partner(request.partner_id))
        context |= request.context
        text = _render_or_fail(lambda: self.renderer.slack(request.template, context))
        channel = self.settings.slack_channel
        draft = outbox.Draft(
            idempotency_key=request.idempotency_key,
            channel="slack",
            recipient=channel,
            template=request.template,
            subject="",
            body_text=text,
            partner_id=request.partner_id,
        )
        blocks = action_blocks(request.template, text, request.partner_id, request.context)
        message = OutboundSlack(request.idempotency_key, channel, text, blocks)
        return self._deliver(draft, self.slack_backend.name, lambda: self.slack_backend.post(message))

    def _deliver(self, draft: outbox.Draft, backend: str, send: Any) -> DeliveryResult:
        key = draft.idempotency_key
        with session_scope(self.engine) as session:
            record = outbox.claim(session, draft, backend)
            if record.status == "sent":
                log.info("message %s already sent; not sending again", key)
                return DeliveryResult(key, "duplicate", record.provider_message_id)
        labels = {"channel": draft.channel, "template": draft.template, "backend": backend}
        try:
            provider_id = send()
        except PermanentDeliveryError as exc:
            metrics.count(metrics.MESSAGES_FAILED, **labels, permanent="true")
            self._note_failure(key, str(exc), permanent=True)
            raise ApplicationError(str(exc), type=exc.kind, non_retryable=True) from exc
        except TransientDeliveryError as exc:
            self._note_failure(key, str(exc), permanent=False)
            raise throttled(exc) from exc
        except Exception as exc:
            metrics.count(metrics.MESSAGES_FAILED, **labels, permanent="false")
            self._note_failure(key, f"{type(exc).__name__}: {exc}", permanent=False)
            raise
        with session_scope(self.engine) as session:
            outbox.mark_sent(session, key, provider_id)
        log.info("%s %s sent via %s (%s)", draft.channel, key, backend, draft.template)
        metrics.count(metrics.MESSAGES_SENT, **labels)
        return DeliveryResult(key, "sent", provider_id)

    def _note_failure(self, key: str, error: str, permanent: bool) -> None:
        log.warning("delivery of %s failed (%s): %s", key, "permanent" if permanent else "will retry", error)
        with session_scope(self.engine) as session:
            outbox.mark_failed(session, key, error, permanent=permanent)

    def _partner(self, partner_id: str) -> Partner:
        with session_scope(self.engine) as session:
            partner = session.get(Partner, partner_id)
        if partner is None:
            raise ApplicationError(
                f"partner {partner_id} not found", type="PartnerNotFound", non_retryable=True
            )
        return partner

    def _webinar(self, webinar_id: int) -> Webinar:
        with session_scope(self.engine) as session:
            webinar = session.get(Webinar, webinar_id)
        if webinar is None:
            raise ApplicationError(
                f"webinar {webinar_id} not found", type="WebinarNotFound", non_retryable=True
            )
        return webinar

    def _calendar(self, request: EmailRequest, webinar: Webinar, partner: Partner) -> EmailAttachment:
        """The session as an .ics: an invitation or update (REQUEST) or its cancellation (CANCEL)."""
        method = request.calendar_method
        if method not in METHODS:
            raise ApplicationError(
                f"unknown calendar method {method!r}", type="TemplateError", non_retryable=True
            )
        sequence = webinar.sequence if request.calendar_sequence is None else request.calendar_sequence
        ics = webinar_ics(
            webinar, partner.email, partner.name, self.settings, method=method, sequence=sequence
        )
        # A bare media type: the METHOD is inside the .ics, and SendGrid refuses parameters in an
        # attachment type.
        return EmailAttachment("cancel.ics" if method == "CANCEL" else "invite.ics", "text/calendar", ics)

    def _partner_context(self, partner: Partner) -> dict[str, Any]:
        token = make_portal_token(self.settings.portal_signing_key, partner.id)
        return {
            "partner": partner.model_dump(mode="json"),
            "portal_url": self.settings.portal_url(token),
            "dashboard_url": f"{self.settings.public_url.rstrip('/')}/dashboard/partners/{partner.id}",
            "api_url": f"{self.settings.public_url.rstrip('/')}/partners/{partner.id}",
            "workflow_url": _workflow_url(self.settings, partner.id),
        }

    def _public_settings(self) -> dict[str, str]:
        return {
            "public_url": self.settings.public_url,
            "temporal_ui_url": self.settings.temporal_ui_url,
        }


def _workflow_url(settings: Settings, partner_id: str) -> str:
    return (
        f"{settings.temporal_ui_url.rstrip('/')}/namespaces/{settings.temporal_namespace}"
        f"/workflows/partner-{partner_id}"
    )


def throttled(exc: TransientDeliveryError) -> Exception:
    """A transient failure for Temporal to retry; after the provider's own wait, when it gave one.

    ``next_retry_delay`` replaces the retry policy's backoff for this attempt only, capped at
    5 minutes; without a wait from the provider the exception goes on as it is.
    """
    if exc.retry_after is None:
        return exc
    delay = min(max(exc.retry_after, 1.0), MAX_PROVIDER_RETRY_AFTER_SECONDS)
    return ApplicationError(str(exc), type=PROVIDER_THROTTLED, next_retry_delay=timedelta(seconds=delay))


def _render_or_fail(render: Any) -> Any:
    try:
        return render()
    except TemplateError as exc:
        raise ApplicationError(str(exc), type="TemplateError", non_retryable=True) from exc
