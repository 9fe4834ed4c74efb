"""The production-shaped stack the chaos suite breaks: PostgreSQL, the Temporal dev server, one
worker process and two API processes (uvicorn), all on this machine, with the SendGrid and Slack
fakes of the tests in this process. Every process can be SIGKILLed and restarted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from fakes.providers import FakeSendGrid, FakeSlack  # noqa: E402
from fakes.server import RecordedRequest, Reply  # noqa: E402
from local_stack import wait_healthy  # noqa: E402

from partnerflow.config import bundled_binary  # noqa: E402
from partnerflow.store.db import make_engine, upgrade  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "PARTNERFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
WEBHOOK_SECRET, MANAGER_TOKEN, PORTAL_SECRET = "whsec_chaos", "tok-chaos", "portal-chaos"
SENDGRID_KEY, SLACK_TOKEN, CHANNEL = "SG.chaos", "xoxb-chaos", "#partner-managers"
BOUNCE_DOMAIN = "bounces.example"  # the fake SendGrid refuses these addresses (400), for good


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BouncingSendGrid(FakeSendGrid):
    """Refuses any recipient at BOUNCE_DOMAIN with SendGrid's 400, like an address it rejects."""

    def _handle(self, request: RecordedRequest) -> tuple[Reply, list[RecordedRequest] | None]:
        if f"@{BOUNCE_DOMAIN}".encode() in request.body:
            errors = {
                "errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to"}]
            }
            return Reply.json(400, errors), None
        return super()._handle(request)

    def sends_per_key(self) -> dict[str, list[float]]:
        """When each idempotency key was accepted (time.monotonic()): more than one is a duplicate."""
        sends: dict[str, list[float]] = defaultdict(list)
        for m in self.messages:
            if m.json:
                sends[m.json["personalizations"][0]["custom_args"]["idempotency_key"]].append(m.at)
        return sends


@dataclass
class Stack:
    workdir: Path
    api_count: int = 2
    database: str = field(default_factory=lambda: f"partnerflow_chaos_{uuid.uuid4().hex[:8]}")
    temporal_port: int = field(default_factory=free_port)
    api_ports: list[int] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: Counter[str] = field(default_factory=Counter)
    worker_killed_at: list[float] = field(default_factory=list)  # time.monotonic() of each SIGKILL
    broken_on_purpose: set[str] = field(default_factory=set)  # the supervisor leaves these alone

    def __post_init__(self) -> None:
        self.api_ports = [free_port() for _ in range(self.api_count)]
        self.sendgrid = BouncingSendGrid(api_key=SENDGRID_KEY).start()
        self.slack = FakeSlack(token=SLACK_TOKEN).start()
        self.task_queue = f"chaos-{uuid.uuid4().hex[:6]}"

    # -- set-up --------------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{self.database}"

    def create_database(self) -> None:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.database}"'))
        admin.dispose()
        self.engine = make_engine(self.database_url)
        upgrade(self.engine)

    def env(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERFLOW_")}
        return base | {
            "PYTHONPATH": str(ROOT),
            "PARTNERFLOW_DATA_DIR": str(self.workdir / "data"),
            "PARTNERFLOW_DATABASE_URL": self.database_url,
            "PARTNERFLOW_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "PARTNERFLOW_TASK_QUEUE": self.task_queue,
            "PARTNERFLOW_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PARTNERFLOW_MANAGER_TOKENS": f"alice:{MANAGER_TOKEN}",
            "PARTNERFLOW_PORTAL_SECRET": PORTAL_SECRET,
            "PARTNERFLOW_PUBLIC_URL": "http://localhost",
            "PARTNERFLOW_SENDGRID_API_KEY": SENDGRID_KEY,
            "PARTNERFLOW_SENDGRID_HOST": self.sendgrid.url,
            "PARTNERFLOW_SLACK_BOT_TOKEN": SLACK_TOKEN,
            "PARTNERFLOW_SLACK_BASE_URL": self.slack.url,
            "PARTNERFLOW_SLACK_CHANNEL": CHANNEL,
            "PARTNERFLOW_TEMPORAL_WAIT": "5",
            "PARTNERFLOW_RATE_LIMIT_PORTAL": "",  # the journeys all come from 127.0.0.1
        }

    # -- processes -----------------------------------------------------------------------

    def start(self, name: str) -> None:
        log = (self.workdir / f"{name}.log").open("ab")
        if name == "temporal":
            command = [
                bundled_binary("temporal"), "server", "start-dev", "--headless",
                "--ip", "127.0.0.1", "--port", str(self.temporal_port),
                "--db-filename", str(self.workdir / "temporal.db"), "--log-level", "error",
            ]  # fmt: skip
        elif name == "worker":
            command = [sys.executable, "-m", "partnerflow.cli.main", "worker"]
        else:
            port = self.api_ports[int(name.removeprefix("api"))]
            command = [
                sys.executable,
                "-m",
                "partnerflow.cli.main",
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env())

    def kill(self, name: str) -> None:
        process = self.processes.get(name)
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            if name == "worker":
                self.worker_killed_at.append(time.monotonic())

    def restart(self, name: str) -> None:
        self.kill(name)
        self.start(name)
        self.restarts[name] += 1

    def wait_for_temporal(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.temporal_port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the Temporal dev server did not come up")

    def up(self) -> None:
        """Everything running and healthy."""
        self.create_database()
        self.start("temporal")
        self.wait_for_temporal()
        self.start("worker")
        for n in range(self.api_count):
            self.start(f"api{n}")
        for url in self.api_urls:
            wait_healthy(url, self.workdir)

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api_ports]

    def down(self, keep_database: bool = False) -> None:
        for name in list(self.processes):
            if name != "temporal":
                self.kill(name)
        self.kill("temporal")
        self.sendgrid.stop()
        self.slack.stop()
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()
        if not keep_database:
            admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            admin.dispose()
