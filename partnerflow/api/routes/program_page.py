"""The text of a program's hosted application page (``/apply/<program>``), per locale (manager token)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter
from pydantic import AfterValidator, BaseModel, Field

from partnerflow.api.bounds import ProgramId
from partnerflow.api.deps import MANAGER_AUTH, EngineDep, ManagerDep, SettingsDep
from partnerflow.api.errors import responses
from partnerflow.config import Settings
from partnerflow.store import onboarding as store
from partnerflow.store import program_pages
from partnerflow.store.db import session_scope
from partnerflow.store.models import ProgramPage
from partnerflow.store.tables.programs import DESCRIPTION_LENGTH, SUMMARY_LENGTH

router = APIRouter(prefix="/programs", tags=["programs"], responses=MANAGER_AUTH)


def _text(value: str) -> str:
    """Trimmed, line endings unified; control characters (but line breaks and tabs) refused."""
    text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    bad = next((char for char in text if not char.isprintable() and char not in "\n\t"), None)
    if bad is not None:
        raise ValueError(f"must not contain the control character U+{ord(bad):04X}")
    return text


class ProgramPageIn(BaseModel):
    locale: Literal["en", "fr", "de", "pl"] = Field(default="en", description="the language of this text")
    description: Annotated[str, AfterValidator(_text)] = Field(
        default="", max_length=DESCRIPTION_LENGTH, description="plain text; blank lines separate paragraphs"
    )
    commission_summary: Annotated[str, AfterValidator(_text)] = Field(default="", max_length=SUMMARY_LENGTH)
    terms_summary: Annotated[str, AfterValidator(_text)] = Field(default="", max_length=SUMMARY_LENGTH)


class ProgramPageOut(ProgramPageIn):
    program: str
    url: str = Field(description="the public application page")
    updated_at: datetime
    updated_by: str


class ProgramPagesOut(BaseModel):
    program: str
    url: str
    pages: list[ProgramPageOut] = Field(description="one per locale written; visitors of another get English")


@router.put("/{program}/page", response_model=ProgramPageOut, responses=responses(422))
def set_program_page(
    program: ProgramId, body: ProgramPageIn, engine: EngineDep, settings: SettingsDep, manager: ManagerDep
) -> ProgramPageOut:
    """Write the application page's text in one locale (the program is created if need be)."""
    with session_scope(engine) as session:
        store.ensure_program(session, program, settings.default_landing_url)
        page = program_pages.save_page(session, program, by=manager, **body.model_dump())
        return page_out(settings, page)


@router.get("/{program}/page", response_model=ProgramPagesOut, responses=responses(422))
def get_program_page(
    program: ProgramId, engine: EngineDep, settings: SettingsDep, _m: ManagerDep
) -> ProgramPagesOut:
    """The application page's text in every locale written so far."""
    with session_scope(engine) as session:
        pages = program_pages.pages_of(session, program)
    return ProgramPagesOut(
        program=program, url=apply_url(settings, program), pages=[page_out(settings, p) for p in pages]
    )


def apply_url(settings: Settings, program: str) -> str:
    return f"{settings.public_url.rstrip('/')}/apply/{quote(program, safe='')}"


def page_out(settings: Settings, page: ProgramPage) -> ProgramPageOut:
    return ProgramPageOut(
        url=apply_url(settings, page.program),
        **page.model_dump(
            include={"program", "locale", "description", "commission_summary", "terms_summary"}
            | {"updated_at", "updated_by"}
        ),
    )
