"""POST /migrations and GET /migrations/{run_id} on the dev server, old tracking links, the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import eventually_async
from service import ALICE, Service, running_service
from temporalio.testing import WorkflowEnvironment

from partnerflow.domain.lifecycle import workflow_id_for
from partnerflow.domain.stages import Stage
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
async def service(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    async with running_service(dev_env, tmp_path) as running:
        yield running


async def upload(service: Service, name: str, **form: Any) -> httpx.Response:
    fixture = name.endswith(".csv")
    content = (FIXTURES / name).read_bytes() if fixture else name.encode()  # else: the file's text
    return await service.http.post(
        "/migrations", files={"file": (name if fixture else "export.csv", content, "text/csv")}, data=form,
        headers=ALICE,
    )  # fmt: skip


async def phases(service: Service, run_id: int) -> list[dict[str, Any]]:
    response = await service.http.get(f"/migrations/{run_id}", headers=ALICE)
    assert response.status_code == 200, response.text
    return list(response.json()["phases"])


async def test_upload_migrates_in_phases_and_keeps_old_links(
    service: Service, dev_env: WorkflowEnvironment
) -> None:
    created = await upload(service, "migration_partnerstack.csv", source="partnerstack", pause="PT1S")
    again = await upload(service, "migration_partnerstack.csv", source="partnerstack", pause="PT1S")

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["counts"] == {"imported": 8, "duplicate": 1, "invalid": 1} and body["created"]
    assert body["workflow_id"].startswith(f"migration-{body['run_id']}-")
    columns = {c["column"]: (c["field"], c["detected_by"]) for c in body["columns"]}
    assert columns["Email"] == ("email", "preset") and columns["Partner Key"] == ("tracking_code", "preset")
    assert [row["status"] for row in body["rows"]][-2:] == ["duplicate", "invalid"]
    assert (
        again.status_code == 200 and again.json()["run_id"] == body["run_id"] and not again.json()["created"]
    )
    run_id = body["run_id"]
    # Old links redirect at once, even for partners whose phase has not started yet.
    for code in ("anna-k7", "grace-l8"):
        redirect = await service.http.get(f"/r/{code}", follow_redirects=False)
        assert redirect.status_code == 302 and redirect.headers["location"].endswith(f"ref={code}")

    async def done() -> list[dict[str, Any]] | None:
        current = await phases(service, run_id)
        return current if all(p["started"] == p["total"] for p in current) else None

    final = await eventually_async(done, timeout=40)
    assert [(p["segment"], p["total"], p["started"], p["accepted"]) for p in final] == [
        ("top", 2, 2, 0), ("middle", 1, 1, 0), ("long_tail", 5, 5, 0)]  # fmt: skip
    anna = next(row["partner_id"] for row in body["rows"] if row["email"] == "anna@kowalska-media.pl")
    status = await dev_env.client.get_workflow_handle_for(
        PartnerLifecycleWorkflow.run, workflow_id_for(anna)
    ).query(PartnerLifecycleWorkflow.status)
    assert status.stage == Stage.ONBOARDING and status.history[0].event == "migrated"
    partner = await service.http.get(f"/partners/{anna}", headers=ALICE)
    assert partner.json()["stage"] == "onboarding"
    redirect = await service.http.get("/r/anna-k7", follow_redirects=False)
    assert redirect.status_code == 302  # still after the lifecycle started

    async def completed() -> bool:
        response = await service.http.get(f"/migrations/{run_id}", headers=ALICE)
        return bool(response.json()["status"] == "completed")

    await eventually_async(completed, timeout=30)


async def test_bad_uploads_are_refused(service: Service) -> None:
    no_email = await upload(service, "Name,Ref\nLena,lena-f\n", source="generic")  # no address anywhere
    bad_pause = await upload(service, "migration_partnerstack.csv", source="partnerstack", pause="soon")
    bad_map = await upload(service, "migration_partnerstack.csv", source="partnerstack", map="Group=rank")
    unknown_source = await upload(service, "migration_partnerstack.csv", source="impact")
    anonymous = await service.http.post("/migrations", files={"file": ("x.csv", b"email\n", "text/csv")})
    missing = await service.http.get("/migrations/999", headers=ALICE)

    assert no_email.status_code == 422 and "no email column" in no_email.json()["detail"][0]["msg"]
    assert bad_pause.status_code == 422 and "not a duration" in bad_pause.json()["detail"][0]["msg"]
    assert bad_map.status_code == 422 and "bad mapping" in bad_map.json()["detail"][0]["msg"]
    assert unknown_source.status_code == 422 and anonymous.status_code == 401 and missing.status_code == 404


async def test_generic_upload_with_mapping_and_segment_column(service: Service) -> None:
    response = await service.http.post(
        "/migrations",
        files={"file": ("export.csv", (FIXTURES / "migration_generic.csv").read_bytes(), "text/csv")},
        data={"source": "generic", "pause": "P7D", "segment_column": "Bucket",
              "map": ["Affiliate E-mail=email", "Full name=name", "Ref code=tracking_code"]},
        headers=ALICE,
    )  # fmt: skip

    assert response.status_code == 201, response.text
    assert response.json()["counts"] == {"imported": 6, "duplicate": 0, "invalid": 1}
    current = await phases(service, response.json()["run_id"])
    assert [p["total"] for p in current] == [2, 2, 2]
    await eventually_async(
        lambda: _started(service, response.json()["run_id"], [2, 0, 0])
    )  # then a 7-day pause
    assert (await service.http.get("/r/lena-f", follow_redirects=False)).status_code == 302


async def _started(service: Service, run_id: int, expected: list[int]) -> bool:
    return [p["started"] for p in await phases(service, run_id)] == expected
