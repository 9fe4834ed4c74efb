"""What a chaos scenario leaves behind: exactly-once evidence, delays, the table and the JSON."""

from __future__ import annotations

import argparse
import json
import statistics
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from chaos_stack import BOUNCE_DOMAIN, Stack
from sqlalchemy import text


def percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p95": round(p95, 2),
        "max": round(ordered[-1], 2),
    }


def audit(stack: Stack, since: datetime) -> dict[str, Any]:
    """Exactly-once evidence for messages since ``since``: outbox rows by status, duplicate sends."""
    with stack.engine.connect() as db:
        statuses = dict(
            db.execute(
                text("SELECT status, count(*) FROM outbox WHERE created_at >= :since GROUP BY status"),
                {"since": since},
            ).all()
        )
        repeated_keys = db.execute(
            text("SELECT count(*) FROM (SELECT idempotency_key FROM outbox GROUP BY 1 HAVING count(*) > 1) d")
        ).scalar_one()
        delays = [
            (sent - created).total_seconds()
            for created, sent in db.execute(
                text(
                    "SELECT created_at, sent_at FROM outbox"
                    " WHERE channel = 'email' AND sent_at IS NOT NULL AND created_at >= :since"
                ),
                {"since": since},
            ).all()
        ]
    # Whole-run duplicates (a key sent twice in any scenario is a duplicate); counts of this one.
    slack_texts = [m.params.get("text") for m in stack.slack.messages]
    return {
        "outbox": statuses,
        "outbox_duplicate_keys": repeated_keys,
        "sendgrid_accepted_in_run": len(stack.sendgrid.messages),
        **duplicate_sends(stack),
        "slack_posts_in_run": len(slack_texts),
        "slack_duplicate_posts": len(slack_texts) - len(set(slack_texts)),
        "email_delivery_delay_s": percentiles(delays),
    }


def duplicate_sends(stack: Stack) -> dict[str, int]:
    """Keys SendGrid accepted again, split by whether a worker SIGKILL fell between the two sends.

    A kill after SendGrid accepted a message and before its outbox row was marked sent leaves the
    activity unfinished, and its retry sends again: the at-least-once window SendGrid's API (no
    idempotency key) leaves open (docs/measurements.md). Any other repeat is a bug.
    """
    killed_mid_send = unexplained = 0
    for accepted in stack.sendgrid.sends_per_key().values():
        for before, after in pairwise(sorted(accepted)):
            if any(before <= kill <= after for kill in stack.worker_killed_at):
                killed_mid_send += 1
            else:
                unexplained += 1
    return {"sendgrid_duplicate_sends": unexplained, "sendgrid_resent_after_a_kill_mid_send": killed_mid_send}


def bounced(stack: Stack, first: int) -> dict[str, Any]:
    """The refused partners: their email failed, managers were alerted, their workflow went on."""
    emails = [f"p{n}@{BOUNCE_DOMAIN}" for n in (first, first + 1)]
    with stack.engine.connect() as db:
        rows = db.execute(text("SELECT id, stage FROM partners WHERE email = ANY(:e)"), {"e": emails}).all()
        failed = db.execute(
            text("SELECT count(*) FROM outbox WHERE status = 'failed' AND recipient = ANY(:e)"), {"e": emails}
        ).scalar_one()
    alerts = [
        m
        for m in stack.slack.messages
        if "not delivered" in str(m.params.get("text", ""))
        and any(e in str(m.params.get("text")) for e in emails)
    ]
    return {"stages": [stage for _, stage in rows], "failed_emails": failed, "slack_alerts": len(alerts)}


def report(name: str, result: dict[str, Any], args: argparse.Namespace) -> Path:
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = args.results / f"chaos-{name}-{stamp}.json"
    path.write_text(
        json.dumps({"scenario": name, "partners": args.partners, **result}, indent=2, default=str)
    )
    print(f"\n== scenario {name} ==")
    for key, value in result.items():
        print(f"  {key:<28} {json.dumps(value, default=str)}")
    print(f"  -> {path}")
    return path


def verdict(name: str, result: dict[str, Any]) -> list[str]:
    """What went wrong, if anything (empty: the scenario held)."""
    problems = []
    if name == "d":
        if (result["partner_ids"], result["partner_rows"], result["workflows"]) != (1, 1, 1):
            problems.append("duplicate signups made more than one partner or workflow")
        return problems
    if result["completed"] != result["journeys"]:
        problems.append(f"{result['journeys'] - result['completed']} journeys did not complete")
    audit_ = result["audit"]
    if (
        audit_["outbox_duplicate_keys"]
        or audit_["sendgrid_duplicate_sends"]
        or audit_["slack_duplicate_posts"]
    ):
        problems.append("a message was sent more than once")
    if name == "c" and not (result["bounced"]["failed_emails"] and result["bounced"]["slack_alerts"]):
        problems.append("a refused address was not marked failed with an alert")
    return problems
