"""Partner journeys through the HTTP API (signup → approve → terms → welcome kit), retried like a
real client would (a 503 or a dropped connection is tried again; a 202 decision is left to apply),
and the one watcher that tells every journey how far its partner has come.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from chaos_stack import BOUNCE_DOMAIN, MANAGER_TOKEN, PORTAL_SECRET, WEBHOOK_SECRET, Stack
from sqlalchemy import text

from partnerflow.rendering import signing
from partnerflow.rendering.tokens import make_portal_token

PROGRAM = "chaos"
AUTH = {"Authorization": f"Bearer {MANAGER_TOKEN}"}
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class Answers:
    """How the API answered, per step: e.g. decision → {200: 40, 202: 7, 503: 3}."""

    by_step: dict[str, Counter[int]] = field(default_factory=dict)

    def add(self, step: str, status: int) -> None:
        self.by_step.setdefault(step, Counter())[status] += 1

    def as_json(self) -> dict[str, dict[str, int]]:
        return {step: {str(k): v for k, v in sorted(c.items())} for step, c in self.by_step.items()}


class Watcher:
    """Reads every partner's stage and welcome-kit status twice a second, for all journeys."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.stages: dict[str, str] = {}
        self.kits: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None

    def _read(self) -> tuple[dict[str, str], dict[str, str]]:
        with self.stack.engine.connect() as db:
            stages = dict(db.execute(text("SELECT id, stage FROM partners")).all())
            kits = dict(
                db.execute(
                    # The email only: a refused kit also has a Slack alert whose key ends the same way.
                    text(
                        "SELECT partner_id, status FROM outbox"
                        " WHERE channel = 'email' AND idempotency_key LIKE :kit"
                    ),
                    {"kit": "%:welcome-kit"},
                ).all()
            )
        return stages, kits

    async def _run(self) -> None:
        while True:
            try:
                self.stages, self.kits = await asyncio.to_thread(self._read)
            except Exception as exc:  # the database restarting, say: read again next time
                print(f"watcher: {type(exc).__name__}: {exc}", flush=True)
            await asyncio.sleep(0.5)

    def __enter__(self) -> Watcher:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()

    async def until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise TimeoutError(what)
            await asyncio.sleep(0.25)


async def retrying(
    step: str, answers: Answers, call: Callable[[], Awaitable[httpx.Response]], timeout: float = 300
) -> httpx.Response:
    """Call until the API gives a final answer; 5xx, 429 and dropped connections are tried again."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = await call()
            answers.add(step, response.status_code)
            if response.status_code not in RETRY_STATUSES:
                return response
            wait = float(response.headers.get("Retry-After", "1"))
        except httpx.TransportError:
            answers.add(step, 0)  # no answer at all
            wait = 1.0
        if time.monotonic() > deadline:
            raise TimeoutError(f"{step}: no final answer within {timeout:.0f} s")
        await asyncio.sleep(min(wait, 2.0) * random.uniform(0.5, 1.0))


def signup_body(email: str, name: str) -> bytes:
    return json.dumps({"email": email, "name": name, "program": PROGRAM}).encode()


async def signup(http: httpx.AsyncClient, body: bytes) -> httpx.Response:
    header = signing.sign(WEBHOOK_SECRET, body)
    return await http.post(
        "/webhooks/partner-signup", content=body, headers={"Partnerflow-Signature": header}
    )


async def journey(
    n: int, apis: list[httpx.AsyncClient], watcher: Watcher, answers: Answers, bounce: bool = False
) -> float:
    """One partner from signup to the welcome kit; the seconds it took."""
    started = time.monotonic()
    api = apis[n % len(apis)]
    email = f"p{n}@{BOUNCE_DOMAIN if bounce else 'example.com'}"
    body = signup_body(email, f"Chaos Partner {n}")
    answer = await retrying("signup", answers, lambda: signup(api, body))
    assert answer.status_code in (200, 202), answer.text
    partner_id = answer.json()["partner_id"]
    await decide(partner_id, apis[(n + 1) % len(apis)], watcher, answers)  # through the other process
    token = make_portal_token(PORTAL_SECRET, partner_id)
    answer = await retrying(
        "terms",
        answers,
        lambda: api.post(f"/portal/{token}/terms/accept", json={}, headers={"User-Agent": "chaos"}),
    )
    assert answer.status_code == 200, answer.text
    final = ("failed",) if bounce else ("sent",)
    await watcher.until(lambda: watcher.kits.get(partner_id) in final, 900, f"{partner_id} welcome kit")
    return time.monotonic() - started


async def decide(partner_id: str, api: httpx.AsyncClient, watcher: Watcher, answers: Answers) -> None:
    """Approve, as docs/api.md tells a client: a 503 is repeated (``retrying``); after a 202 (recorded
    by the workflow) check the stage, and repeat if it did not move. A repeat of a decision that was
    applied meanwhile answers 409.
    """
    decision = {"decision": "approve", "manager": "alice"}
    moved = lambda: watcher.stages.get(partner_id) in ("onboarding", "active")  # noqa: E731
    for _ in range(20):
        answer = await retrying(
            "decision",
            answers,
            lambda: api.post(f"/partners/{partner_id}/decision", json=decision, headers=AUTH),
        )
        assert answer.status_code in (200, 202, 409), answer.text
        try:
            await watcher.until(moved, 30 if answer.status_code == 202 else 600, f"{partner_id} onboarding")
            return
        except TimeoutError:
            answers.add("decision repeated after 202", answer.status_code)
    raise TimeoutError(f"{partner_id} never left 'applied'")


async def publish_terms(api: httpx.AsyncClient) -> None:
    """Once per run: a new version would email every partner of earlier scenarios."""
    if (await api.get(f"/programs/{PROGRAM}/terms", headers=AUTH)).status_code == 200:
        return
    terms = {"title": "Chaos terms", "body_markdown": "Be nice to the servers."}
    answer = await api.post(f"/programs/{PROGRAM}/terms", json=terms, headers=AUTH)
    assert answer.status_code == 201, answer.text
