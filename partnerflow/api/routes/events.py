"""Performance events from tracking platforms (manager token or a program's ingestion key)."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy import Engine
from sqlmodel import col, select

from partnerflow.api.deps import EngineDep, SettingsDep, get_manager
from partnerflow.api.errors import responses, unprocessable
from partnerflow.store import performance
from partnerflow.store.db import session_scope
from partnerflow.store.models import Program, utcnow

router = APIRouter(tags=["events"])

MAX_EVENTS = 1000
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew between the sender and us
_WITH_AMOUNT = ("conversion", "refund")


class EventIn(BaseModel):
    event_id: str = Field(min_length=1, max_length=128, description="the sender's id; a repeat is ignored")
    partner_id: str = Field(min_length=1, max_length=32)
    type: Literal["click", "lead", "conversion", "refund"]
    amount: float | None = Field(
        default=None, strict=True, allow_inf_nan=False, description="> 0 for conversion/refund only"
    )
    currency: str | None = Field(default=None, description="the program's currency (ISO 4217), with amount")
    occurred_at: AwareDatetime = Field(description="ISO 8601 with offset, e.g. 2026-12-01T16:00:00+01:00")

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str | None) -> str | None:
        if value is not None and not (len(value) == 3 and value.isascii() and value.isalpha()):
            raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
        return value.upper() if value else value

    @field_validator("occurred_at")
    @classmethod
    def _not_in_future(cls, value: AwareDatetime) -> AwareDatetime:
        if value > utcnow() + FUTURE_TOLERANCE:
            raise ValueError(f"occurred_at {value.isoformat()} is more than 5 minutes in the future")
        return value

    @model_validator(mode="after")
    def _amount_fits_type(self) -> EventIn:
        if self.type in _WITH_AMOUNT:
            if self.amount is None or self.amount <= 0:
                raise ValueError(f"a {self.type} needs an amount > 0")
            if self.currency is None:
                raise ValueError("currency is required with an amount")
        elif self.amount:
            raise ValueError(f"a {self.type} carries no amount (got {self.amount})")
        return self


class ItemError(BaseModel):
    index: int
    detail: str


class IngestOut(BaseModel):
    accepted: int
    duplicates: int
    errors: list[ItemError]


@dataclass(frozen=True)
class Sender:
    manager: str | None = None
    program: str | None = None  # an ingestion key's program: only its partners are accepted


_bearer = HTTPBearer(auto_error=False, description="Manager token, or a program's ingestion key")
_key_header = APIKeyHeader(name="X-Partnerflow-Key", auto_error=False, description="Program ingestion key")


def get_sender(
    settings: SettingsDep,
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    key: Annotated[str | None, Depends(_key_header)],
) -> Sender:
    """A manager (bearer token) or a program (its ingestion key, either header); 401 otherwise."""
    if credentials is not None:
        try:
            return Sender(manager=get_manager(settings, credentials))
        except HTTPException:
            pass  # maybe an ingestion key sent as a bearer token
    given = key or (credentials.credentials if credentials else None)
    program = _program_for_key(engine, given) if given else None
    if program is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or invalid credentials (Authorization: Bearer <manager token or ingestion key>, "
            "or X-Partnerflow-Key: <ingestion key>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Sender(program=program)


def _program_for_key(engine: Engine, given: str) -> str | None:
    with session_scope(engine) as session:
        keys = session.exec(
            select(Program.id, Program.ingestion_key).where(col(Program.ingestion_key).is_not(None))
        )
        found = None
        for program, key in keys:  # constant-time, and no early exit
            if key and hmac.compare_digest(key.encode(), given.encode()):
                found = program
        return found


SenderDep = Annotated[Sender, Depends(get_sender)]

_BODY_SCHEMA = {
    "type": "object",
    "required": ["events"],
    "properties": {"events": {"type": "array", "maxItems": MAX_EVENTS, "items": EventIn.model_json_schema()}},
}


@router.post(
    "/events",
    response_model=IngestOut,
    responses=responses(
        unauthorized="missing or invalid manager token or ingestion key",
        unprocessable_entity='not {"events": [...]} with at most 1,000 items (each is checked on its own)',
    ),
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY_SCHEMA}}}
    },
)
async def ingest_events(request: Request, sender: SenderDep, engine: EngineDep) -> IngestOut:
    """Record clicks, leads, conversions and refunds; each item is checked on its own."""
    items = _items(await request.body())
    errors: dict[int, str] = {}
    valid: list[tuple[int, performance.NewEvent]] = []
    for index, item in enumerate(items):
        try:
            event = EventIn.model_validate(item)
        except ValidationError as exc:
            errors[index] = _describe(exc)
            continue
        valid.append((index, performance.NewEvent(**event.model_dump())))
    result = await run_in_threadpool(_store, engine, [event for _, event in valid], sender.program)
    for position, detail in result.errors.items():
        errors[valid[position][0]] = detail
    return IngestOut(
        accepted=result.accepted,
        duplicates=result.duplicates,
        errors=[ItemError(index=i, detail=errors[i]) for i in sorted(errors)],
    )


def _store(
    engine: Engine, events: list[performance.NewEvent], program: str | None
) -> performance.IngestResult:
    with session_scope(engine) as session:
        return performance.ingest(session, events, program)


def _items(raw: bytes) -> list[Any]:
    """The body's list of events; 422 naming what is wrong with the body as a whole."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unprocessable(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict) or "events" not in body:
        raise _unprocessable('body must be a JSON object {"events": [...]}')
    events = body["events"]
    if not isinstance(events, list):
        raise _unprocessable(f'"events" must be a list, got {type(events).__name__}')
    if len(events) > MAX_EVENTS:
        raise _unprocessable(f"at most {MAX_EVENTS} events per request, got {len(events)}; split the batch")
    return events


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "timezone_aware":
            message = "needs a UTC offset, e.g. 2026-12-01T16:00:00Z"
        if error["type"] == "model_type":
            message = "each event must be a JSON object"
        where = ".".join(str(part) for part in error["loc"])
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def _unprocessable(detail: str) -> Exception:
    return unprocessable(detail, "body")
