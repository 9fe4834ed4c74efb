"""Benchmark (issue #15): a partner's journey against a no-op workflow of the same shape.

Journey: signed signup → manager approves through the API → welcome email sent (seen in the
outbox). No-op: ``ShapedWorkflow`` (bench/noop.py) with the same activities in the same batches
(read from the first journey's history: before the decision, inside the decision update, after
it, up to the welcome email), started, updated and awaited straight on the same Temporal server.
Rounds alternate (journeys, no-ops, no-ops, journeys, ...); each round is ``--count`` items at
``--concurrency``; the ratio is the median journey throughput over the median no-op throughput.

    python bench/journey_ratio.py --rounds 3 --count 100 --concurrency 20
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from load import Signups
from local_stack import AUTH, NOOP_QUEUE, ROOT, LocalStack, measure_on_stack, write_result
from noop import Shape, ShapedWorkflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from partnerflow.domain.lifecycle import workflow_id_for


class WelcomeWatcher:
    """Which partners' welcome email is sent: one outbox read every 50 ms."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack, self.sent = stack, set[str]()

    def _read(self) -> None:
        import sqlite3

        with sqlite3.connect(f"file:{self.stack.db_file}?mode=ro", uri=True, timeout=30) as db:
            # All of them each time (a few hundred): rows are inserted pending and marked sent out
            # of id order, so an id watermark would skip some.
            rows = db.execute("SELECT partner_id FROM outbox WHERE template = 'welcome' AND status = 'sent'")
            self.sent.update(partner_id for (partner_id,) in rows)

    async def run(self) -> None:
        while True:
            await asyncio.to_thread(self._read)
            await asyncio.sleep(0.05)

    async def wait(self, partner_id: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while partner_id not in self.sent:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no welcome email for {partner_id}")
            await asyncio.sleep(0.02)


async def shape_of(client: Client, partner_id: str) -> tuple[Shape, dict[str, int]]:
    """The journey's activity batches up to the welcome email, and the events around them."""
    history = await client.get_workflow_handle(workflow_id_for(partner_id)).fetch_history()
    phase, shape, last_task = "before", Shape(), None
    counts = {"activities": 0, "local_activities": 0, "timers": 0, "workflow_tasks": 0}
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            phase, last_task = "during", None
        elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            phase, last_task = "after", None
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            counts["local_activities"] += 1
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            counts["timers"] += 1
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            counts["workflow_tasks"] += 1
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            batches: list[int] = getattr(shape, phase)
            if attributes.workflow_task_completed_event_id == last_task and batches:
                batches[-1] += 1
            else:
                batches.append(1)
            last_task = attributes.workflow_task_completed_event_id
            counts["activities"] += 1
            payloads = b"".join(p.data for p in attributes.input.payloads)
            if attributes.activity_type.name == "send_email" and b'"welcome"' in payloads:
                break
    return shape, counts


async def rounds_of(count: int, concurrency: int, item: Callable[[int], Awaitable[None]]) -> float:
    """``count`` items, ``concurrency`` at a time; items per second."""
    numbers, started = iter(range(count)), time.monotonic()

    async def lane() -> None:
        for n in numbers:
            await item(n)

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return count / (time.monotonic() - started)


async def measure(stack: LocalStack, args: argparse.Namespace) -> dict[str, object]:
    client = await Client.connect(stack.temporal_address)
    watcher = WelcomeWatcher(stack)
    watching = asyncio.create_task(watcher.run())
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=120, limits=limits) as http:
        signups, decisions = Signups(http), dict[int, int]()

        async def journey(n: int, tag: str) -> str:
            partner_id = await signups.partner(n, tag)
            assert partner_id is not None, signups.statuses
            decision = {"decision": "approve", "manager": "bench"}
            for _ in range(10):  # as docs/api.md tells a client: after a 202, check, and repeat
                answer = await http.post(f"/partners/{partner_id}/decision", json=decision, headers=AUTH)
                decisions[answer.status_code] = decisions.get(answer.status_code, 0) + 1
                assert answer.status_code in (200, 202, 409), answer.text
                try:
                    await watcher.wait(partner_id, 30 if answer.status_code == 202 else 300)
                    return partner_id
                except TimeoutError:
                    continue
            raise TimeoutError(f"partner {partner_id} never got a welcome email")

        async def noop(shape: Shape) -> None:
            handle = await client.start_workflow(
                ShapedWorkflow.run, shape, id=f"shaped-{uuid.uuid4().hex}", task_queue=NOOP_QUEUE
            )
            await handle.execute_update(ShapedWorkflow.decide, "approve")
            await handle.result()

        first = await journey(0, "warm")
        shape, counts = await shape_of(client, first)
        for n in range(1, 5):
            await journey(n, "warm")
            await noop(shape)
        results: dict[str, list[float]] = {"journey": [], "noop": []}
        for r in range(args.rounds):
            order = ["journey", "noop"] if r % 2 == 0 else ["noop", "journey"]
            for kind in order:
                if kind == "journey":
                    rate = await rounds_of(args.count, args.concurrency, lambda n, r=r: journey(n, f"r{r}-"))  # type: ignore[misc]
                else:
                    rate = await rounds_of(args.count, args.concurrency, lambda _: noop(shape))
                results[kind].append(round(rate, 2))
                print(f"round {r + 1} {kind:<8} {rate:6.2f} per second", flush=True)
    watching.cancel()
    journey_median, noop_median = statistics.median(results["journey"]), statistics.median(results["noop"])
    return {
        "shape": {"before": shape.before, "during_update": shape.during, "after": shape.after},
        "journey_history_up_to_welcome": counts,
        "per_second": results,
        "decision_answers": {str(k): v for k, v in sorted(decisions.items())},
        "journey_median": journey_median,
        "noop_median": noop_median,
        "ratio": round(journey_median / noop_median, 3),
        "round_ratios": [round(j / n, 3) for j, n in zip(results["journey"], results["noop"], strict=True)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "journey_ratio.json")
    args = parser.parse_args()
    result = measure_on_stack("partnerflow-journey-", lambda stack: measure(stack, args))
    print(
        f"shape (activity batches): {result['shape']}; "
        f"journey history: {result['journey_history_up_to_welcome']}"
    )
    print(f"{'':<10} {'per second (rounds)':<28} median")
    for kind in ("journey", "noop"):
        print(f"{kind:<10} {result['per_second'][kind]!s:<28} {result[kind + '_median']}")  # type: ignore[index]
    print(f"ratio journey / no-op: {result['ratio']} (rounds: {result['round_ratios']})")
    write_result(result, args.output, "bench/journey_ratio.py")


if __name__ == "__main__":
    main()
