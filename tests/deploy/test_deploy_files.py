"""deploy/ and docker-compose.yml, validated as far as a machine without Docker or a cluster can.

Files parse; every service, volume, mount and path they reference exists; alert rules and
dashboard queries name only series our code exports (the API's from a real scrape, the
worker's from the metrics catalogue and the SDK list a real worker is checked against).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from exported import SDK_SERIES
from prom import names
from sqlalchemy import Engine

from partnerflow.api.main import create_app
from partnerflow.config import Settings
from partnerflow.observability.metrics import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERIES = re.compile(r"\b((?:partnerflow|temporal|http)_[a-z0-9_]+)\b")
EXPECTED_GROUPS = {
    "partnerflow-pipeline": {"ApplicationsUndecidedPastEscalation", "PartnerflowStoreUnreadable"},
    "partnerflow-delivery": {"EmailFailureRateHigh", "EmailPermanentFailures", "WebhookDeliveryBacklog"},
    "partnerflow-workers": {"WorkerScheduleToStartLatencyHigh", "PartnerflowTargetDown"},
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@cache
def compose() -> dict[str, Any]:
    return load(ROOT / "docker-compose.yml")  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def api_series(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """Series a real API app serves after a signup and a request (HTTP series need traffic)."""
    from conftest import make_settings

    from partnerflow.store.db import make_engine, upgrade

    settings = make_settings(tmp_path_factory.mktemp("api"))
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    try:
        return _scrape(settings, engine)
    finally:
        engine.dispose()


def _scrape(settings: Settings, engine: Engine) -> set[str]:
    import asyncio

    async def run() -> str:
        app = create_app(settings, engine=engine, temporal=object())  # type: ignore[arg-type]
        app.state.metrics.signup("default", True)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
        ):
            await http.get("/partners")
            return (await http.get("/metrics")).text

    return names(asyncio.run(run()))


def exported(api_series: set[str]) -> set[str]:
    worker = {series for metric in CATALOGUE if metric.where == "worker" for series in metric.series}
    return api_series | worker | SDK_SERIES


def referenced(text: str) -> set[str]:
    return set(SERIES.findall(text))


# --- docker-compose -----------------------------------------------------------------------------


def test_compose_references_only_what_exists() -> None:
    services, volumes = compose()["services"], set(compose()["volumes"])
    for name, service in services.items():
        depends = service.get("depends_on", [])
        assert set(depends) <= set(services), f"{name} depends on an unknown service"
        for mount in service.get("volumes", []):
            source = mount.split(":")[0]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in volumes, f"{name} uses undeclared volume {source}"
        if service.get("build") == ".":
            assert (ROOT / "Dockerfile").exists()
    assert {"prometheus", "grafana", "api", "worker"} <= set(services)


def test_compose_workers_serve_metrics_where_prometheus_scrapes() -> None:
    services = compose()["services"]
    address = services["worker"]["environment"]["PARTNERFLOW_WORKER_METRICS"]
    assert address.startswith("0.0.0.0:")
    port = int(address.rsplit(":", 1)[1])
    scrape = {
        job["job_name"]: job for job in load(DEPLOY / "prometheus" / "prometheus.yml")["scrape_configs"]
    }
    [worker_sd] = scrape["partnerflow-worker"]["dns_sd_configs"]
    assert worker_sd["names"] == ["worker"] and worker_sd["port"] == port
    assert scrape["partnerflow-api"]["static_configs"][0]["targets"] == ["api:8000"]
    assert "8000" in services["api"]["command"]
    assert "PARTNERFLOW_WORKER_METRICS" not in services["api"]["environment"]


def test_prometheus_loads_the_rules_compose_mounts() -> None:
    config = load(DEPLOY / "prometheus" / "prometheus.yml")
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose()["services"]["prometheus"]["volumes"]}
    for rule_file in config["rule_files"]:
        assert (ROOT / mounts[rule_file]).exists()


# --- alerts ---------------------------------------------------------------------------------------


def test_alert_rules_have_the_expected_groups_and_runbooks() -> None:
    groups = load(DEPLOY / "prometheus" / "alerts.yml")["groups"]
    assert {g["name"]: {r["alert"] for r in g["rules"]} for g in groups} == EXPECTED_GROUPS
    runbook = (ROOT / "docs" / "operations.md").read_text().lower()
    for rule in (r for g in groups for r in g["rules"]):
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        assert rule["labels"]["severity"] in ("warning", "critical")
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert f"### {anchor}" in runbook.replace("`", ""), f"no runbook section for {rule['alert']}"


def test_alert_rules_read_metrics_we_export(api_series: set[str]) -> None:
    text = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    used = referenced(text)
    assert {"partnerflow_applications_overdue", "partnerflow_messages_failed_total",
            "partnerflow_webhook_deliveries_pending", "temporal_activity_schedule_to_start_latency_bucket"} <= used  # fmt: skip
    assert used <= exported(api_series), f"not exported: {used - exported(api_series)}"


# --- Grafana --------------------------------------------------------------------------------------


def test_dashboard_parses_and_queries_exported_metrics(api_series: set[str]) -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "partnerflow.json").read_text())
    datasource = load(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")["datasources"][
        0
    ]
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    titles = {p["title"] for p in panels}
    for needed in ("Partners by stage", "Signups per day", "Decisions per day by outcome",
                   "Time to decision (signup → decision)", "Messages sent", "Messages failed", "Provider errors",
                   "Worker task slots", "Schedule-to-start latency (p95)"):  # fmt: skip
        assert needed in titles
    exprs = [t["expr"] for p in panels for t in p["targets"]]
    assert all(p["datasource"]["uid"] == datasource["uid"] for p in panels)
    used = set().union(*(referenced(e) for e in exprs))
    assert used <= exported(api_series), f"not exported: {used - exported(api_series)}"
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_grafana_provisions_the_dashboard_folder_compose_mounts() -> None:
    provider = load(DEPLOY / "grafana" / "provisioning" / "dashboards" / "partnerflow.yml")["providers"][0]
    mounts = {m.split(":")[1]: m.split(":")[0] for m in compose()["services"]["grafana"]["volumes"]}
    assert (ROOT / mounts[provider["options"]["path"]] / "partnerflow.json").exists()


# --- Kubernetes -----------------------------------------------------------------------------------


@cache
def manifests() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = load(DEPLOY / "k8s" / "kustomization.yaml")
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()):
            found[(document["kind"], document["metadata"]["name"])] = document
    return found


def containers(name: str) -> dict[str, Any]:
    deployment = manifests()[("Deployment", name)]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container  # type: ignore[no-any-return]


def test_k8s_manifests_parse_and_deployments_scale() -> None:
    for name in ("partnerflow-api", "partnerflow-worker"):
        deployment = manifests()[("Deployment", name)]
        assert deployment["spec"]["replicas"] >= 2
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert ("Job", "partnerflow-migrate") in manifests() and ("Service", "partnerflow-api") in manifests()


def test_k8s_api_probes_liveness_on_healthz_and_readiness_on_readyz() -> None:
    api = containers("partnerflow-api")
    port = {p["name"]: p["containerPort"] for p in api["ports"]}["http"]
    assert str(port) in api["command"]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["readinessProbe"]["timeoutSeconds"] >= 3  # /readyz answers within 2 s per dependency


def test_k8s_worker_serves_metrics_and_is_probed_there() -> None:
    worker = containers("partnerflow-worker")
    env = {e["name"]: e.get("value") for e in worker["env"]}
    port = int(env["PARTNERFLOW_WORKER_METRICS"].rsplit(":", 1)[1])
    assert {p["name"]: p["containerPort"] for p in worker["ports"]}["metrics"] == port
    for probe in ("livenessProbe", "readinessProbe"):
        assert worker[probe]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    annotations = manifests()[("Deployment", "partnerflow-worker")]["spec"]["template"]["metadata"][
        "annotations"
    ]
    assert annotations["prometheus.io/port"] == str(port)


def test_k8s_settings_are_real_settings_and_secrets_come_from_the_env_file() -> None:
    known = {f"PARTNERFLOW_{field.upper()}" for field in Settings.model_fields}
    config = manifests()[("ConfigMap", "partnerflow-config")]["data"]
    assert set(config) <= known | {k for k in config if k.startswith("OTEL_")}
    example = (DEPLOY / "k8s" / "secrets.env.example").read_text().splitlines()
    secret_keys = {line.split("=", 1)[0] for line in example if line and not line.startswith("#")}
    assert secret_keys <= known and "PARTNERFLOW_TEMPORAL_API_KEY" in secret_keys
    [generator] = load(DEPLOY / "k8s" / "kustomization.yaml")["secretGenerator"]
    for name in ("partnerflow-api", "partnerflow-worker"):
        container = containers(name)
        sources = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        assert sources == {"partnerflow-config", generator["name"]}
        [mount] = container["volumeMounts"]
        assert config["PARTNERFLOW_TEMPORAL_TLS_CERT"].startswith(mount["mountPath"] + "/")
    assert "deploy/k8s/secrets.env" in (ROOT / ".gitignore").read_text()
