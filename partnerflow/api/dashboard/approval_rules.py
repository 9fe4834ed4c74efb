"""A program's approval rules in the dashboard: the list in order, add, edit, move up/down, and
delete after a confirmation step. Every change goes through ``services.approval_rules`` (as
``PUT /programs/{program}/approval-rules``), so the domain's validation decides; a refused rule
comes back in its form with each error on its field and the manager's input kept."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import Engine

from partnerflow.api.bounds import ProgramId
from partnerflow.api.dashboard import auth, forms
from partnerflow.api.dashboard.rule_form import LABELS, RuleForm, field_errors
from partnerflow.api.dashboard.views import render
from partnerflow.api.deps import EngineDep, SettingsDep
from partnerflow.config import Settings
from partnerflow.domain.approval_rules import ApprovalRule, ApprovalRules
from partnerflow.services import approval_rules as service

router = APIRouter()


def _here(program: str) -> str:
    return f"{auth.PATH}/programs/{quote(program, safe='')}/approval-rules"


@router.get("/programs/{program}/approval-rules")
async def rules_page(
    program: ProgramId, request: Request, session: auth.SessionDep, engine: EngineDep
) -> Response:
    """The rules in the order they are tried, and the form to add one."""
    rules = await run_in_threadpool(service.rules_of, engine, program)
    return _list(request, session, program, rules, RuleForm(), {})


@router.post("/programs/{program}/approval-rules")
async def add_rule(
    program: ProgramId,
    request: Request,
    session: auth.CsrfSessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """Add a rule at the end of the list (before it, every earlier rule is tried)."""
    typed = RuleForm.of(dict(await request.form()))
    try:
        rule = typed.to_rule()
        await run_in_threadpool(
            service.change_rules, engine, program, settings.default_landing_url, service.add(rule)
        )
    except ValidationError as exc:
        rules = await run_in_threadpool(service.rules_of, engine, program)
        return _list(request, session, program, rules, typed, field_errors(exc), 422)
    return forms.redirect(settings, _here(program), "success", f"Added rule “{rule.name}”: {_what(rule)}.")


@router.get("/programs/{program}/approval-rules/{name}/edit")
async def edit_page(
    program: ProgramId,
    name: str,
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """One rule's form, filled in."""
    try:
        rule = await _rule(engine, program, name)
    except service.UnknownRule as exc:
        return forms.redirect(settings, _here(program), "error", str(exc))
    return _edit(request, session, program, rule.name, RuleForm.from_rule(rule), {})


@router.post("/programs/{program}/approval-rules/{name}/edit")
async def save_rule(
    program: ProgramId, name: str, request: Request, session: auth.CsrfSessionDep, engine: EngineDep,
    settings: SettingsDep,
) -> Response:  # fmt: skip
    """Replace the rule in place (its position is kept; it may be renamed)."""
    typed = RuleForm.of(dict(await request.form()))
    try:
        rule = typed.to_rule()
        change = service.edit(name, rule)
        await run_in_threadpool(service.change_rules, engine, program, settings.default_landing_url, change)
    except ValidationError as exc:
        return _edit(request, session, program, name, typed, field_errors(exc), 422)
    except service.UnknownRule as exc:
        return forms.redirect(settings, _here(program), "error", f"Nothing saved: {exc}")
    return forms.redirect(settings, _here(program), "success", f"Saved rule “{rule.name}”: {_what(rule)}.")


@router.post("/programs/{program}/approval-rules/{name}/move")
async def move_rule(
    program: ProgramId, name: str, session: auth.CsrfSessionDep, engine: EngineDep, settings: SettingsDep,
    direction: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Move the rule one place up or down: the first matching rule decides."""
    if direction not in ("up", "down"):
        return forms.redirect(settings, _here(program), "error", "Move the rule up or down.")
    change = service.move(name, -1 if direction == "up" else 1)
    try:
        rules = await run_in_threadpool(
            service.change_rules, engine, program, settings.default_landing_url, change
        )
    except service.UnknownRule as exc:
        return forms.redirect(settings, _here(program), "error", f"Nothing moved: {exc}")
    place = service.find(rules.rules, name) + 1
    message = (
        f"Moved “{rules.rules[place - 1].name}” {direction}: it is now rule {place} of {len(rules.rules)}."
    )
    return forms.redirect(settings, _here(program), "success", message)


@router.get("/programs/{program}/approval-rules/{name}/delete")
async def delete_page(
    program: ProgramId,
    name: str,
    request: Request,
    session: auth.SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
) -> Response:
    """The confirmation step: what deleting the rule changes, and an "I understand" box."""
    return await _delete_step(request, session, engine, settings, program, name, None)


@router.post("/programs/{program}/approval-rules/{name}/delete")
async def delete_rule(
    program: ProgramId, name: str, request: Request, session: auth.CsrfSessionDep, engine: EngineDep,
    settings: SettingsDep, confirm: Annotated[str, Form()] = "",
) -> Response:  # fmt: skip
    """Delete the rule once the box is ticked; applications it would have decided wait for the next match."""
    if not forms.confirmed(confirm):
        error = "Tick the box to confirm: the rule is deleted for good."
        return await _delete_step(request, session, engine, settings, program, name, error)
    try:
        await run_in_threadpool(
            service.change_rules, engine, program, settings.default_landing_url, service.delete(name)
        )
    except service.UnknownRule as exc:
        return forms.redirect(settings, _here(program), "error", f"Nothing deleted: {exc}")
    return forms.redirect(settings, _here(program), "success", f"Deleted rule “{name}”.")


async def _rule(engine: Engine, program: str, name: str) -> ApprovalRule:
    """The program's rule called ``name``; ``service.UnknownRule`` if there is none."""
    rules = (await run_in_threadpool(service.rules_of, engine, program)).rules
    return rules[service.find(rules, name)]


async def _delete_step(
    request: Request, session: auth.DashboardSession, engine: Engine, settings: Settings, program: str,
    name: str, error: str | None,
) -> Response:  # fmt: skip
    """The confirmation page (422 with ``error`` when the box was not ticked), or back to the list."""
    try:
        rule = await _rule(engine, program, name)
    except service.UnknownRule as exc:
        return forms.redirect(settings, _here(program), "error", str(exc))
    return render(request, "approval_rule_delete", session, active="programs",
                  status_code=200 if error is None else 422, program=program, rule=rule,
                  what=_what(rule), error=error)  # fmt: skip


def _what(rule: ApprovalRule) -> str:
    """The rule in words, as the list shows it."""
    given = rule.conditions.model_dump(exclude_none=True)
    parts = [
        f"{LABELS[key].lower()} {', '.join(value)}"
        if isinstance(value, list)
        else f"{LABELS[key].lower()}: {'yes' if value else 'no'}"
        for key, value in given.items()
    ]
    when = " and ".join(parts) if parts else "every application"
    delay = f" after {rule.delay}" if rule.delay else ""
    return f"if {when}, {rule.then.value}{delay}"


def _list(
    request: Request, session: auth.DashboardSession, program: str, rules: ApprovalRules, typed: RuleForm,
    errors: dict[str, str], status_code: int = 200,
) -> Response:  # fmt: skip
    listed = [(rule, _what(rule)) for rule in rules.rules]
    return render(request, "approval_rules", session, active="programs", status_code=status_code,
                  program=program, rules=listed, form=typed.values(), errors=errors,
                  labels=LABELS)  # fmt: skip


def _edit(
    request: Request, session: auth.DashboardSession, program: str, name: str, typed: RuleForm,
    errors: dict[str, str], status_code: int = 200,
) -> Response:  # fmt: skip
    return render(request, "approval_rule_edit", session, active="programs", status_code=status_code,
                  program=program, name=name, form=typed.values(), errors=errors, labels=LABELS)  # fmt: skip
