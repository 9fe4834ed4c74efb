"""Engagement and review activities: activity snapshots, reviews, tier changes, offboarding."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from partnerflow.activities.lookup import require_partner
from partnerflow.config import Settings
from partnerflow.domain.engagement import Snapshot, program_rules
from partnerflow.domain.kpis import Totals, kpis, next_tier, qualifying_tier, segments
from partnerflow.domain.review import (
    ReviewInput,
    ReviewResult,
    SnapshotInput,
    SnapshotResult,
    TierChange,
    TierChangeResult,
)
from partnerflow.observability import metrics
from partnerflow.store import onboarding, performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Partner, PerformanceEvent, Review, TrackingLink

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


class EngagementActivities:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    @activity.defn(name="engagement_snapshot")
    def engagement_snapshot(self, query: SnapshotInput) -> SnapshotResult:
        with session_scope(self.engine) as session:
            partner = require_partner(session, query.partner_id)
            program = onboarding.ensure_program(session, partner.program, self.settings.default_landing_url)
            first_conversion = session.exec(
                select(PerformanceEvent)
                .where(PerformanceEvent.partner_id == partner.id, PerformanceEvent.type == "conversion")
                .order_by(col(PerformanceEvent.occurred_at))
            ).first()
            conversions = performance.totals(session, EPOCH, query.now, partner_id=partner.id)
            link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner.id)).first()
            resources = onboarding.resources_for(session, partner.program, partner.locale, partner.tier)
            snapshot = Snapshot(
                first_click_at=performance.first_event_at(session, partner.id, ["click"]),
                last_click_at=performance.last_event_at(session, partner.id, ["click"]),
                last_event_at=performance.last_event_at(session, partner.id, None),
                conversions_ever=conversions.conversions,
                first_conversion_amount=first_conversion.amount if first_conversion else None,
                period=performance.totals(session, query.period_start, query.now, partner_id=partner.id),
                next_tier=next_tier(partner.tier, performance.tier_rules(session, partner.program)),
                currency=program.currency,
                unsubscribed=partner.unsubscribed_at is not None,
            )
            return SnapshotResult(
                snapshot=snapshot,
                rules=program_rules(self.settings.engagement, program.engagement_rules),
                tracking_url=self.settings.tracking_url(link.code) if link else None,
                resources=[{"title": r.title, "kind": r.kind, "url": r.url} for r in resources[:5]],
            )

    @activity.defn(name="compute_review")
    def compute_review(self, review: ReviewInput) -> ReviewResult:
        """KPIs of the period, segment by share of program revenue, the tier the numbers earn."""
        with session_scope(self.engine) as session:
            partner = require_partner(session, review.partner_id)
            program = onboarding.ensure_program(session, partner.program, self.settings.default_landing_url)
            start, end = review.period_start, review.period_end
            totals = performance.totals(session, start, end, partner_id=partner.id)
            by_partner = performance.revenue_by_partner(session, partner.program, start, end)
            by_partner.setdefault(partner.id, totals.net_revenue)
            segment = segments(by_partner)[partner.id].value
            total_revenue = sum(max(v, 0.0) for v in by_partner.values())
            rules = performance.tier_rules(session, partner.program)
            earned = qualifying_tier(totals, rules)
            current = review.current_tier or min(rules, key=lambda r: r.rank).name
            proposed = earned.name if earned.name != current else None
            numbers = kpis(totals, performance.rate_for(review.current_tier, rules))
            row = _review_row(session, partner, start, end, totals, numbers.commission)
            first_time = row.id is None  # a retried activity finds its row: counted once
            row.segment, row.tier_before, row.tier_proposed = segment, review.current_tier, proposed
            row.revenue_share = (
                round(max(totals.net_revenue, 0.0) / total_revenue, 4) if total_revenue else 0.0
            )
            partner.segment = segment
            session.add_all([row, partner])
            session.flush()
            assert row.id is not None
            pct = lambda v: "—" if v is None else f"{v * 100:.1f} %"  # noqa: E731
            result = ReviewResult(
                review_id=row.id,
                segment=segment,
                proposed_tier=proposed,
                revenue=money(totals.net_revenue, program.currency),
                conversions=totals.conversions,
                scorecard={
                    "clicks": str(numbers.clicks),
                    "conversions": str(numbers.conversions),
                    "revenue": money(numbers.revenue, program.currency),
                    "commission": money(numbers.commission, program.currency),
                    "conversion_rate": pct(numbers.conversion_rate),
                    "epc": "—" if numbers.epc is None else money(numbers.epc, program.currency),
                },
            )
        if first_time:
            tier_change = "proposed" if proposed else "none"
            metrics.count(metrics.REVIEWS, segment=segment, tier_change=tier_change)
        return result

    @activity.defn(name="apply_tier_change")
    def apply_tier_change(self, change: TierChange) -> TierChangeResult:
        with session_scope(self.engine) as session:
            partner = require_partner(session, change.partner_id)
            rules = {rule.name: rule for rule in performance.tier_rules(session, partner.program)}
            if change.new_tier not in rules:
                raise ApplicationError(
                    f"tier {change.new_tier!r} no longer exists", type="UnknownTier", non_retryable=True
                )
            old = partner.tier
            old_rank = rules[old].rank if old in rules else 0
            partner.tier = change.new_tier
            review = session.get(Review, change.review_id)
            if review is not None:
                review.tier_after, review.decided_by = change.new_tier, change.decided_by
                session.add(review)
            session.add(partner)
            new = rules[change.new_tier]
            return TierChangeResult(
                old_tier=old,
                new_tier=new.name,
                commission_rate=f"{new.commission_rate * 100:g} %",
                promoted=new.rank > old_rank,
            )

    @activity.defn(name="deactivate_tracking_link")
    def deactivate_tracking_link(self, partner_id: str) -> None:
        """The link keeps redirecting visitors but earns no commission any more."""
        with session_scope(self.engine) as session:
            link = session.exec(select(TrackingLink).where(TrackingLink.partner_id == partner_id)).first()
            if link and link.active:
                link.active = False
                session.add(link)


def _review_row(
    session: Session, partner: Partner, start: datetime, end: datetime, totals: Totals, commission: float
) -> Review:
    row = session.exec(
        select(Review).where(Review.partner_id == partner.id, Review.period_start == start)
    ).first()
    row = row or Review(
        partner_id=partner.id, program=partner.program, period_start=start, period_end=end, segment=""
    )
    row.clicks, row.conversions = totals.clicks, totals.conversions
    row.revenue, row.commission = totals.net_revenue, commission
    return row
