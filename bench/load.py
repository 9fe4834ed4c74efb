"""Load helpers shared by the scale benchmarks: signed signups, open-loop offering, percentiles."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

import httpx
from local_stack import WEBHOOK_SECRET

from partnerflow.rendering import signing


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``samples``; 0 when there are none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


@dataclass
class Offered:
    offered_rate: float
    requests: int
    ok: int
    errors: int
    achieved_rate: float  # answered-ok per second over the whole window (until the last answer)
    p50_ms: float
    p99_ms: float
    max_ms: float
    error_samples: list[str]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


IN_FLIGHT = 200  # at most this many requests open at once: httpx's pool slows down with its queue


async def offer(rate: float, duration: float, call: Callable[[int], Awaitable[bool]]) -> Offered:
    """Open loop: call ``i`` is due at ``start + i / rate`` whatever the earlier ones are doing;
    its latency counts from when it was due (a slow server cannot slow down the offering). Past
    ``IN_FLIGHT`` open requests the next ones wait their turn here (still counted from when due):
    thousands queued in one httpx pool cost the client more CPU than the server."""
    count = int(rate * duration)
    slots = asyncio.Semaphore(IN_FLIGHT)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    latencies: list[float] = []
    errors: list[str] = []
    finished = [start]

    async def one(i: int) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - loop.time()))
        try:
            async with slots:
                ok = await call(i)
            reason = "" if ok else "refused"
        except Exception as exc:  # a dropped connection, a timeout: an error like any other
            ok, reason = False, f"{type(exc).__name__}: {exc}"[:200]
        now = loop.time()
        finished.append(now)
        if ok:
            latencies.append(now - due)
        else:
            errors.append(reason)

    await asyncio.gather(*(one(i) for i in range(count)))
    window = max(finished) - start
    return Offered(
        offered_rate=rate,
        requests=count,
        ok=len(latencies),
        errors=len(errors),
        achieved_rate=round(len(latencies) / window, 1) if window > 0 else 0.0,
        p50_ms=round(percentile(latencies, 50) * 1000, 1),
        p99_ms=round(percentile(latencies, 99) * 1000, 1),
        max_ms=round(max(latencies, default=0) * 1000, 1),
        error_samples=sorted(set(errors))[:5],
    )


class Signups:
    """Signed signup webhooks to the real API, each a new partner (left waiting in ``applied``)."""

    def __init__(self, http: httpx.AsyncClient, program: str = "bench") -> None:
        self.http, self.program = http, program
        self.run = uuid.uuid4().hex[:6]
        self.statuses: dict[int | str, int] = {}  # answers (or errors) so far

    async def __call__(self, n: int, tag: str = "s") -> bool:
        return await self.partner(n, tag) is not None

    async def partner(self, n: int, tag: str = "s") -> str | None:
        """Sign up partner ``n``; their id, or None when refused."""
        email = f"{tag}{n}-{self.run}@example.com"
        body = json.dumps({"email": email, "name": f"Bench {n}", "program": self.program}).encode()
        response = await self.http.post(
            "/webhooks/partner-signup",
            content=body,
            headers={signing.SIGNATURE_HEADER: signing.sign(WEBHOOK_SECRET, body)},
        )
        self.statuses[response.status_code] = self.statuses.get(response.status_code, 0) + 1
        return response.json()["partner_id"] if response.status_code in (200, 202) else None

    async def fill(self, count: int, concurrency: int, tag: str) -> tuple[int, float]:
        """``count`` signups, ``concurrency`` at a time; (accepted, seconds)."""
        started, next_n, accepted = time.monotonic(), iter(range(count)), 0

        async def lane() -> None:
            nonlocal accepted
            for n in next_n:
                try:
                    ok = await self(n, tag)  # (not `accepted += await`: lanes would lose counts)
                    accepted += ok
                except httpx.TransportError as exc:
                    self.statuses[type(exc).__name__] = self.statuses.get(type(exc).__name__, 0) + 1

        await asyncio.gather(*(lane() for _ in range(concurrency)))
        return accepted, time.monotonic() - started
