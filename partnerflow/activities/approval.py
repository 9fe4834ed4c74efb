"""Approval rules, as the partner's workflow asks for them at signup."""

from __future__ import annotations

from sqlalchemy import Engine
from temporalio import activity

from partnerflow.activities.lookup import require_partner
from partnerflow.domain.approval import RuleMatch, RuleMatchResult, RuleQuery
from partnerflow.domain.approval_rules import ApplicationFacts, first_match
from partnerflow.store.approvals import approval_rules
from partnerflow.store.db import session_scope
from partnerflow.store.models import Program


class ApprovalActivities:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @activity.defn(name="match_approval_rule")
    def match_approval_rule(self, query: RuleQuery) -> RuleMatchResult:
        """The program's first rule matching the partner's application (as stored now)."""
        with session_scope(self.engine) as session:
            partner = require_partner(session, query.partner_id)
            rules = approval_rules(session.get(Program, partner.program)).rules
            facts = ApplicationFacts(email=partner.email, website=partner.website, country=partner.country)
        rule = first_match(rules, facts)
        if rule is None:
            return RuleMatchResult()
        activity.logger.info("application of %s matches approval rule %r", query.partner_id, rule.name)
        return RuleMatchResult(RuleMatch(rule.name, rule.then, rule.reason, rule.share_reason, rule.wait))
