"""A workflow's history across continue-as-new: every run's events, oldest run first."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client


async def events_of_all_runs(client: Client, workflow_id: str, first_run_id: str) -> list[HistoryEvent]:
    """Follow the chain from the first run: each ends by continuing-as-new into the next."""
    events: list[HistoryEvent] = []
    run_id = first_run_id
    while run_id:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        run = [event async for event in handle.fetch_history_events()]
        events.extend(run)
        last = run[-1]
        continued = last.HasField("workflow_execution_continued_as_new_event_attributes")
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if continued
            else ""
        )
    return events


def activities(events: list[HistoryEvent]) -> list[tuple[str, datetime]]:
    """(activity name, when it was scheduled) of every activity, local ones included."""
    found = []
    for event in events:
        at = event.event_time.ToDatetime(tzinfo=UTC)
        if event.HasField("activity_task_scheduled_event_attributes"):
            found.append((event.activity_task_scheduled_event_attributes.activity_type.name, at))
        elif event.marker_recorded_event_attributes.marker_name == "core_local_activity":  # only one kind
            found.append(("record_webhook_event (local)", at))
    return found


def times_of(events: list[HistoryEvent], activity: str) -> list[datetime]:
    return [at for name, at in activities(events) if name == activity]
