"""Approval rules, reapplication and bans in the store, on SQLite and PostgreSQL (migration 0007)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Engine

from partnerflow.domain.approval_rules import ApprovalRules
from partnerflow.domain.signup import SignupPayload
from partnerflow.store import approvals
from partnerflow.store.db import session_scope
from partnerflow.store.models import Application, Partner, Program
from partnerflow.store.partners import record_decision, register_signup


def signup(program: str, email: str = "ada@example.com", **fields: object) -> SignupPayload:
    return SignupPayload.model_validate({"email": email, "name": "Ada", "program": program, **fields})


def test_rules_and_the_reapply_period_are_kept_per_program(any_engine: Engine) -> None:
    program = f"p-{uuid.uuid4().hex[:8]}"
    rules = ApprovalRules.model_validate({"rules": [{"name": "all", "then": "approve", "delay": "P1D"}]})
    with session_scope(any_engine) as session:
        row = Program(id=program, name="P", landing_url="https://example.com")
        assert row.reapply_after_days == 30 and approvals.approval_rules(row).rules == []
        approvals.store_approval_rules(row, rules)
        session.add(row)
    with session_scope(any_engine) as session:
        stored = session.get(Program, program)
        assert approvals.approval_rules(stored) == rules and approvals.approval_rules(None).rules == []


def test_a_rejected_application_reopens_once_per_attempt(any_engine: Engine) -> None:
    program = f"p-{uuid.uuid4().hex[:8]}"
    with session_scope(any_engine) as session:
        partner, _ = register_signup(session, signup(program, country="FR"))
        record_decision(session, partner.id, approved=False, manager="alice", reason="no", share_reason=False)
        partner.stage = "rejected"
        session.add(partner)
    with session_scope(any_engine) as session:
        partner = session.get(Partner, partner.id)
        assert partner is not None and partner.country == "FR"
        when, past = approvals.reapply_after(session, partner) or (None, None)
        assert past is not None and when == past.decided_at + timedelta(days=30)
        assert (past.attempt, past.decided_by, past.reason) == (1, "alice", "no")
        again = signup(program, website="https://ada.dev")
        assert approvals.reopen_application(session, partner, again, attempt=2)
        assert not approvals.reopen_application(session, partner, again, attempt=2)  # a duplicate delivery
    with session_scope(any_engine) as session:
        application, partner = session.get(Application, partner.id), session.get(Partner, partner.id)
        assert application is not None and partner is not None
        assert (application.attempt, application.status, application.decided_by) == (2, "pending", None)
        assert (partner.stage, partner.website) == ("applied", "https://ada.dev/")  # canonical: a path
        assert approvals.reapply_after(session, partner) is None


def test_bans_are_replaced_counted_and_answered_with_a_rejected_record(any_engine: Engine) -> None:
    program = f"p-{uuid.uuid4().hex[:8]}"
    with session_scope(any_engine) as session:
        added = approvals.replace_bans(session, program, [("A@x.com", "spam"), ("b@x.com", "")], "alice")
        assert sorted(row.email for row in added) == ["a@x.com", "b@x.com"]
        added = approvals.replace_bans(session, program, [("a@x.com", "fraud"), ("c@x.com", "")], "bob")
        assert [row.email for row in added] == ["c@x.com"]
    with session_scope(any_engine) as session:
        bans = {row.email: row for row in approvals.list_bans(session, program)}
        assert set(bans) == {"a@x.com", "c@x.com"} and bans["a@x.com"].reason == "fraud"
        assert bans["a@x.com"].banned_by == "alice"  # a ban kept keeps its author
        ban = approvals.find_ban(session, program, " A@X.com")
        assert ban is not None
        partner = approvals.turned_away(session, ban, signup(program, "a@x.com"))
        again = approvals.turned_away(session, ban, signup(program, "a@x.com"))
        assert again.id == partner.id and partner.stage == "rejected" and ban.attempts == 2
    with session_scope(any_engine) as session:
        application = session.get(Application, partner.id)
        assert application is not None and application.decided_by == approvals.BANNED_AUTHOR
        # Once the ban is lifted, the refused email may apply at once.
        when, _ = approvals.reapply_after(session, partner) or (None, None)
        assert when == application.decided_at
