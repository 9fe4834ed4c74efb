"""Benchmark: what active partners cost per day, and when in the day their checks wake up.

Starts N partners' lifecycle workflows directly in ``active`` (as after continue-as-new or a
migration phase), all active since the same instant, on the Temporal time-skipping test server
with the production activities on a temporary SQLite store, and lets D simulated days pass. From
every run's history it counts, per partner-day, the activities (local ones too), timers and
workflow tasks, and buckets the wake-ups (timers fired) and activities into the 24 hours of the
day: max bucket / mean bucket is 1.0 for a perfectly even day and 24 when everything happens in
one hour. The ``baseline`` mode runs the same with the ``spread-engagement-checks`` patch off
(the code path partners started before it keep). Also gives the hour spread of 100,000 partner
ids from the pure functions. Prints a table; writes bench/results/engagement_cost.json.

    python bench/engagement_cost.py --partners 200 --days 30 --review-days 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

from pydantic import SecretStr  # noqa: E402
from run_history import activities, events_of_all_runs  # noqa: E402
from sqlmodel import col, func, select  # noqa: E402
from temporalio import workflow  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import UnsandboxedWorkflowRunner, Worker  # noqa: E402

from partnerflow.config import Settings, bundled_binary  # noqa: E402
from partnerflow.domain.check_times import next_check, review_runs_at  # noqa: E402
from partnerflow.domain.engagement import EngagementRules  # noqa: E402
from partnerflow.domain.lifecycle import LifecycleState, workflow_id_for  # noqa: E402
from partnerflow.domain.stages import CHECKLIST_ITEMS, Stage  # noqa: E402
from partnerflow.services.temporal import lifecycle_input  # noqa: E402
from partnerflow.store.db import make_engine, session_scope, upgrade  # noqa: E402
from partnerflow.store.models import OutboxMessage, Partner  # noqa: E402
from partnerflow.store.onboarding import ensure_program  # noqa: E402
from partnerflow.worker import WORKFLOWS  # noqa: E402
from partnerflow.worker import activities as production_activities  # noqa: E402
from partnerflow.workflows.engagement import SPREAD_CHECKS  # noqa: E402
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "engagement_cost.json"
DAY = timedelta(days=1)
_patched = workflow.patched


def spread_ratio(times: list[datetime]) -> float:
    """Max hourly bucket / mean bucket over the 24 hours of the day (UTC)."""
    buckets = Counter(t.hour for t in times)
    return round(max(buckets.values()) / (len(times) / 24), 2) if times else 0.0


def ids_spread(count: int, interval: timedelta, period: timedelta) -> dict[str, float]:
    """The pure functions over ``count`` partner ids activated at one instant (no Temporal)."""
    at = datetime(2026, 3, 1, tzinfo=UTC)
    ids = [f"p{n:07d}" for n in range(count)]
    return {
        "partners": count,
        "checks_max_over_mean_hour": spread_ratio([next_check(pid, interval, at) for pid in ids]),
        "reviews_max_over_mean_hour": spread_ratio(
            [review_runs_at(pid, interval, period, at) for pid in ids]
        ),
    }


def _without_spread(patch_id: str) -> bool:
    """``workflow.patched`` with the spread patch off: runs take the path of pre-patch partners."""
    return patch_id != SPREAD_CHECKS and _patched(patch_id)


async def run_mode(mode: str, partners: int, days: int, rules: EngagementRules) -> dict[str, Any]:
    workflow.patched = _without_spread if mode == "baseline" else _patched  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(prefix="partnerflow-bench-") as tmp:
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), task_queue=f"bench-{mode}", engagement=rules,
            webhook_secret=SecretStr("bench"), manager_tokens=SecretStr("alice:bench"),
            portal_secret=SecretStr("bench"), public_url="http://partnerflow.bench",
        )  # fmt: skip
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        with session_scope(engine) as session:
            ensure_program(session, "default", settings.default_landing_url)
            ids = []
            for n in range(partners):
                partner = Partner(program="default", email=f"p{n}@example.com", name=f"Partner {n}")
                session.add(partner)
                ids.append(partner.id)
        env = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=bundled_binary("temporal-test-server"),
            data_converter=pydantic_data_converter,
        )
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=8) as executor:
                worker = Worker(
                    env.client, task_queue=settings.task_queue, workflows=list(WORKFLOWS),
                    activities=production_activities(settings, engine), activity_executor=executor,
                    max_concurrent_activities=8, workflow_runner=UnsandboxedWorkflowRunner(),
                )  # fmt: skip
                async with worker:
                    activated = await env.get_current_time()
                    checklist = dict.fromkeys(CHECKLIST_ITEMS, True)
                    handles = []
                    for pid in ids:
                        state = LifecycleState(
                            stage=Stage.ACTIVE, checklist=checklist, active_since=activated
                        )
                        handles.append(
                            await env.client.start_workflow(
                                PartnerLifecycleWorkflow.run,
                                lifecycle_input(settings, pid, "default", state),
                                id=workflow_id_for(pid),
                                task_queue=settings.task_queue,
                            )
                        )
                    for _ in range(days * 4):  # in steps: one long sleep's RPC would time out
                        await env.sleep(timedelta(hours=6))
                    histories = [
                        await events_of_all_runs(env.client, h.id, h.first_execution_run_id or "")
                        for h in handles
                    ]
                    for handle in handles:
                        await handle.terminate("bench over")
        finally:
            await env.shutdown()
        with session_scope(engine) as session:
            statement = select(OutboxMessage.template, func.count()).group_by(col(OutboxMessage.template))
            templates = {template: count for template, count in session.exec(statement)}
        engine.dispose()
    return summarize(mode, partners, days, activated, histories, templates, time.monotonic() - started)


def summarize(
    mode: str, partners: int, days: int, activated: datetime,
    histories: list[list[Any]], templates: dict[str, int], seconds: float,
) -> dict[str, Any]:  # fmt: skip
    # Whole days, from an hour after activation (its own snapshot is not daily cost; partners' runs
    # started within seconds of each other), ending before the last simulated day. Each partner-day
    # holds one check slot; a review day is one whose slot the review took.
    start, days = activated + timedelta(hours=1), days - 1
    kinds: Counter[str] = Counter()
    activity_times, wakeups = [], []
    plain, review = Counter[str](), Counter[str]()  # totals over plain days and over review days
    for history in histories:
        per_day: dict[int, Counter[str]] = {}
        for name, at in activities(history):
            if start < at <= start + timedelta(days=days):
                kinds[name] += 1
                activity_times.append(at)
                day = per_day.setdefault((at - start) // DAY, Counter())
                day["activities"] += 1
                day["reviews"] += name == "compute_review"
        for event in history:
            at = event.event_time.ToDatetime(tzinfo=UTC)
            if not start < at <= start + timedelta(days=days):
                continue
            day = per_day.setdefault((at - start) // DAY, Counter())
            day["history_events"] += 1
            day["workflow_tasks"] += event.HasField("workflow_task_completed_event_attributes")
            if event.HasField("timer_fired_event_attributes"):
                day["timers_fired"] += 1
                wakeups.append(at)
        for day in per_day.values():
            (review if day["reviews"] else plain).update(day | {"days": 1})
    mean = lambda totals: {k: round(v / totals["days"], 3) for k, v in totals.items() if k != "days"}  # noqa: E731
    partner_days = partners * days
    return {
        "mode": mode,
        "partners": partners,
        "days_counted": days,
        "wall_seconds": round(seconds, 1),
        "per_partner_day": {
            "activities": round(sum(kinds.values()) / partner_days, 3),
            **{name: round(count / partner_days, 3) for name, count in sorted(kinds.items())},
        },
        "plain_day": mean(plain) if plain else {},
        "review_day": mean(review) if review else {},
        "reviews_per_partner": round(kinds["compute_review"] / partners, 2),
        "emails_by_template": templates,
        "wakeups_max_over_mean_hour": spread_ratio(wakeups),
        "activities_max_over_mean_hour": spread_ratio(activity_times),
        "wakeups_by_hour": [Counter(t.hour for t in wakeups)[h] for h in range(24)],
    }


def table(results: list[dict[str, Any]], ids: dict[str, float]) -> str:
    lines = [f"{'':<38}" + "".join(f"{r['mode']:>12}" for r in results)]
    for section in ("per_partner_day", "plain_day", "review_day"):
        lines.append(section.replace("_", " "))
        for key in sorted({key for r in results for key in r[section]} - {"reviews"}):
            lines.append(f"  {key:<36}" + "".join(f"{r[section].get(key, 0):>12}" for r in results))
    for key in ("reviews_per_partner", "wakeups_max_over_mean_hour", "activities_max_over_mean_hour"):
        lines.append(f"{key:<38}" + "".join(f"{r[key]:>12}" for r in results))
    lines.append(f"{'wall seconds':<38}" + "".join(f"{r['wall_seconds']:>12}" for r in results))
    lines.append(
        f"{ids['partners']:,} ids (pure functions): checks {ids['checks_max_over_mean_hour']}, "
        f"reviews {ids['reviews_max_over_mean_hour']} max/mean hour"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--review-days", type=float, default=10, help="review period (production: 90)")
    parser.add_argument("--modes", default="spread,baseline", help="spread, baseline or both")
    args = parser.parse_args()
    rules = EngagementRules(review_period_days=args.review_days)
    results = [asyncio.run(run_mode(mode, args.partners, args.days, rules)) for mode in args.modes.split(",")]
    ids = ids_spread(100_000, rules.check_interval, rules.review_period)
    print(table(results, ids))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    report = {"recorded_at": datetime.now(UTC).isoformat(timespec="seconds"), "review_days": args.review_days}
    RESULTS.write_text(json.dumps({**report, "ids": ids, "runs": results}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
