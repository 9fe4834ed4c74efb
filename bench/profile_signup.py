"""Where a signed signup's time goes, at a program of ``--partners``: our part (HMAC check, the
transaction with the ban, partner and prospect checks, the prospect announcement) against the
server's (``start_workflow``).

Starts the bench stack (bench/local_stack.py), fills the program through its API, then serves
signups from an in-process copy of the API on the same database and Temporal server, with a timer
around each part, at ``--concurrency``; a cProfile of the event loop's thread
shows where the API's own CPU goes.
Writes bench/results/profile_signup.json.

    python bench/profile_signup.py --partners 20000 --signups 600 --concurrency 30
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from load import Signups, percentile
from local_stack import ROOT, LocalStack, measure_on_stack
from scale import settle

from partnerflow.api.main import create_app
from partnerflow.config import Settings
from partnerflow.rendering import signing
from partnerflow.services import signups as signup_service
from partnerflow.services.temporal import connect
from partnerflow.store.db import make_engine

PHASES: dict[str, list[float]] = defaultdict(list)
PROFILE = cProfile.Profile()


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    if asyncio.iscoroutinefunction(fn):

        async def wrapped_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                PHASES[name].append(time.perf_counter() - started)

        return wrapped_async

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            PHASES[name].append(time.perf_counter() - started)

    return wrapped


def instrument() -> None:
    signing.verify = timed("hmac check", signing.verify)  # type: ignore[assignment]
    signup_service._find = timed("store: ban + partner + prospect (one transaction)", signup_service._find)  # type: ignore[assignment]
    signup_service.start_lifecycle = timed("start_workflow (the server)", signup_service.start_lifecycle)  # type: ignore[assignment]
    signup_service.announce_conversion = timed("prospect announcement", signup_service.announce_conversion)  # type: ignore[assignment]
    signup_service.apply = timed("whole service call", signup_service.apply)  # type: ignore[assignment]


async def measure(stack: LocalStack, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=60) as http:
        filled, seconds = await Signups(http).fill(args.partners, 64, "f")
    await settle(stack, filled)
    os.environ.update({k: v for k, v in stack.env().items() if k.startswith("PARTNERFLOW_")})
    settings = Settings()
    engine = make_engine(settings.effective_database_url)
    client = await connect(settings)
    app = create_app(settings, engine=engine, temporal=client)
    instrument()
    requests: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:
            signups, numbers = Signups(http), iter(range(args.signups))

            async def lane() -> None:
                for n in numbers:
                    started = time.perf_counter()
                    assert await signups(n, "p"), signups.statuses
                    requests.append(time.perf_counter() - started)

            PROFILE.enable()  # the event loop's thread: the API's async side (store calls run in threads)
            await asyncio.gather(*(lane() for _ in range(args.concurrency)))
            PROFILE.disable()
    engine.dispose()
    phases = {"whole request (in process)": requests, **PHASES}
    table = {
        name: {
            "n": len(samples),
            "mean_ms": round(sum(samples) / len(samples) * 1000, 2),
            "p50_ms": round(percentile(samples, 50) * 1000, 2),
            "p99_ms": round(percentile(samples, 99) * 1000, 2),
        }
        for name, samples in phases.items()
        if samples
    }
    out = io.StringIO()
    pstats.Stats(PROFILE, stream=out).sort_stats("tottime").print_stats(30)
    PROFILE.dump_stats(str(args.output.with_suffix(".prof")))
    return {
        "partners": filled,
        "fill_seconds": round(seconds, 1),
        "concurrency": args.concurrency,
        "phases": table,
        "store_profile": out.getvalue(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=20000)
    parser.add_argument("--signups", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "profile_signup.json")
    args = parser.parse_args()
    result = measure_on_stack("partnerflow-profile-", lambda stack: measure(stack, args))
    for name, row in result["phases"].items():
        print(
            f"{name:<52} n={row['n']:<5} mean={row['mean_ms']:>8} "
            f"p50={row['p50_ms']:>8} p99={row['p99_ms']:>8} ms"
        )
    print(result["store_profile"][:3000])
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
