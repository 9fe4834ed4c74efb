"""``partnerflow prospects import`` and ``partnerflow campaigns start|status``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from partnerflow.config import Settings

prospects_app = typer.Typer(help="Prospects to recruit as partners.", no_args_is_help=True)
campaigns_app = typer.Typer(help="Outreach campaigns to prospects.", no_args_is_help=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Where local state lives (default .partnerflow).")
]
Program = Annotated[str, typer.Option(help="Program id.")]


def _settings(data_dir: Path | None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings.data_dir = data_dir
    return settings


@prospects_app.command("import")
def import_prospects(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file.")],
    program: Program = "default",
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="column=field, e.g. --map Mail=email (repeatable).")
    ] = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="List imported rows too, not only problems.")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Import prospects from a CSV and report on every row that was not imported as it is."""
    from partnerflow.domain.prospect_import import CsvFormatError, decode_csv, parse_mapping
    from partnerflow.store import prospects as store
    from partnerflow.store.db import make_engine, session_scope

    settings = _settings(data_dir)
    engine = make_engine(settings.effective_database_url)
    try:
        text = decode_csv(file.read_bytes())
        with session_scope(engine) as session:
            report = store.import_csv(session, program, text, parse_mapping(mapping or []))
    except CsvFormatError as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        engine.dispose()
    for note in report.notes:
        typer.echo(f"note: {note}")
    for row in report.rows:
        if all_rows or row.status != "imported" or row.reason:
            typer.echo(f"row {row.row}\t{row.status}\t{row.email}\t{row.reason}")
    typer.echo(
        f"{report.imported} imported, {report.duplicate} duplicate, {report.invalid} invalid, "
        f"{report.suppressed} suppressed of {report.total} rows into {program} in {report.seconds:.2f} s"
    )


@campaigns_app.command("start")
def start_campaign(
    name: Annotated[str, typer.Option(help="Campaign name.")],
    program: Program = "default",
    step: Annotated[
        list[str] | None,
        typer.Option(
            help="template:delay_days, in order (repeatable); default intro, follow-up day 4, last day 10."
        ),
    ] = None,
    messages_per_minute: Annotated[int, typer.Option(help="Send rate limit.")] = 60,
    prospect_id: Annotated[
        list[int] | None, typer.Option(help="Only these prospects (repeatable); default every new one.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a campaign to the program's prospects and start its workflow."""
    from partnerflow.services.campaigns import CampaignIn, CampaignRefused, campaign_view, start_campaign
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine

    values: dict[str, object] = {"name": name, "program": program, "messages_per_minute": messages_per_minute}
    if step:
        values["steps"] = [_step(item) for item in step]
    if prospect_id:
        values["prospect_ids"] = prospect_id
    try:
        body = CampaignIn.model_validate(values)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    settings = _settings(data_dir)
    engine = make_engine(settings.effective_database_url)

    async def main() -> int:
        return await start_campaign(engine, await connect(settings), settings, body)

    try:
        campaign_id = asyncio.run(main())
        view = campaign_view(engine, campaign_id)
    except CampaignRefused as exc:
        raise typer.BadParameter(str(exc)) from exc
    finally:
        engine.dispose()
    typer.echo(f"campaign {campaign_id} started for {view.progress.members} prospects ({view.workflow_id})")


def _step(item: str) -> dict[str, object]:
    template, _, delay = item.partition(":")
    try:
        return {"template": template.strip(), "delay_days": float(delay or 0)}
    except ValueError as exc:
        raise typer.BadParameter(f"step {item!r} must look like template:delay_days") from exc


@campaigns_app.command("status")
def campaign_status(
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")], data_dir: DataDir = None
) -> None:
    """A campaign's progress, from the store."""
    from partnerflow.services.campaigns import CampaignNotFound, campaign_view
    from partnerflow.store.db import make_engine

    engine = make_engine(_settings(data_dir).effective_database_url)
    try:
        view = campaign_view(engine, campaign_id)
    except CampaignNotFound as exc:
        typer.echo(f"campaign {campaign_id}: campaign not found", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"campaign {view.id} {view.name!r} ({view.program}): {view.status}")
    for key, value in vars(view.progress).items():
        typer.echo(f"  {key:<13}{value}")


@campaigns_app.command("control")
def control_campaign(
    action: Annotated[str, typer.Argument(help="pause, resume or cancel")],
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    reason: Annotated[str, typer.Option(help="Kept with the campaign (e.g. why it was cancelled).")] = "",
    by: Annotated[str, typer.Option(help="Who does it (shown with the campaign).")] = "cli",
    data_dir: DataDir = None,
) -> None:
    """Pause, resume or cancel a campaign (as POST /campaigns/{id}/pause|resume|cancel)."""
    from partnerflow.domain.campaign_controls import CampaignAction
    from partnerflow.services.campaign_controls import CampaignConflict
    from partnerflow.services.campaign_controls import control_campaign as control
    from partnerflow.services.campaigns import CampaignNotFound
    from partnerflow.services.temporal import connect
    from partnerflow.store.db import make_engine

    if action not in {a.value for a in CampaignAction}:
        raise typer.BadParameter(f"{action!r}: choose pause, resume or cancel")
    settings = _settings(data_dir)
    engine = make_engine(settings.effective_database_url)

    async def main() -> str:
        view = await control(engine, await connect(settings), campaign_id, CampaignAction(action), by, reason)
        return view.status

    try:
        status = asyncio.run(main())
    except (CampaignNotFound, CampaignConflict) as exc:
        typer.echo(f"campaign {campaign_id}: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    typer.echo(f"campaign {campaign_id} is {status}")
