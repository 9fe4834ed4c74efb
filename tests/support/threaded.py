"""The real service (API on a socket + worker + its own Temporal dev server) in a background thread.

For synchronous tests that call the API with blocking clients (schemathesis uses ``requests``):
the service keeps running on its own event loop while the test blocks.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service import running_service
from sqlalchemy import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from partnerflow.config import Settings, bundled_binary

STARTUP_TIMEOUT = 60.0


@dataclass
class ThreadedService:
    base_url: str
    settings: Settings
    engine: Engine


@contextmanager
def service_in_thread(tmp_path: Path, **overrides: Any) -> Iterator[ThreadedService]:
    """Start everything in a thread with its own loop; stop it all when the block ends."""
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    found: dict[str, Any] = {}

    async def serve() -> None:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=bundled_binary("temporal"),
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
        try:
            async with running_service(env, tmp_path, **overrides) as service:
                found["service"] = ThreadedService(
                    str(service.http.base_url), service.settings, service.engine
                )
                ready.set()
                await stop.wait()
        finally:
            await env.shutdown()

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # reported to the waiting test
            found["error"] = exc
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="partnerflow-service", daemon=True)
    thread.start()
    if not ready.wait(STARTUP_TIMEOUT) or "service" not in found:
        raise RuntimeError(f"the service did not start: {found.get('error')!r}")
    try:
        yield found["service"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(STARTUP_TIMEOUT)
