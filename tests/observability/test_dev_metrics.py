"""`partnerflow dev` with PARTNERFLOW_WORKER_METRICS serves temporal_* and partnerflow_* metrics; the API serves /metrics."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from devproc import free_ports, partnerflow_dev
from prom import names, scrape, value

from partnerflow.rendering import signing


def test_dev_serves_worker_and_api_metrics(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    *ports, metrics_port = free_ports(4)
    env = {"PARTNERFLOW_WORKER_METRICS": f"127.0.0.1:{metrics_port}", "PARTNERFLOW_LOG_FORMAT": "json"}
    with partnerflow_dev(data_dir, ports, env) as (process, http):
        secrets = json.loads((data_dir / "dev-secrets.json").read_text())
        body = json.dumps({"email": "ada@example.com", "name": "Ada Lovelace"}).encode()
        signature = {"Partnerflow-Signature": signing.sign(secrets["webhook_secret"], body)}
        pid = http.post("/webhooks/partner-signup", content=body, headers=signature).json()["partner_id"]
        auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
        assert http.post(f"/partners/{pid}/decision", json={"decision": "approve"}, headers=auth).is_success

        url = f"http://127.0.0.1:{metrics_port}/metrics"
        deadline = time.monotonic() + 30
        while not value(worker := scrape(url), "partnerflow_messages_sent_total", template="welcome"):
            assert time.monotonic() < deadline, "the welcome email was not counted"
            time.sleep(0.3)
        assert value(worker, "partnerflow_decisions_total", outcome="approved", via="manager") == 1
        assert {"temporal_request_total", "temporal_worker_task_slots_available"} <= names(worker)

        api = http.get("/metrics")
        assert api.status_code == 200
        assert value(api.text, "partnerflow_signups_total", kind="new") == 1
        assert value(api.text, "partnerflow_partners", stage="onboarding") == 1

        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"Worker metrics http://localhost:{metrics_port}/metrics" in output
    assert f"API metrics    http://localhost:{ports[0]}/metrics" in output
    logs = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(line.get("partner_id") == pid and line.get("activity") == "send_email" for line in logs)
