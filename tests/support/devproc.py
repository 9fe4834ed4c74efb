"""`partnerflow dev` in a subprocess, as a newcomer runs it (for end-to-end and browser tests)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@contextmanager
def partnerflow_dev(
    data_dir: Path, ports: list[int], env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], httpx.Client]]:
    """``env`` adds variables (e.g. PARTNERFLOW_WORKER_METRICS) to a clean environment."""
    api, grpc, ui = ports
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNERFLOW_", "OTEL_"))} | (env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "partnerflow.cli.main", "dev", "--data-dir", str(data_dir),
         "--api-port", str(api), "--temporal-port", str(grpc), "--ui-port", str(ui)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{api}", timeout=20) as http:
            deadline = time.monotonic() + 90
            while True:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "partnerflow dev did not become healthy"
                time.sleep(0.3)
            yield process, http
    finally:
        if process.poll() is None:
            # Ctrl-C, so `dev` stops its Temporal dev server (its own session: a kill would orphan it).
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
