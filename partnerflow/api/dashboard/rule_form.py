"""The approval-rule form: what a manager typed, turned into the domain's ``ApprovalRule`` (its
own validation, as the API's) and back, with each validation error placed on its field."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from partnerflow.api.dashboard import forms
from partnerflow.domain.approval_rules import ApprovalRule

LIST_FIELDS = ("email_domain_in", "email_domain_not_in", "country_in", "country_not_in")
LABELS = {
    "name": "Name",
    "then": "Decision",
    "email_domain_in": "Email domain is one of",
    "email_domain_not_in": "Email domain is none of",
    "country_in": "Country is one of",
    "country_not_in": "Country is none of",
    "website_required": "Website",
    "disposable_email": "Disposable email",
    "reason": "Reason",
    "delay": "Delay",
}
TRISTATE = {"": None, "yes": True, "no": False}  # the disposable-email select: any, yes, no


@dataclass
class RuleForm:
    """The form's fields as typed (kept as they are when the rule is refused)."""

    name: str = ""
    then: str = "approve"
    email_domain_in: str = ""
    email_domain_not_in: str = ""
    country_in: str = ""
    country_not_in: str = ""
    website_required: str = ""
    disposable_email: str = ""
    reason: str = ""
    share_reason: str = ""
    delay: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> RuleForm:
        """From the posted form (unknown fields, such as the CSRF token, are ignored)."""
        fields = cls.__dataclass_fields__
        return cls(**{key: str(value) for key, value in data.items() if key in fields})

    @classmethod
    def from_rule(cls, rule: ApprovalRule) -> RuleForm:
        given = rule.conditions
        lists = {key: ", ".join(getattr(given, key) or []) for key in LIST_FIELDS}
        disposable = {None: "", True: "yes", False: "no"}[given.disposable_email]
        return cls(
            name=rule.name,
            then=rule.then.value,
            website_required="on" if given.website_required else "",
            disposable_email=disposable,
            reason=rule.reason or "",
            share_reason="on" if rule.share_reason else "",
            delay=rule.delay or "",
            **lists,
        )

    def values(self) -> dict[str, str]:
        return asdict(self)

    def to_rule(self) -> ApprovalRule:
        """The rule, validated by the domain model; raises ``ValidationError``."""
        conditions: dict[str, Any] = {
            key: forms.lines(getattr(self, key)) for key in LIST_FIELDS if forms.lines(getattr(self, key))
        }
        if self.website_required == "on":
            conditions["website_required"] = True
        if TRISTATE.get(self.disposable_email) is not None:
            conditions["disposable_email"] = TRISTATE[self.disposable_email]
        return ApprovalRule.model_validate(
            {
                "name": self.name,
                "if": conditions,
                "then": self.then,
                "reason": self.reason.strip() or None,
                "share_reason": self.share_reason == "on",
                "delay": self.delay.strip() or None,
            }
        )


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{form field: message}`` for the domain's errors; a list's item is named by its value."""
    errors: dict[str, str] = {}
    for error in exc.errors():
        loc = [part for part in error["loc"] if part not in ("if", "conditions", "rules")]
        loc = [part for part in loc if not isinstance(part, int)]
        field = str(loc[0]) if loc and str(loc[0]) in LABELS else "name"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "enum":
            message = "choose approve or reject"
        elif error["type"] == "string_pattern_mismatch":
            message = "start with a letter or digit; then letters, digits, spaces, dots, dashes or _"
        elif error["type"] == "string_too_short" and field == "name":
            message = "give the rule a name"
        errors.setdefault(field, message)
    return errors
