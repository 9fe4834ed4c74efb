"""Migration activities: start migrated partners' lifecycles and message them, a chunk per call.

A 10,000-partner base is 50 calls of 200, not 10,000 activities in the migration's history.
Every step is idempotent (lifecycle ids are business keys, messages have outbox keys), so a
retried chunk resumes from its last heartbeat and repeats nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from partnerflow.activities.messaging import MessagingActivities
from partnerflow.config import Settings
from partnerflow.domain.lifecycle import HistoryEntry, LifecycleState
from partnerflow.domain.messages import EmailRequest, SlackRequest, message_key
from partnerflow.domain.migration import SOURCE_NAMES, PhaseProgress, Source
from partnerflow.domain.stages import Stage
from partnerflow.observability import metrics
from partnerflow.store import migration_import as store
from partnerflow.store.db import session_scope
from partnerflow.store.models import MigratedPartner, MigrationRun, Partner
from partnerflow.store.partners import set_stage

log = logging.getLogger(__name__)
STARTS_AT_ONCE = 20  # lifecycle starts in flight together, and partners per heartbeat


class StartPartner(Protocol):
    """Starts a partner's lifecycle workflow; False if it exists (``services.temporal.PartnerStarter``)."""

    async def __call__(self, client: Any, partner_id: str, program: str, state: LifecycleState) -> bool: ...


@dataclass
class PhaseBatch:
    """Start the next ``limit`` members of ``phase`` after ``MigratedPartner.id`` ``after_id``."""

    run_id: int
    phase: int
    after_id: int = 0
    limit: int = 200


@dataclass
class NudgeBatch:
    """Remind the next ``limit`` started, not-yet-accepted members of ``phases``."""

    run_id: int
    phases: list[int]
    purpose: str  # idempotency: one reminder per partner per purpose
    after_id: int = 0
    limit: int = 200


@dataclass
class BatchResult:
    """How far a chunk got: ``last_id`` is the next chunk's ``after_id``; ``done`` ends the loop."""

    processed: int
    last_id: int
    done: bool
    sent: int = 0
    failed: int = 0


class MigrationActivities:
    def __init__(
        self, settings: Settings, engine: Engine, messaging: MessagingActivities, start_partner: StartPartner
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.messaging = messaging
        self.start_partner = start_partner

    @activity.defn(name="migration_progress")
    def migration_progress(self, run_id: int) -> list[PhaseProgress]:
        """Per phase: total, started, accepted terms (from the store)."""
        with session_scope(self.engine) as session:
            return store.progress(session, run_id)

    @activity.defn(name="migration_finish")
    def migration_finish(self, run_id: int) -> None:
        with session_scope(self.engine) as session:
            store.set_run_status(session, run_id, "completed")
        metrics.count(metrics.RUNS_COMPLETED, kind="migration")

    @activity.defn(name="migration_start_batch")
    async def migration_start_batch(self, batch: PhaseBatch) -> BatchResult:
        """Start the next ``limit`` partners of a phase at onboarding; top partners are told first."""
        after = _resume_point(batch.after_id)
        run, members = await asyncio.to_thread(self._members, batch.run_id, [batch.phase], after, batch.limit)
        client, sent, failed = activity.client(), 0, 0
        for start in range(0, len(members), STARTS_AT_ONCE):
            group = members[start : start + STARTS_AT_ONCE]
            if batch.phase == 1:  # the personal email before the lifecycle's welcome
                for member, partner in group:
                    ok = await asyncio.to_thread(self._announce, run, member, partner)
                    sent, failed = sent + ok, failed + (not ok)
            started = await asyncio.gather(*(self._start(client, run, member) for member, _ in group))
            metrics.count(metrics.MIGRATION_PARTNERS, sum(started), phase=batch.phase, step="started")
            await asyncio.to_thread(self._mark_started, [member.id for member, _ in group if member.id])
            activity.heartbeat(group[-1][0].id)
        last = members[-1][0].id if members else after
        return BatchResult(len(members), last or after, len(members) < batch.limit, sent, failed)

    @activity.defn(name="migration_nudge_batch")
    def migration_nudge_batch(self, batch: NudgeBatch) -> BatchResult:
        """Remind started partners of earlier phases who have not accepted the terms yet."""
        after = _resume_point(batch.after_id)
        run, members = self._members(batch.run_id, batch.phases, after, batch.limit, started=True)
        with session_scope(self.engine) as session:
            accepted = store.accepted_among(session, [partner.id for _, partner in members])
            for member, _ in members:
                if member.partner_id in accepted and member.status != "accepted":
                    member.status = "accepted"
                    session.add(member)
        sent = failed = 0
        for member, partner in members:
            if partner.id not in accepted and partner.stage == Stage.ONBOARDING.value:  # not offboarded
                context = self._context(run, member) | {"phase": max(batch.phases) + 1}
                ok = self._email(partner, batch.purpose, "migration_reminder", context)
                sent, failed = sent + ok, failed + (not ok)
                metrics.count(metrics.MIGRATION_PARTNERS, phase=max(batch.phases) + 1, step="reminded")
            activity.heartbeat(member.id)
        last = members[-1][0].id if members else after
        return BatchResult(len(members), last or after, len(members) < batch.limit, sent, failed)

    # --- helpers -----------------------------------------------------------------------------

    def _members(
        self, run_id: int, phases: Sequence[int], after: int, limit: int, started: bool = False
    ) -> tuple[MigrationRun, list[tuple[MigratedPartner, Partner]]]:
        with session_scope(self.engine) as session:
            run = session.get(MigrationRun, run_id)
            if run is None:
                raise ApplicationError(
                    f"migration run {run_id} not found", type="RunNotFound", non_retryable=True
                )
            return run, store.phase_members(session, run_id, phases, after, limit, started)

    async def _start(self, client: Any, run: MigrationRun, member: MigratedPartner) -> bool:
        detail = f"from {SOURCE_NAMES[Source(run.source)]} (run {run.id}, {member.segment})"
        if member.legacy_tracking_code:
            detail += f", tracking code {member.legacy_tracking_code} kept"
        state = LifecycleState(
            stage=Stage.ONBOARDING,
            segment=member.segment,
            history=[HistoryEntry(at=datetime.now(UTC).isoformat(), event="migrated", detail=detail)],
        )
        started = await self.start_partner(client, member.partner_id, run.program, state)
        if not started:
            log.info("lifecycle of migrated partner %s already exists", member.partner_id)
        return started

    def _mark_started(self, member_ids: list[int]) -> None:
        with session_scope(self.engine) as session:
            for member_id in member_ids:
                member = session.get(MigratedPartner, member_id)
                if member is None or member.status != "waiting":
                    continue
                member.status = "invited"
                session.add(member)
                partner = session.get(Partner, member.partner_id)
                if partner is not None and partner.stage == Stage.APPROVED.value:
                    set_stage(session, partner.id, Stage.ONBOARDING.value)

    def _announce(self, run: MigrationRun, member: MigratedPartner, partner: Partner) -> bool:
        """The personal "we're moving" email, and a Slack task for the managers."""
        context = self._context(run, member)
        ok = self._email(partner, "migration-moving", "migration_moving", context)
        request = SlackRequest(
            message_key(partner.id, "slack:migration-top-partner"),
            "migration_top_partner",
            context | {"email_sent": ok},
            partner.id,
        )
        try:
            self.messaging.notify_managers(request)
        except ApplicationError as exc:  # permanent (bad template, partner gone): log, carry on
            log.error("slack task for top partner %s not posted: %s", partner.id, exc)
        return ok

    def _email(self, partner: Partner, purpose: str, template: str, context: dict[str, Any]) -> bool:
        """False after a permanent failure (managers are told); transient ones retry the chunk."""
        try:
            self.messaging.send_email(
                EmailRequest(message_key(partner.id, purpose), partner.id, template, context)
            )
            return True
        except ApplicationError as exc:
            log.warning("%s email to partner %s failed: %s", template, partner.id, exc)
            alert = SlackRequest(
                message_key(partner.id, f"slack:delivery-failed:{purpose}"),
                "delivery_failed",
                {"purpose": purpose, "template": template, "error": f"{exc.type}: {exc.message}"},
                partner.id,
            )
            try:
                self.messaging.notify_managers(alert)
            except ApplicationError:
                log.exception("managers not told about the failed %s email", template)
            return False

    def _context(self, run: MigrationRun, member: MigratedPartner) -> dict[str, Any]:
        code = member.legacy_tracking_code
        return {
            "source": run.source,
            "source_name": SOURCE_NAMES[Source(run.source)],
            "legacy_code": code,
            "tracking_url": self.settings.tracking_url(code) if code else None,
            "lifetime_revenue": member.lifetime_revenue,
            "legacy_tier": member.legacy_tier,
            "segment": member.segment,
            "run_id": run.id,
        }


def _resume_point(after_id: int) -> int:
    """Where a retried chunk picks up: the last partner its previous attempt got through."""
    details = activity.info().heartbeat_details
    return max(after_id, int(details[0])) if details else after_id
