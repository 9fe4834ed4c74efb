"""Chaos suite: partner journeys on the production-shaped stack while things break.

PostgreSQL, the real Temporal dev server (persistent database file), one worker process, two API
processes (uvicorn) and the SendGrid/Slack fakes, all on this machine. Scenarios:

  a  N journeys (signup → approve → terms → welcome kit) while the worker is SIGKILLed and
     restarted at random moments: N/N complete, every message exactly once.
  b  N journeys while the Temporal dev server is killed and restarted mid-run: every partner
     resumes, nothing is lost.
  c  N journeys while SendGrid and Slack answer 30 % 429/5xx/timeouts, plus partners whose
     address SendGrid refuses for good: everything delivered once (p50/p95/max delivery delay);
     a refused address is marked failed, managers are alerted and the workflow goes on.
  d  the same signed signup delivered concurrently to both API processes 20 times: one partner,
     one workflow.

    python bench/chaos.py                              # all scenarios, 100 partners each
    python bench/chaos.py --partners 30 --scenarios a,c

Each scenario prints a table and writes bench/results/chaos-<scenario>-<time>.json. Needs
PostgreSQL (PARTNERFLOW_TEST_POSTGRES_URL, default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from chaos_journeys import Answers, Watcher, journey, publish_terms, retrying, signup, signup_body
from chaos_report import audit, bounced, percentiles, report, verdict
from chaos_stack import ROOT, Stack
from sqlalchemy import text
from temporalio.client import Client

RESULTS = ROOT / "bench" / "results"


async def run_journeys(
    stack: Stack, count: int, first: int, concurrency: int, bounces: int = 0
) -> dict[str, Any]:
    answers, durations, failures = Answers(), [], []
    gate = asyncio.Semaphore(concurrency)
    async with (
        httpx.AsyncClient(base_url=stack.api_urls[0], timeout=60) as a,
        httpx.AsyncClient(base_url=stack.api_urls[1], timeout=60) as b,
    ):
        await publish_terms(a)
        with Watcher(stack) as watcher:

            async def one(n: int) -> None:
                async with gate:
                    try:
                        durations.append(
                            await journey(n, [a, b], watcher, answers, bounce=n < first + bounces)
                        )
                    except Exception as exc:  # reported, never hidden
                        failures.append(f"partner {n}: {type(exc).__name__}: {exc}")

            await asyncio.gather(*(one(n) for n in range(first, first + count)))
    return {
        "journeys": count,
        "completed": len(durations),
        "failures": failures[:10],
        "journey_s": percentiles(durations),
        "api_answers": answers.as_json(),
    }


async def breaking(
    stack: Stack, done: asyncio.Event, what: str, times: int, gap: tuple[float, float], down: float
) -> list[float]:
    """Kill ``what`` ``times`` times at random moments while the journeys run; restart it after ``down`` s."""
    started, kills = time.monotonic(), []
    for _ in range(times):
        try:
            await asyncio.wait_for(done.wait(), random.uniform(*gap))
            break
        except TimeoutError:
            pass
        stack.broken_on_purpose.add(what)
        stack.kill(what)
        kills.append(round(time.monotonic() - started, 1))
        await asyncio.sleep(down)
        stack.restart(what)
        stack.broken_on_purpose.discard(what)
        if what == "temporal":
            await asyncio.to_thread(stack.wait_for_temporal)
    return kills


async def supervise(stack: Stack, done: asyncio.Event) -> None:
    """Like a process manager: restart a worker or API process that died on its own."""
    while not done.is_set():
        for name, process in list(stack.processes.items()):
            if name not in ("temporal", *stack.broken_on_purpose) and process.poll() is not None:
                stack.restart(name)
                stack.restarts[f"{name} (crashed)"] += 1
        await asyncio.sleep(1)


async def scenario(stack: Stack, args: argparse.Namespace, name: str, first: int) -> dict[str, Any]:
    done = asyncio.Event()
    supervisor = asyncio.create_task(supervise(stack, done))
    breaker = None
    if name == "a":
        breaker = asyncio.create_task(
            breaking(stack, done, "worker", args.worker_kills, (1.0, args.kill_gap), 1.0)
        )
    elif name == "b":
        breaker = asyncio.create_task(
            breaking(stack, done, "temporal", 1, (args.kill_gap, args.kill_gap * 2), 5.0)
        )
    elif name == "c":
        stack.sendgrid.chaos(0.3, seed=1)
        stack.slack.chaos(0.3, seed=2)
    started = time.monotonic()
    result = await run_journeys(
        stack, args.partners, first, args.concurrency, bounces=2 if name == "c" else 0
    )
    result["seconds"] = round(time.monotonic() - started, 1)
    done.set()
    result["kills_at_s"] = await breaker if breaker else []
    await supervisor
    stack.sendgrid.chaos(0)
    stack.slack.chaos(0)
    if name == "c":
        result["bounced"] = bounced(stack, first)
    return result


async def duplicate_signups(stack: Stack, deliveries: int = 20) -> dict[str, Any]:
    body = signup_body("twin@example.com", "Twin Deliveries")
    answers = Answers()
    async with (
        httpx.AsyncClient(base_url=stack.api_urls[0], timeout=60) as a,
        httpx.AsyncClient(base_url=stack.api_urls[1], timeout=60) as b,
    ):
        replies = await asyncio.gather(
            *(
                retrying("signup", answers, lambda api=api: signup(api, body))
                for api in [a, b] * (deliveries // 2)
            )
        )
    partner_ids = {r.json()["partner_id"] for r in replies}
    with stack.engine.connect() as db:
        rows = db.execute(text("SELECT count(*) FROM partners WHERE email = 'twin@example.com'")).scalar_one()
    client = await Client.connect(f"127.0.0.1:{stack.temporal_port}")
    workflows = await client.count_workflows(f"WorkflowId = 'partner-{next(iter(partner_ids))}'")
    return {"deliveries": deliveries, "api_answers": answers.as_json(), "partner_ids": len(partner_ids),
            "partner_rows": rows, "workflows": workflows.count}  # fmt: skip


async def main(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="partnerflow-chaos-"))
    stack = Stack(workdir)
    problems: list[str] = []
    try:
        await asyncio.to_thread(stack.up)
        print(f"stack up in {workdir} (PostgreSQL database {stack.database})")
        for index, name in enumerate(args.scenarios.split(",")):
            before, since = dict(stack.restarts), datetime.now(UTC)
            result = (
                await duplicate_signups(stack)
                if name == "d"
                else await scenario(stack, args, name, index * 10_000)
            )
            if name != "d":
                result["audit"] = audit(stack, since)
            result["restarts"] = {
                k: v - before.get(k, 0) for k, v in stack.restarts.items() if v - before.get(k, 0)
            }
            report(name, result, args)
            problems += [f"{name}: {p}" for p in verdict(name, result)]
    finally:
        stack.down(keep_database=args.keep)
    print("\nALL HELD" if not problems else "\nPROBLEMS:\n  " + "\n  ".join(problems))
    return 1 if problems else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=100, help="journeys per scenario (default 100)")
    parser.add_argument("--scenarios", default="a,b,c,d", help="which, comma-separated (default a,b,c,d)")
    parser.add_argument("--worker-kills", type=int, default=10, help="SIGKILLs of the worker in scenario a")
    parser.add_argument("--kill-gap", type=float, default=6.0, help="longest gap between kills, seconds")
    parser.add_argument("--concurrency", type=int, default=20, help="journeys in flight at once")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes (bench/results)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
