"""Outbound webhooks on the dev server: signed, retried, never blocking, replayable, idempotent."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import make_settings
from fakes.subscriber import FakeSubscriber
from harness import Harness
from helpers import eventually, eventually_async
from service import ALICE, Service, running_service
from sqlalchemy import Engine, text
from temporalio import workflow
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from partnerflow import worker as production
from partnerflow.activities.webhooks import WebhookActivities
from partnerflow.api.routes.webhook_subscriptions import routers
from partnerflow.config import Settings
from partnerflow.domain.review import OffboardInput
from partnerflow.domain.webhooks import DeliveryPolicy
from partnerflow.services.webhooks import dispatch, publish_from_api
from partnerflow.store import webhooks as store
from partnerflow.store.db import make_engine, session_scope, upgrade
from partnerflow.store.models import PerformanceEvent, WebhookDelivery
from partnerflow.workflows.lifecycle import PartnerLifecycleWorkflow
from partnerflow.workflows.webhooks import WebhookDeliveryWorkflow, publish

FAST = DeliveryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=1.5,
    maximum_interval=timedelta(seconds=1),
    give_up_after=timedelta(minutes=2),
    attempt_timeout=timedelta(seconds=10),
)
SECRET = "whsec_subscriber_test_secret"


WEBHOOK_ACTIVITIES = ("record_webhook_event", "deliver_webhook", "record_webhook_failure")


def webhook_activities(engine: Engine, policy: DeliveryPolicy = FAST) -> list[Any]:
    acts = WebhookActivities(engine, dispatch, policy, http_timeout=2)
    return [acts.record_webhook_event, acts.deliver_webhook, acts.record_webhook_failure]


def production_without_webhooks(settings: Settings, engine: Engine) -> tuple[list[type], list[Any]]:
    """worker.py's workflows and activities, minus the webhook ones (whether it registers them or not)."""
    workflows = [w for w in production.WORKFLOWS if w is not WebhookDeliveryWorkflow]
    acts = production.activities(settings, engine)
    return workflows, [a for a in acts if getattr(a, "__name__", "") not in WEBHOOK_ACTIVITIES]


@workflow.defn(sandboxed=False)
class PublishTwice:
    @workflow.run
    async def run(self, subject_id: str) -> None:
        for _ in range(2):
            await publish("prospect.converted", {"prospect_id": subject_id}, subject_id)


@asynccontextmanager
async def webhooks_running(
    env: WorkflowEnvironment, tmp_path: Path, policy: DeliveryPolicy = FAST
) -> AsyncIterator[Harness]:
    """The production worker, its webhook activities on ``policy`` (fast retries for tests)."""
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    workflows, acts = production_without_webhooks(settings, engine)
    with ThreadPoolExecutor(max_workers=8) as executor:
        worker = Worker(
            env.client,
            task_queue=settings.task_queue,
            workflows=[*workflows, WebhookDeliveryWorkflow, PublishTwice],
            activities=[*acts, *webhook_activities(engine, policy)],
            activity_executor=executor,
        )
        async with worker:
            harness = Harness(env, settings, engine)
            try:
                yield harness
            finally:
                for handle in harness.started:
                    with suppress(RPCError):
                        await handle.terminate("test over")
    engine.dispose()


@asynccontextmanager
async def service_running(dev_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Service]:
    """The real API with the webhook routes, and a worker with the webhook activities."""
    settings = make_settings(tmp_path)
    engine = make_engine(settings.effective_database_url)  # the service's database file
    upgrade(engine)
    registered = WebhookDeliveryWorkflow in production.WORKFLOWS
    extra_workflows = [] if registered else [WebhookDeliveryWorkflow]
    names = {getattr(a, "__name__", "") for a in production.activities(settings, engine)}
    extra_activities = [] if "record_webhook_event" in names else webhook_activities(engine)
    async with running_service(dev_env, tmp_path, routers, extra_workflows, extra_activities) as service:
        yield service
    engine.dispose()


def subscribe(engine: Engine, url: str, *event_types: str, secret: str = SECRET) -> int:
    with session_scope(engine) as session:
        subscription_id = store.create_subscription(session, url, list(event_types or ["*"]), secret).id
    assert subscription_id is not None
    return subscription_id


def deliveries(engine: Engine, **filters: Any) -> list[WebhookDelivery]:
    with session_scope(engine) as session:
        return list(reversed(store.list_deliveries(session, **filters)))


async def test_delivery_is_signed_with_the_subscription_secret(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with webhooks_running(dev_env, tmp_path) as h:
        with FakeSubscriber(SECRET) as good, FakeSubscriber("whsec_someone_elses_secret") as wrong:
            subscribe(h.engine, good.url, "partner.applied")
            wrong_id = subscribe(h.engine, wrong.url, "partner.applied")
            pid, _ = await h.start()
            (event,) = await eventually(lambda: good.events)
            assert event["type"] == "partner.applied" and event["id"] == f"partner.applied:{pid}"
            assert event["data"]["partner"]["id"] == pid and event["data"]["program"] == "default"
            assert set(event) == {"id", "type", "created_at", "data"}
            # A subscriber that cannot verify answers 401: final, no retries.
            (failed,) = await eventually(
                lambda: deliveries(h.engine, subscription_id=wrong_id, status="failed")
            )
            assert (failed.attempts, failed.last_status_code) == (1, 401)
            assert [r.verified for r in wrong.received] == [False]


async def test_retries_after_server_errors_then_gives_up(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = DeliveryPolicy(
        timedelta(milliseconds=200), 1.0, timedelta(milliseconds=200), timedelta(seconds=3)
    )
    async with webhooks_running(dev_env, tmp_path, policy) as h:
        with FakeSubscriber(SECRET) as flaky, FakeSubscriber(SECRET) as broken:
            flaky.fail_next(500, count=2)
            broken.fail_next(503, count=1000)
            flaky_id, broken_id = subscribe(h.engine, flaky.url), subscribe(h.engine, broken.url)
            await h.start()
            (ok,) = await eventually(
                lambda: deliveries(h.engine, subscription_id=flaky_id, status="delivered")
            )
            assert (ok.attempts, ok.last_status_code, ok.last_error) == (3, 204, None)
            assert [r.status for r in flaky.received] == [500, 500, 204]
            assert len({r.body for r in flaky.received}) == 1  # the same body on every attempt
            (gone,) = await eventually(
                lambda: deliveries(h.engine, subscription_id=broken_id, status="failed")
            )
            assert gone.attempts > 2 and gone.last_status_code == 503 and "503" in (gone.last_error or "")


async def test_a_dead_subscriber_never_blocks_the_partner(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with webhooks_running(dev_env, tmp_path) as h:
        subscriber = FakeSubscriber(SECRET).come_up()
        subscribe(h.engine, subscriber.url)
        subscriber.go_down()
        _, handle = await h.active()  # approved, onboarded, active: while every delivery fails
        assert (await handle.query(PartnerLifecycleWorkflow.status)).stage.value == "active"
        stuck = deliveries(h.engine, status="pending")
        assert [d.event_type for d in stuck] == ["partner.applied", "partner.approved", "partner.onboarded"]
        await eventually(lambda: all(d.attempts >= 1 and d.last_error for d in deliveries(h.engine)))
        assert "unreachable" in (deliveries(h.engine)[0].last_error or "")
        subscriber.come_up()  # back: the retries deliver everything
        try:
            await eventually(lambda: len(deliveries(h.engine, status="delivered")) == 3, timeout=20)
            assert {e["type"] for e in subscriber.events} == {d.event_type for d in stuck}
        finally:
            subscriber.go_down()


async def test_reviews_tier_changes_and_offboarding_are_published(
    time_skipping_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    wanted = ("partner.tier_changed", "partner.review_completed", "partner.offboarded")
    async with webhooks_running(time_skipping_env, tmp_path) as h:
        with FakeSubscriber(SECRET) as subscriber:
            subscribe(h.engine, subscriber.url, *wanted)
            pid, handle = await h.active()
            at = await h.env.get_current_time() + timedelta(days=1)
            with session_scope(h.engine) as session:  # 6,000 USD in the quarter: silver
                for _ in range(60):
                    session.add(
                        PerformanceEvent(
                            event_id=uuid.uuid4().hex, partner_id=pid, type="conversion", amount=100.0,
                            currency="USD", occurred_at=at,
                        )
                    )  # fmt: skip
            await h.env.sleep(timedelta(days=98, hours=2))  # review (<= 1 day late), a week
            await eventually(lambda: len(subscriber.events) == 2)
            by_type = {e["type"]: e for e in subscriber.events}
            assert by_type["partner.tier_changed"]["data"]["new_tier"] == "silver"
            review = by_type["partner.review_completed"]
            assert review["id"] == f"partner.review_completed:{pid}:{review['data']['period']}"
            await handle.execute_update(PartnerLifecycleWorkflow.offboard, OffboardInput("fraud", "alice"))
            await eventually(lambda: len(subscriber.events) == 3)
            assert subscriber.events[2]["data"]["reason"] == "fraud"
            assert {e["type"] for e in subscriber.events} == set(wanted)


async def test_same_event_published_twice_is_delivered_once(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with webhooks_running(dev_env, tmp_path) as h:
        with FakeSubscriber(SECRET) as subscriber:
            subscribe(h.engine, subscriber.url, "prospect.converted")
            tq, wf_id = h.settings.task_queue, f"publish-twice-{uuid.uuid4().hex[:6]}"
            await dev_env.client.execute_workflow(PublishTwice.run, "p-1", id=wf_id, task_queue=tq)
            for _ in range(2):  # and from the API/activity helper, with the same event id
                await publish_from_api(
                    h.engine, dev_env.client, "prospect.converted", {}, "p-1", task_queue=tq
                )
            await eventually(lambda: subscriber.events)
            await asyncio.sleep(1)
            assert [e["id"] for e in subscriber.events] == ["prospect.converted:p-1"]
            assert len(deliveries(h.engine)) == 1


async def test_subscriptions_api(dev_env: WorkflowEnvironment, tmp_path: Path) -> None:
    async with service_running(dev_env, tmp_path) as service:
        http = service.http
        assert (
            await http.post("/webhook-subscriptions", json={"url": "x", "event_types": ["*"]})
        ).status_code == 401
        for bad in (
            {"url": "ftp://h/x", "event_types": ["*"]},
            {"url": "https://h/x", "event_types": ["partner.x"]},
        ):
            response = await http.post("/webhook-subscriptions", json=bad, headers=ALICE)
            assert response.status_code == 422, response.text
        body = {
            "url": "https://crm.example.com/hook",
            "event_types": ["partner.approved", "partner.approved"],
        }
        created = (await http.post("/webhook-subscriptions", json=body, headers=ALICE)).json()
        assert created["secret"].startswith("whsec_") and created["event_types"] == ["partner.approved"]
        listed = (await http.get("/webhook-subscriptions", headers=ALICE)).json()["items"]
        assert [s["id"] for s in listed] == [created["id"]] and "secret" not in listed[0]
        gone = await http.delete(f"/webhook-subscriptions/{created['id']}", headers=ALICE)
        assert gone.status_code == 200 and gone.json()["active"] is False
        assert (await http.get("/webhook-subscriptions", headers=ALICE)).json()["items"] == []
        assert (await http.delete("/webhook-subscriptions/999", headers=ALICE)).status_code == 404


async def test_lifecycle_events_arrive_in_order_and_replay(
    dev_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    async with service_running(dev_env, tmp_path) as service:
        with FakeSubscriber() as subscriber:
            body = {"url": subscriber.url, "event_types": ["partner.applied", "partner.approved"]}
            created = await service.http.post("/webhook-subscriptions", json=body, headers=ALICE)
            subscriber.secret = created.json()["secret"]
            pid = await service.approved_partner(f"{uuid.uuid4().hex[:8]}@example.com")
            await eventually(lambda: len(subscriber.events) == 2)
            assert [e["type"] for e in subscriber.events] == ["partner.applied", "partner.approved"]
            assert {e["data"]["partner"]["id"] for e in subscriber.events} == {pid}
            assert subscriber.events[0]["created_at"] <= subscriber.events[1]["created_at"]

            async def listed(**params: Any) -> list[dict[str, Any]]:
                response = await service.http.get("/webhook-deliveries", params=params, headers=ALICE)
                return list(response.json()["items"])

            approved = next(
                d for d in await listed(status="delivered") if d["event_type"] == "partner.approved"
            )
            assert approved["attempts"] == 1 and approved["payload"] == subscriber.events[1]
            await asyncio.sleep(1.1)  # the replay's signature must carry a later timestamp
            replay = await service.http.post(f"/webhook-deliveries/{approved['id']}/replay", headers=ALICE)
            assert replay.status_code == 202, replay.text
            await eventually(lambda: len(subscriber.events) == 3)
            first, again = subscriber.accepted[1], subscriber.accepted[2]
            assert again.body == first.body and again.verified and again.timestamp > first.timestamp

            async def replayed() -> bool:
                items = await listed(subscription_id=created.json()["id"], status="delivered")
                return any(d["id"] == approved["id"] and d["attempts"] == 2 for d in items)

            await eventually_async(replayed)
            missing = await service.http.post("/webhook-deliveries/999/replay", headers=ALICE)
            assert missing.status_code == 404


@pytest.mark.parametrize("status", [410, 302])
async def test_final_answers_are_not_retried(
    dev_env: WorkflowEnvironment, tmp_path: Path, status: int
) -> None:
    async with webhooks_running(dev_env, tmp_path) as h:
        with FakeSubscriber(SECRET) as subscriber:
            subscriber.fail_next(status, count=5)
            subscribe(h.engine, subscriber.url)
            await publish_from_api(
                h.engine, dev_env.client, "prospect.converted", {}, 7, task_queue=h.settings.task_queue
            )
            (failed,) = await eventually(lambda: deliveries(h.engine, status="failed"))
            assert (failed.attempts, failed.last_status_code) == (1, status)


def test_store_keeps_one_delivery_per_subscription_and_event(any_engine: Engine) -> None:
    if any_engine.dialect.name == "postgresql":  # the session's shared database
        with any_engine.begin() as connection:
            connection.execute(text("TRUNCATE webhook_deliveries, webhook_subscriptions CASCADE"))
    with session_scope(any_engine) as session:
        one = store.create_subscription(session, "https://a.example/h", ["partner.approved"]).id
        every = store.create_subscription(session, "https://b.example/h", ["*"]).id
        store.create_subscription(session, "https://c.example/h", ["partner.offboarded"])
        gone = store.create_subscription(session, "https://d.example/h", ["*"]).id
        assert gone is not None and store.deactivate(session, gone) is not None
    for _ in range(2):
        with session_scope(any_engine) as session:
            pending = store.record_event(session, "partner.approved:p1", "partner.approved", "{}")
            assert sorted(d.subscription_id for d in pending) == [one, every]
    with session_scope(any_engine) as session:
        first, second = (d.id or 0 for d in pending)
        store.mark_delivered(session, first, 200)
        store.note_failure(session, second, "subscriber answered 503", 503)
        store.give_up(session, second, "gave up: timeout")
    with session_scope(any_engine) as session:
        assert store.record_event(session, "partner.approved:p1", "partner.approved", "{}") == []
        (failed,) = store.list_deliveries(session, status="failed")
        assert (failed.last_error, failed.last_status_code) == ("subscriber answered 503", 503)
        assert len(store.list_deliveries(session)) == 2
