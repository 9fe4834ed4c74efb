"""Benchmark: signup → emails latency and tracking-redirect latency on a real `partnerflow dev`.

Starts `partnerflow dev` in a temporary data dir on free ports (embedded defaults: SQLite,
local outbox), then measures, for N partners:
  - signup webhook → "application received" email recorded as sent
  - approve decision (HTTP round trip, waits for the workflow update)
  - approve → welcome email recorded as sent
and the latency of `GET /r/<code>` redirects. Prints p50/p95/max.

    python bench/lifecycle_latency.py --partners 50 --redirects 500
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from partnerflow.rendering import signing


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"{name:<36} n={len(samples):<5} p50={statistics.median(ordered) * 1000:7.1f} ms  "
        f"p95={p95 * 1000:7.1f} ms  max={ordered[-1] * 1000:7.1f} ms"
    )


def wait_for_email(
    http: httpx.Client, auth: dict[str, str], to: str, template: str, timeout: float = 30
) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = http.get("/outbox", params={"to": to, "status": "sent"}, headers=auth).json()["items"]
        if any(item["template"] == template for item in items):
            return time.monotonic()
        time.sleep(0.01)
    raise TimeoutError(f"{template} to {to} not sent within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=30)
    parser.add_argument("--redirects", type=int, default=300)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="partnerflow-bench-"))
    api, grpc, ui = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERFLOW_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "partnerflow.cli.main", "dev", "--data-dir", str(data_dir),
         "--api-port", str(api), "--temporal-port", str(grpc), "--ui-port", str(ui)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api}", timeout=30) as http:
            started = time.monotonic()
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            print(f"partnerflow dev healthy after {time.monotonic() - started:.1f} s")
            secrets = json.loads((data_dir / "dev-secrets.json").read_text())
            auth = {"Authorization": f"Bearer {secrets['manager_token']}"}

            to_received, decision_rtt, to_welcome = [], [], []
            for n in range(args.partners):
                email = f"bench{n}@example.com"
                body = json.dumps({"email": email, "name": f"Bench {n}"}).encode()
                t0 = time.monotonic()
                response = http.post(
                    "/webhooks/partner-signup",
                    content=body,
                    headers={"Partnerflow-Signature": signing.sign(secrets["webhook_secret"], body)},
                )
                partner_id = response.json()["partner_id"]
                to_received.append(wait_for_email(http, auth, email, "application_received") - t0)
                t1 = time.monotonic()
                http.post(f"/partners/{partner_id}/decision", json={"decision": "approve"}, headers=auth)
                decision_rtt.append(time.monotonic() - t1)
                to_welcome.append(wait_for_email(http, auth, email, "welcome") - t1)

            import sqlite3

            with sqlite3.connect(data_dir / "partnerflow.db") as db:
                db.execute(
                    "INSERT INTO tracking_links (code, partner_id, program, active, created_at) "
                    "VALUES ('bench', ?, 'default', 1, '2026-01-01T00:00:00+00:00')",
                    (partner_id,),
                )
            redirects = []
            for _ in range(args.redirects):
                t0 = time.monotonic()
                assert http.get("/r/bench", follow_redirects=False).status_code == 302
                redirects.append(time.monotonic() - t0)

            print(summary("signup → application email sent", to_received))
            print(summary("approve decision round trip", decision_rtt))
            print(summary("approve → welcome email sent", to_welcome))
            print(summary("GET /r/<code> redirect", redirects))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


if __name__ == "__main__":
    main()
