"""Where the worker's CPU goes in one journey (issue #15): signed signup → manager approves
through the API → welcome email sent.

Starts the Temporal dev server and the API as processes (bench/local_stack.py), and runs the
production worker (``partnerflow.worker.build_worker``, the same settings, logging and metrics
runtime as ``partnerflow worker``) **in this process**, instrumented:

- each activity's CPU, on its own thread (``time.thread_time``: the machine is shared, so wall
  time would measure the neighbours). Sync activities run on the activity thread pool; for the
  async ``record_webhook_event`` the thread is the event loop's, plus its store part
  (``services.webhooks._record``) on a worker thread;
- each workflow activation, on the workflow task thread pool (sized as the SDK sizes it);
- the event loop's thread (the SDK: polling, activation and activity dispatch, payloads);
- the whole process (``time.process_time``) minus the driver: what is left of it is the SDK
  core's own threads (gRPC, state machines). The driver (the signed signup and the decision over
  HTTP, outbox polls) runs on a thread of its own, measured and subtracted.

Journeys run one at a time, so nothing else shares the threads measured. The first ``--warm``
journeys (imports, template compiles, connections) are not counted. Also counts, per journey,
the activities, local activities, workflow tasks and history events up to the welcome email.
Writes bench/results/journey_profile.json.

    python bench/journey_profile.py --journeys 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import os
import pstats
import sqlite3
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from journey_ratio import shape_of
from load import Signups
from local_stack import AUTH, ROOT, LocalStack, free_port, measure_on_stack, write_result
from temporalio import client as temporal_client
from temporalio import worker as temporal_worker

from partnerflow import worker as worker_module
from partnerflow.config import Settings
from partnerflow.observability.logs import configure_logging
from partnerflow.observability.runtime import worker_runtime
from partnerflow.services import webhooks as webhook_service
from partnerflow.services.temporal import connect
from partnerflow.store.db import make_engine

CPU: dict[str, list[float]] = defaultdict(list)  # what → CPU seconds per call
PROFILED: list[cProfile.Profile] = []  # --cprofile: one per call of the activities named
PROFILE_NAMES: set[str] = set()


class Timed(temporal_client.Interceptor, temporal_worker.Interceptor):
    """Each activity's CPU on the thread that runs it (a client interceptor a worker uses too)."""

    def intercept_activity(
        self, next: temporal_worker.ActivityInboundInterceptor
    ) -> temporal_worker.ActivityInboundInterceptor:
        return _TimedActivity(next)


class _TimedActivity(temporal_worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: temporal_worker.ExecuteActivityInput) -> Any:
        from temporalio import activity

        info = activity.info()
        name = f"{info.activity_type}{' (local)' if info.is_local else ''}"
        fn = input.fn
        if asyncio.iscoroutinefunction(fn):
            name += " [on the event loop]"

            async def timed_async(*args: Any) -> Any:
                started = time.thread_time()
                try:
                    return await fn(*args)
                finally:
                    CPU[name].append(time.thread_time() - started)

            input.fn = timed_async
        else:

            def timed(*args: Any) -> Any:
                started = time.thread_time()
                profile = cProfile.Profile(time.thread_time) if info.activity_type in PROFILE_NAMES else None
                try:
                    return profile.runcall(fn, *args) if profile else fn(*args)
                finally:
                    CPU[name].append(time.thread_time() - started)
                    if profile:
                        PROFILED.append(profile)

            input.fn = timed
        return await self.next.execute_activity(input)


class TimedExecutor(ThreadPoolExecutor):
    """The workflow task pool: each activation's CPU."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        def timed() -> Any:
            started = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                CPU["workflow activations"].append(time.thread_time() - started)

        return super().submit(timed)


def _timed_record(record: Any) -> Any:
    @functools.wraps(record)
    def timed(*args: Any) -> Any:
        started = time.thread_time()
        try:
            return record(*args)
        finally:
            CPU["record_webhook_event: its store part (a thread)"].append(time.thread_time() - started)

    return timed


def welcome_sent(stack: LocalStack, partner_id: str) -> bool:
    with sqlite3.connect(f"file:{stack.db_file}?mode=ro", uri=True, timeout=30) as db:
        query = "SELECT 1 FROM outbox WHERE partner_id = ? AND template = 'welcome' AND status = 'sent'"
        return db.execute(query, (partner_id,)).fetchone() is not None


def drive(stack: LocalStack, tag: str, count: int) -> tuple[list[str], float]:
    """The journeys, one at a time, from this thread's own event loop; (partner ids, its CPU)."""

    async def journeys() -> list[str]:
        ids = []
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=120) as http:
            signups = Signups(http)
            decision = {"decision": "approve", "manager": "bench"}
            for n in range(count):
                partner_id = await signups.partner(n, tag)
                assert partner_id is not None, signups.statuses
                answer = await http.post(f"/partners/{partner_id}/decision", json=decision, headers=AUTH)
                assert answer.status_code in (200, 202), answer.text
                while not welcome_sent(stack, partner_id):  # noqa: ASYNC110 (another process writes it)
                    await asyncio.sleep(0.02)
                ids.append(partner_id)
        return ids

    started = time.thread_time()
    ids = asyncio.run(journeys())
    return ids, time.thread_time() - started


async def measure(stack: LocalStack, args: argparse.Namespace) -> dict[str, Any]:
    os.environ.update({k: v for k, v in stack.env().items() if k.startswith("PARTNERFLOW_")})
    os.environ["PARTNERFLOW_WORKER_METRICS"] = f"127.0.0.1:{free_port()}"
    settings = Settings()
    configure_logging(settings)
    engine = make_engine(settings.effective_database_url)
    client = await connect(settings, worker_runtime(settings), [Timed()])
    webhook_service._record = _timed_record(webhook_service._record)  # type: ignore[assignment]
    original_worker = worker_module.Worker
    workflow_pool = TimedExecutor(
        max_workers=settings.worker_max_concurrent_workflow_tasks or 500, thread_name_prefix="workflow"
    )
    worker_module.Worker = functools.partial(original_worker, workflow_task_executor=workflow_pool)  # type: ignore[misc]
    slots = settings.worker_max_concurrent_activities
    histories: list[dict[str, int]] = []
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="activity") as executor:
        worker = worker_module.build_worker(client, settings, engine, executor)
        async with worker:
            await asyncio.to_thread(drive, stack, "warm", args.warm)
            CPU.clear()
            PROFILED.clear()
            loop_started, process_started = time.thread_time(), time.process_time()
            wall_started = time.monotonic()
            loop_profile = cProfile.Profile(time.thread_time) if "event-loop" in PROFILE_NAMES else None
            if loop_profile:
                loop_profile.enable()
            ids, driver_cpu = await asyncio.to_thread(drive, stack, "p", args.journeys)
            if loop_profile:
                loop_profile.disable()
                PROFILED.append(loop_profile)
            loop_cpu = time.thread_time() - loop_started
            process_cpu = time.process_time() - process_started
            wall = time.monotonic() - wall_started
            for partner_id in ids[:5]:
                _, counts = await shape_of(client, partner_id)
                histories.append(counts)
    engine.dispose()
    worker_module.Worker = original_worker  # type: ignore[misc]
    n = args.journeys
    rows = {
        name: {
            "calls_per_journey": round(len(samples) / n, 2),
            "mean_cpu_ms": round(1000 * sum(samples) / len(samples), 2),
            "cpu_ms_per_journey": round(1000 * sum(samples) / n, 2),
        }
        for name, samples in sorted(CPU.items())
    }
    measured = sum(row["cpu_ms_per_journey"] for name, row in rows.items() if "event loop" not in name)
    worker_cpu = process_cpu - driver_cpu
    loop_ms = 1000 * loop_cpu / n
    return {
        "journeys": n,
        "per_activity": rows,
        "worker_cpu_ms_per_journey": round(1000 * worker_cpu / n, 2),
        "activities_and_activations_cpu_ms_per_journey": round(measured, 2),
        "event_loop_cpu_ms_per_journey": round(loop_ms, 2),
        "sdk_core_threads_cpu_ms_per_journey": round(1000 * worker_cpu / n - measured - loop_ms, 2),
        "driver_cpu_ms_per_journey": round(1000 * driver_cpu / n, 2),
        "wall_ms_per_journey": round(1000 * wall / n, 1),
        "history_up_to_welcome": histories[0] if histories else {},
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--journeys", type=int, default=40)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument(
        "--cprofile", default="", help="activity names to cProfile (comma-separated; event-loop: the loop)"
    )
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "journey_profile.json")
    args = parser.parse_args()
    PROFILE_NAMES.update(name for name in args.cprofile.split(",") if name)
    result = measure_on_stack(
        "partnerflow-journey-profile-", lambda stack: measure(stack, args), others=("api",)
    )
    print(f"{'per journey':<50} {'calls':>6} {'mean CPU ms':>12} {'CPU ms':>8}")
    for name, row in result["per_activity"].items():
        print(
            f"{name:<50} {row['calls_per_journey']:>6} {row['mean_cpu_ms']:>12} "
            f"{row['cpu_ms_per_journey']:>8}"
        )
    print(f"{'activities + workflow activations':<50} {'':>6} {'':>12} "
          f"{result['activities_and_activations_cpu_ms_per_journey']:>8}")  # fmt: skip
    for label, key in (
        ("event loop (SDK, record_webhook_event)", "event_loop_cpu_ms_per_journey"),
        ("other threads (SDK core, gRPC)", "sdk_core_threads_cpu_ms_per_journey"),
        ("worker total (process minus the driver)", "worker_cpu_ms_per_journey"),
        ("(the driver: HTTP calls, outbox polls)", "driver_cpu_ms_per_journey"),
    ):
        print(f"{label:<50} {'':>6} {'':>12} {result[key]:>8}")
    if PROFILED:
        pstats.Stats(*PROFILED).sort_stats(args.sort).print_stats(40)  # type: ignore[arg-type]
    print(f"history up to the welcome email: {result['history_up_to_welcome']}")
    print(f"load average: {result['load_average']}")
    write_result(result, args.output, "bench/journey_profile.py")


if __name__ == "__main__":
    main()
