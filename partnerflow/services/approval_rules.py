"""A program's approval rules: the one place the API and the dashboard read and change them.

Both the API's ``PUT /programs/{program}/approval-rules`` (the whole list) and the dashboard's
add/edit/delete/move forms (one change to the stored list) go through ``change_rules``, so the
domain validation (``ApprovalRules``: names unique, domains, countries, delays) is the same.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from partnerflow.domain.approval_rules import ApprovalRule, ApprovalRules
from partnerflow.store import approvals
from partnerflow.store.db import session_scope
from partnerflow.store.models import Program
from partnerflow.store.onboarding import ensure_program

Change = Callable[[list[ApprovalRule]], list[ApprovalRule]]


class UnknownRule(LookupError):
    """No rule of that name in the program (it was deleted or renamed meanwhile)."""


def rules_of(engine: Engine, program: str) -> ApprovalRules:
    """The program's rules, in order (none until set)."""
    with session_scope(engine) as session:
        return approvals.approval_rules(session.get(Program, program))


def change_rules(engine: Engine, program: str, landing_url: str, change: Change) -> ApprovalRules:
    """Apply ``change`` to the stored list and store the result, validated as a whole.

    The program's row is locked meanwhile (PostgreSQL), so two managers' changes never overwrite
    each other; ``change`` raises ``UnknownRule`` or ``ValueError`` to store nothing, and the
    whole list raises pydantic's ``ValidationError`` when it is not a valid set of rules.
    """
    with session_scope(engine) as session:
        row = session.get(Program, program, with_for_update=True) or ensure_program(
            session, program, landing_url
        )
        current = approvals.approval_rules(row)
        rules = ApprovalRules.model_validate({"rules": change(list(current.rules))})
        approvals.store_approval_rules(row, rules)
        session.add(row)
        return approvals.approval_rules(row)


def replace_rules(engine: Engine, program: str, landing_url: str, rules: ApprovalRules) -> ApprovalRules:
    """Replace the whole list (the API's PUT)."""
    return change_rules(engine, program, landing_url, lambda _current: list(rules.rules))


def find(rules: list[ApprovalRule], name: str) -> int:
    """The position of the rule named ``name`` (names are unique regardless of case)."""
    for index, rule in enumerate(rules):
        if rule.name.lower() == name.strip().lower():
            return index
    raise UnknownRule(f"no rule named {name!r}: it was deleted or renamed meanwhile")


def add(rule: ApprovalRule) -> Change:
    return lambda rules: [*rules, rule]


def edit(name: str, rule: ApprovalRule) -> Change:
    def apply(rules: list[ApprovalRule]) -> list[ApprovalRule]:
        rules[find(rules, name)] = rule
        return rules

    return apply


def delete(name: str) -> Change:
    def apply(rules: list[ApprovalRule]) -> list[ApprovalRule]:
        del rules[find(rules, name)]
        return rules

    return apply


def move(name: str, offset: int) -> Change:
    """Move the rule up (-1) or down (+1); at either end it stays where it is."""

    def apply(rules: list[ApprovalRule]) -> list[ApprovalRule]:
        index = find(rules, name)
        target = min(max(index + offset, 0), len(rules) - 1)
        rules.insert(target, rules.pop(index))
        return rules

    return apply
