"""The release gate of issue #12: every saved history of every release replays on today's code.

Partners' workflows run for years, across many releases. A worker of a new release picks up
workflows that earlier releases started, and rebuilds each from its history: a change that makes
the code issue different commands for the same history (an activity or timer added, removed or
moved) fails those workflows. ``tests/histories/<release>/`` holds histories recorded from real
runs (``make histories``, see its README); this module replays all of them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from partnerflow.activities.store import PendingApplicationsQuery, StoreActivities
from partnerflow.domain.lifecycle import LifecycleInput, PartnerStatus
from partnerflow.worker import WORKFLOWS
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

HISTORIES = Path(__file__).resolve().parents[1] / "histories"
LIFECYCLE = "PartnerLifecycleWorkflow"
# The states each release must have recorded (file names without .json): deleting one fails the gate.
REQUIRED = {
    LIFECYCLE: [
        "applied-waiting",
        "applied-reminded",
        "onboarding-terms-pending",
        "onboarding-webinar-invited",
        "onboarding-webinar-missed-reinvited",
        "active-nudged",
        "active-review-continued-as-new",
        "active-after-continue-as-new",
        "active-paused",
        "offboarded",
        "rejected",
    ],
    "RecruitmentCampaignWorkflow": ["mid-sequence"],
    "ProspectOutreachWorkflow": ["mid-sequence"],
    "MigrationWorkflow": ["mid-phase"],
    "ProgramDigestWorkflow": ["weekly-digest"],
    "WebhookDeliveryWorkflow": ["delivered"],
}


def releases() -> list[Path]:
    """Release folders (``v0.1.0``...), oldest first."""
    found = [p for p in HISTORIES.glob("v*") if p.is_dir()]
    return sorted(found, key=lambda p: tuple(int(n) for n in p.name[1:].split(".") if n.isdigit()))


def saved(workflow_type: str = "*") -> list[Path]:
    return sorted(path for release in releases() for path in release.glob(f"{workflow_type}/*.json"))


def name_of(path: Path) -> str:
    return str(path.relative_to(HISTORIES).with_suffix(""))


@cache
def manifest(release: Path) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((release / "manifest.json").read_text())["histories"]
    return data


def load(path: Path) -> WorkflowHistory:
    entry = manifest(path.parents[1]).get(f"{path.parent.name}/{path.name}", {})
    return WorkflowHistory.from_json(str(entry.get("workflow_id", path.stem)), path.read_text())


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


def replayer(*workflows: type) -> Replayer:
    """What a worker of today's code does with a history, without a server."""
    return Replayer(workflows=list(workflows or WORKFLOWS), data_converter=pydantic_data_converter)


def explain(path: Path, failure: BaseException) -> str:
    """The error names the history event where today's code parted from what was recorded."""
    return (
        f"{path.parent.name} history {name_of(path)} no longer replays: {type(failure).__name__}: {failure}\n"
        "Workflows like it are running in production. Put the change behind "
        'workflow.patched("<kebab-id>") (see tests/histories/README.md), or make it compatible.'
    )


# --- 1. Every saved history replays ----------------------------------------------------------


@pytest.mark.parametrize("path", saved(), ids=name_of)
async def test_saved_history_replays_on_todays_code(path: Path) -> None:
    history = load(path)
    assert workflow_type(history) == path.parent.name, f"{name_of(path)} is in the wrong folder"
    result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, explain(path, result.replay_failure)


# --- 2. The recordings are complete --------------------------------------------------------------


def test_every_registered_workflow_type_has_a_saved_history() -> None:
    assert releases(), f"no release folder under {HISTORIES}: run `make histories`"
    recorded = {path.parent.name for path in releases()[-1].glob("*/*.json")}
    registered = {workflow._Definition.must_from_class(cls).name for cls in WORKFLOWS}
    assert registered - recorded == set(), f"no saved history in {releases()[-1].name}: record them"


@pytest.mark.parametrize(
    "path", [f"{kind}/{state}.json" for kind, states in REQUIRED.items() for state in states]
)
def test_required_state_is_recorded(path: str) -> None:
    latest = releases()[-1]
    assert (latest / path).is_file(), f"{latest.name}/{path} is missing: run `make histories`"


@pytest.mark.parametrize("release", releases(), ids=lambda p: p.name)
def test_manifest_names_the_scenario_of_every_saved_history(release: Path) -> None:
    files = {str(path.relative_to(release)) for path in release.glob("*/*.json")}
    listed = manifest(release)
    assert set(listed) == files, (
        "a history was deleted or added by hand: release folders are kept as recorded"
    )
    assert all(entry.get("scenario") for entry in listed.values())


# --- 3. The gate catches an incompatible change, and lets the patched version through ----------


async def extra_timer() -> None:
    await workflow.sleep(timedelta(minutes=5))


async def extra_activity() -> None:
    await workflow.execute_activity_method(
        StoreActivities.pending_applications,
        PendingApplicationsQuery(program="default", limit=1),
        start_to_close_timeout=timedelta(seconds=30),
    )


PATCH = "extra-first-step"
# Today's lifecycle workflow, under its own name, with a new step before anything else: as is, and
# behind workflow.patched. Not sandboxed: the sandbox would re-import this test module.


@workflow.defn(name=LIFECYCLE, sandboxed=False)
class LifecycleWithNewTimer(PartnerLifecycleWorkflow):
    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        await extra_timer()
        return await super().run(input)


@workflow.defn(name=LIFECYCLE, sandboxed=False)
class LifecycleWithPatchedTimer(PartnerLifecycleWorkflow):
    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        if workflow.patched(PATCH):
            await extra_timer()
        return await super().run(input)


@workflow.defn(name=LIFECYCLE, sandboxed=False)
class LifecycleWithNewActivity(PartnerLifecycleWorkflow):
    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        await extra_activity()
        return await super().run(input)


@workflow.defn(name=LIFECYCLE, sandboxed=False)
class LifecycleWithPatchedActivity(PartnerLifecycleWorkflow):
    @workflow.run
    async def run(self, input: LifecycleInput) -> PartnerStatus:
        if workflow.patched(PATCH):
            await extra_activity()
        return await super().run(input)


async def replay_failures(workflow_class: type, paths: list[Path]) -> dict[str, Exception | None]:
    """Each history's replay failure (None: it replayed), by file name."""
    histories = {name_of(path): load(path) for path in paths}

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories.values():
            yield history

    results = await replayer(workflow_class).replay_workflows(each(), raise_on_replay_failure=False)
    return {name: results.replay_failures.get(h.run_id) for name, h in histories.items()}


@pytest.mark.parametrize(
    "changed, patched",
    [
        (LifecycleWithNewTimer, LifecycleWithPatchedTimer),
        (LifecycleWithNewActivity, LifecycleWithPatchedActivity),
    ],
    ids=["timer", "activity"],
)
async def test_an_incompatible_change_fails_replay_and_the_patched_change_passes(
    changed: type, patched: type
) -> None:
    paths = saved(LIFECYCLE)
    assert len(paths) >= len(REQUIRED[LIFECYCLE])

    unpatched = await replay_failures(changed, paths)
    missed = [name for name, failure in unpatched.items() if not isinstance(failure, NondeterminismError)]
    assert missed == [], f"{changed.__name__} replayed these histories as if nothing changed: {missed}"

    failed = {
        name: f"{type(failure).__name__}: {failure}"
        for name, failure in (await replay_failures(patched, paths)).items()
        if failure
    }
    assert failed == {}, f"{patched.__name__} must replay every old history"
