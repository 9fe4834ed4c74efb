"""Payloads of the approval-rules activity (no ``from __future__ import annotations``: see __init__)."""

from dataclasses import dataclass
from datetime import timedelta

from partnerflow.domain.stages import Decision


@dataclass
class RuleQuery:
    partner_id: str


@dataclass
class RuleMatch:
    """The rule that decides an application: its decision, after ``delay``, by ``rule:<name>``."""

    name: str
    decision: Decision
    reason: str | None = None
    share_reason: bool = False
    delay: timedelta = timedelta(0)

    @property
    def author(self) -> str:
        return f"rule:{self.name}"


@dataclass
class RuleMatchResult:
    match: RuleMatch | None = None  # None: no rule matches, a manager decides
