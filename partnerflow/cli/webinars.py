"""``partnerflow webinars add|attendance|reschedule|cancel``: training sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import Engine
from temporalio.client import Client

from partnerflow.config import Settings

webinars_app = typer.Typer(help="Training webinars.", no_args_is_help=True)
T = TypeVar("T")


@webinars_app.command("add")
def webinars_add(
    title: Annotated[str, typer.Option(help="Session title.")],
    starts_at: Annotated[str, typer.Option(help="ISO 8601 with offset, e.g. 2026-12-01T16:00:00+01:00.")],
    join_url: Annotated[str, typer.Option(help="Video-call link.")],
    capacity: Annotated[int, typer.Option(help="Seats.")] = 50,
    timezone: Annotated[str, typer.Option(help="IANA zone for display.")] = "UTC",
) -> None:
    """Schedule a webinar session (same checks as POST /webinars)."""
    from pydantic import ValidationError

    from partnerflow.services.onboarding import WebinarIn
    from partnerflow.store.db import make_engine, session_scope
    from partnerflow.store.models import Webinar

    try:
        body = WebinarIn.model_validate(
            {
                "title": title,
                "starts_at": starts_at,
                "join_url": join_url,
                "capacity": capacity,
                "timezone": timezone,
            }
        )
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    engine = make_engine(Settings().effective_database_url)
    with session_scope(engine) as session:
        webinar = Webinar(**body.model_dump(mode="json", exclude={"starts_at"}), starts_at=body.starts_at)
        session.add(webinar)
        session.flush()
        typer.echo(f"webinar {webinar.id} scheduled for {webinar.starts_at.isoformat()}")


@webinars_app.command("attendance")
def webinars_attendance(
    webinar_id: Annotated[int, typer.Argument(help="Webinar id.")],
    export: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV with an email or partner_id column.")
    ],
) -> None:
    """Record attendance from an attendance export (CSV)."""
    import csv

    from partnerflow.services import onboarding as operations

    with export.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    columns = {name.lower().strip(): name for name in (rows[0].keys() if rows else [])}
    emails = [row[columns["email"]] for row in rows if "email" in columns and row[columns["email"]]]
    ids = [
        row[columns["partner_id"]] for row in rows if "partner_id" in columns and row[columns["partner_id"]]
    ]
    if not emails and not ids:
        raise typer.BadParameter("the CSV needs an 'email' or 'partner_id' column with values")
    results = _with_services(
        lambda engine, client, settings: operations.record_attendance(engine, client, webinar_id, ids, emails)
    )
    for result in results:
        typer.echo(f"{result.partner_id}\t{result.status}\t{result.detail}")


@webinars_app.command("reschedule")
def webinars_reschedule(
    webinar_id: Annotated[int, typer.Argument(help="Webinar id.")],
    starts_at: Annotated[
        str | None, typer.Option(help="New start, ISO 8601 with offset, e.g. 2026-12-03T16:00:00+01:00.")
    ] = None,
    duration_minutes: Annotated[int | None, typer.Option(help="New length in minutes.")] = None,
    join_url: Annotated[str | None, typer.Option(help="New video-call link.")] = None,
    title: Annotated[str | None, typer.Option(help="New title.")] = None,
    timezone: Annotated[str | None, typer.Option(help="New IANA zone for display.")] = None,
    by: Annotated[str, typer.Option(help="Who changes it (logged).")] = "cli",
) -> None:
    """Move a session or change its details (same checks as PATCH /webinars/ID); invitees are told."""
    from pydantic import ValidationError

    from partnerflow.services import webinars

    given = {"starts_at": starts_at, "duration_minutes": duration_minutes, "join_url": join_url,
             "title": title, "timezone": timezone}  # fmt: skip
    try:
        patch = webinars.WebinarPatch.model_validate({k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    change = _with_services(
        lambda engine, client, settings: _refusing(
            webinars.reschedule_webinar(engine, client, webinar_id, patch, by)
        )
    )
    if not change.changed:
        typer.echo(f"webinar {webinar_id} already is like this; nothing changed, nobody told")
        return
    typer.echo(
        f"webinar {webinar_id} changed ({', '.join(change.changed)}), sequence {change.webinar.sequence}; "
        f"{change.partners_notified} invited partners told"
    )


@webinars_app.command("cancel")
def webinars_cancel(
    webinar_id: Annotated[int, typer.Argument(help="Webinar id.")],
    reason: Annotated[str | None, typer.Option(help="Why (kept for managers, not emailed).")] = None,
    by: Annotated[str, typer.Option(help="Who cancels it (logged).")] = "cli",
) -> None:
    """Cancel a session; invitees get a cancellation and are invited to the next session."""
    from partnerflow.services import webinars

    change = _with_services(
        lambda engine, client, settings: _refusing(
            webinars.cancel_webinar(engine, client, webinar_id, reason, by)
        )
    )
    typer.echo(f"webinar {webinar_id} cancelled; {change.partners_notified} invited partners told")


async def _refusing(work: Awaitable[T]) -> T:
    """A refused change (unknown, cancelled or past session) as a CLI error, not a traceback."""
    from partnerflow.services.webinars import WebinarCancelled, WebinarNotFound, WebinarPast

    try:
        return await work
    except (WebinarNotFound, WebinarCancelled, WebinarPast) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _with_services(work: Callable[[Engine, Client, Settings], Awaitable[T]]) -> T:
    """Run ``work(engine, client, settings)`` against the configured database and Temporal."""
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine

    settings = Settings()

    async def main() -> Any:
        engine = make_engine(settings.effective_database_url)
        try:
            return await work(engine, await connect(settings), settings)
        finally:
            engine.dispose()

    result: T = asyncio.run(main())
    return result
