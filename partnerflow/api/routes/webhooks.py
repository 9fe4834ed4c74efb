"""Inbound webhooks: partner signup (HMAC-signed)."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from partnerflow.api.deps import EngineDep, SettingsDep, TemporalDep
from partnerflow.api.errors import responses
from partnerflow.api.metrics import record_signup
from partnerflow.api.schemas import SignupAccepted
from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.signup import SignupPayload
from partnerflow.observability import context
from partnerflow.rendering import signing
from partnerflow.services import signups
from partnerflow.store.models import Partner

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.post(
    "/partner-signup",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignupAccepted,
    response_model_exclude_none=True,
    responses={
        200: {
            "model": SignupAccepted,
            "description": "repeat delivery; or a rejected applicant (with reapply_after while they may "
            "not apply again yet), or an email that may not apply (status rejected, no reapply_after)",
        },
        **responses(
            unauthorized="missing, invalid or stale Partnerflow-Signature",
            unprocessable_entity="invalid body, naming the field",
            service_unavailable="no PARTNERFLOW_WEBHOOK_SECRET configured, or Temporal not reachable yet",
        ),
    },
)
async def partner_signup(
    request: Request,
    response: Response,
    settings: SettingsDep,
    engine: EngineDep,
    client: TemporalDep,
) -> SignupAccepted:
    """A partner applied: start their lifecycle workflow (once, however often this is delivered),
    or a new run of it for a rejected partner reapplying after the program's period."""
    body = await request.body()
    if settings.webhook_secret is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "PARTNERFLOW_WEBHOOK_SECRET is not configured"
        )
    try:
        signing.verify(
            settings.webhook_secret.get_secret_value(),
            request.headers.get(signing.SIGNATURE_HEADER),
            body,
            tolerance=settings.webhook_tolerance_seconds,
        )
    except signing.SignatureError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    signup = _parse(body)
    outcome = await signups.apply(engine, client, settings, signup, on_recorded=_observe(request))
    if not outcome.started:
        response.status_code = status.HTTP_200_OK
    return SignupAccepted(
        partner_id=outcome.partner.id,
        workflow_id=outcome.workflow_id,
        status=outcome.status,
        reapply_after=outcome.reapply_after,
    )


def _observe(request: Request) -> signups.OnRecorded:
    """Once the row is committed: the partner's ids on every log line after, and the signup counted."""

    def recorded(partner: Partner, created: bool) -> None:
        context.bind(partner_id=partner.id, workflow_id=workflow_id_for(partner.id))
        record_signup(request, partner.program, created)

    return recorded


def _parse(body: bytes) -> SignupPayload:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body",),
                    "msg": f"body is not valid JSON: {exc}",
                    "input": None,
                }
            ]
        ) from exc
    if not isinstance(data, dict):
        raise RequestValidationError(
            [
                {
                    "type": "dict_type",
                    "loc": ("body",),
                    "msg": "body must be a JSON object",
                    "input": None,
                }
            ]
        )
    try:
        return SignupPayload.model_validate(data)
    except ValidationError as exc:
        errors = [
            {
                **error,
                "loc": ("body", *error["loc"]),
                "ctx": {k: str(v) for k, v in error.get("ctx", {}).items()},
            }
            for error in exc.errors(include_url=False)
        ]
        raise RequestValidationError(errors) from exc
