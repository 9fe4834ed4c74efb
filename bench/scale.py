"""Benchmark (issue #15): worker memory, signup latency and the partner list as the program grows.

Starts its own stack on the embedded defaults (bench/local_stack.py: Temporal dev server with a
SQLite file, the worker, the API under uvicorn, a no-op bench worker), then for each step:
  1. fills the program up to the step with signed signups through the real API (high concurrency;
     the partners stay in ``applied``, waiting on their reminder timers) and waits for the worker
     to finish their first activities;
  2. reads the worker's RSS;
  3. offers a bare ``start_workflow`` of an empty workflow (bench/noop.py) at ``--rate`` for
     ``--duration`` s: the server's own cost of a start, the baseline;
  4. offers signed signups at the same rate for the same time (open loop: latency counts from when
     a request was due);
  5. times ``GET /partners?stage=applied&limit=50``.
Prints a table and writes bench/results/scale.json.

    python bench/scale.py --steps 1000,10000 --rate 200 --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from load import IN_FLIGHT, Signups, offer, percentile
from local_stack import AUTH, NOOP_QUEUE, ROOT, LocalStack, cpu_seconds, rss_mib
from noop import EmptyWorkflow
from temporalio.client import Client

SENT_RECEIVED = "SELECT count(*) FROM outbox WHERE template = 'application_received' AND status = 'sent'"


async def settle(stack: LocalStack, partners: int, timeout: float = 1800) -> float:
    """Wait until every partner's first email is sent and the worker is idle; seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await asyncio.to_thread(stack.count, SENT_RECEIVED) >= partners:
            break
        await asyncio.sleep(1)
    pid = stack.pid("worker")
    while time.monotonic() - started < timeout:  # idle: under 5 % of a core for 2 s
        before = cpu_seconds(pid)
        await asyncio.sleep(2)
        if cpu_seconds(pid) - before < 0.1:
            break
    return time.monotonic() - started


def cpu_by_process(
    stack: LocalStack, since: dict[str, float] | None = None, per: int = 1
) -> dict[str, float]:
    """CPU seconds of each part so far; with ``since``, the ms spent per request since then."""
    now = {name: cpu_seconds(stack.pid(name)) for name in ("temporal", "worker", "api", "noop")}
    if since is None:
        return now
    return {name: round((now[name] - since[name]) * 1000 / max(per, 1), 2) for name in now}


async def list_latency(http: httpx.AsyncClient, count: int = 50) -> dict[str, float]:
    samples = []
    for _ in range(count):
        started = time.monotonic()
        response = await http.get("/partners", params={"stage": "applied", "limit": 50}, headers=AUTH)
        response.raise_for_status()
        samples.append(time.monotonic() - started)
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 1),
        "p99_ms": round(percentile(samples, 99) * 1000, 1),
    }


async def offered_pair(
    stack: LocalStack, client: Client, signups: Signups, rate: float, duration: float, tag: str
) -> dict[str, object]:
    """The bare start at ``rate``, then signed signups at ``rate``; CPU per request of each part."""

    async def bare(_: int) -> bool:
        await client.start_workflow(EmptyWorkflow.run, id=f"empty-{uuid.uuid4().hex}", task_queue=NOOP_QUEUE)
        return True

    cpu = cpu_by_process(stack)
    baseline = await offer(rate, duration, bare)
    baseline_cpu = cpu_by_process(stack, since=cpu, per=baseline.ok)
    before = await asyncio.to_thread(stack.count, SENT_RECEIVED)
    cpu = cpu_by_process(stack)
    signed = await offer(rate, duration, lambda n: signups(n, tag))
    await settle(stack, before + signed.ok)  # the worker's share of these signups too
    signed_cpu = cpu_by_process(stack, since=cpu, per=signed.ok)
    return {
        "bare_start": baseline.as_json(),
        "signup": signed.as_json(),
        "cpu_ms_per_request": {"bare_start": baseline_cpu, "signup": signed_cpu},
        "p99_ratio": round(signed.p99_ms / baseline.p99_ms, 2) if baseline.p99_ms else None,
    }


async def measure(
    args: argparse.Namespace, stack: LocalStack, on_step: Callable[[dict[str, object]], None] | None = None
) -> dict[str, object]:
    client = await Client.connect(stack.temporal_address)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    steps: list[dict[str, object]] = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60, limits=limits) as http:
        signups = Signups(http)
        await signups.fill(20, 5, "warm")  # imports, connections, caches: not the first step's cost
        await settle(stack, 20)
        idle_rss = rss_mib(stack.pid("worker"))
        partners = 20
        for target in args.steps:
            filled, fill_seconds = await signups.fill(
                max(0, target - partners), args.fill_concurrency, f"f{target}-"
            )
            partners += filled
            settled = await settle(stack, partners)
            rss = rss_mib(stack.pid("worker"))

            step: dict[str, object] = {
                "partners": partners,
                "fill": {
                    "signups": filled,
                    "seconds": round(fill_seconds, 1),
                    "settle_seconds": round(settled, 1),
                },
                "worker_rss_mib": round(rss, 1),
            }
            for rate in args.rate:
                at_rate = await offered_pair(
                    stack, client, signups, rate, args.duration, f"m{target}-{rate:g}-"
                )
                partners += at_rate["signup"]["ok"]  # type: ignore[index]
                step[f"rate_{rate:g}"] = at_rate
                print(row(partners, step["worker_rss_mib"], at_rate), flush=True)
            step["list_applied"] = await list_latency(http)
            step["partners_after"] = partners
            step["worker_rss_after_mib"] = round(rss_mib(stack.pid("worker")), 1)
            step["answers_so_far"] = {str(k): v for k, v in signups.statuses.items()}
            print(f"{'':>9} GET /partners?stage=applied&limit=50: {step['list_applied']}", flush=True)
            steps.append(step)
            if on_step is not None:
                on_step({"idle_worker_rss_mib": round(idle_rss, 1), "steps": steps})
    return {"idle_worker_rss_mib": round(idle_rss, 1), "steps": steps}


HEADER = (
    f"{'partners':>9} {'RSS MiB':>8} | {'offered':>7} | "
    f"{'signup/s':>8} {'err':>5} {'p50 ms':>8} {'p99 ms':>8} | "
    f"{'start/s':>7} {'err':>4} {'p50':>6} {'p99':>6} | {'p99 x':>6}"
)


def row(partners: int, rss: object, at_rate: dict[str, object]) -> str:
    s, b = at_rate["signup"], at_rate["bare_start"]
    assert isinstance(s, dict) and isinstance(b, dict)
    return (
        f"{partners:>9} {rss:>8} | {s['offered_rate']:>7g} | {s['achieved_rate']:>8} {s['errors']:>5} "
        f"{s['p50_ms']:>8} {s['p99_ms']:>8} | {b['achieved_rate']:>7} {b['errors']:>4} {b['p50_ms']:>6} "
        f"{b['p99_ms']:>6} | {at_rate['p99_ratio']:>6}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", default="1000,10000", help="partner counts, comma-separated")
    parser.add_argument(
        "--rate", default="200", help="offered requests per second (comma-separated: each in turn)"
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of offered load per measurement")
    parser.add_argument("--fill-concurrency", type=int, default=64)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    parser.add_argument("--keep", action="store_true", help="keep the stack's directory (logs, databases)")
    args = parser.parse_args()
    args.steps = [int(step) for step in args.steps.split(",")]
    args.rate = [float(rate) for rate in args.rate.split(",")]

    stack = LocalStack(Path(tempfile.mkdtemp(prefix="partnerflow-scale-")))
    print(f"stack in {stack.workdir}", flush=True)
    about = {
        "command": " ".join(["bench/scale.py", *sys.argv[1:]]),
        "rates": args.rate,
        "duration_s": args.duration,
        "worker_max_cached_workflows": int(os.environ.get("PARTNERFLOW_WORKER_MAX_CACHED_WORKFLOWS", 1000)),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "note": "shared, loaded"},
    }

    def write(results: dict[str, object]) -> None:  # after every step: a long run keeps what it measured
        results = results | about | {"finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(results, indent=2) + "\n")

    try:
        stack.up()
        print(HEADER, flush=True)
        asyncio.run(measure(args, stack, write))
    finally:
        stack.down()
        if not args.keep:
            shutil.rmtree(stack.workdir, ignore_errors=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
