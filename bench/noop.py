"""The baselines the scale and journey benchmarks compare against, on their own task queue.

- ``EmptyWorkflow``: does nothing; a bare ``start_workflow`` of it is what the Temporal server
  costs for a start (``bench/scale.py`` offers it at the same rate as the signups).
- ``ShapedWorkflow``: no-op activities in the same batches as a partner's journey (activities
  started together run together): some, then one update that runs some before it answers, then
  the rest
  (``bench/journey_ratio.py``).

Run by the benchmarks as a separate process::

    python -c "from noop import main; main()" --address 127.0.0.1:7233 --task-queue bench-noop
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@dataclass
class Shape:
    before: list[int] = field(default_factory=list)  # activity batches before the update
    during: list[int] = field(default_factory=list)  # in the update handler, before it answers
    after: list[int] = field(default_factory=list)  # after it


@activity.defn
async def noop_activity(n: int) -> int:
    return n


@workflow.defn
class EmptyWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class ShapedWorkflow:
    @workflow.init
    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.decided = False

    @workflow.run
    async def run(self, shape: Shape) -> int:
        done = await self._batches(shape.before)
        await workflow.wait_condition(lambda: self.decided)
        return done + await self._batches(shape.after)

    async def _batches(self, batches: list[int]) -> int:
        done = 0
        for size in batches:
            calls = [
                workflow.execute_activity(noop_activity, n, start_to_close_timeout=timedelta(seconds=30))
                for n in range(size)
            ]
            done += len(await asyncio.gather(*calls))
        return done

    @workflow.update
    async def decide(self, decision: str) -> str:
        await self._batches(self.shape.during)
        self.decided = True
        return decision


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    worker = Worker(
        client, task_queue=task_queue, workflows=[EmptyWorkflow, ShapedWorkflow], activities=[noop_activity]
    )
    async with worker:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", default="bench-noop")
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.task_queue))


if __name__ == "__main__":
    main()
