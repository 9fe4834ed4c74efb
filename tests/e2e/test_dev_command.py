"""`partnerflow dev` as a newcomer runs it: one command up, signed signup, approve, stop, resume."""

from __future__ import annotations

import email
import email.policy
import json
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

from devproc import free_ports, partnerflow_dev

from partnerflow.rendering import signing


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> str:
    process.send_signal(sig)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(check, timeout: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.2)
    return result


def test_dev_runs_everything_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ports = free_ports(3)

    with partnerflow_dev(data_dir, ports) as (process, http):
        secrets = json.loads((data_dir / "dev-secrets.json").read_text())
        auth = {"Authorization": f"Bearer {secrets['manager_token']}"}

        def signup(email: str) -> str:
            body = json.dumps({"email": email, "name": "Newcomer", "locale": "pl"}).encode()
            header = signing.sign(secrets["webhook_secret"], body)
            response = http.post(
                "/webhooks/partner-signup", content=body, headers={"Partnerflow-Signature": header}
            )
            assert response.status_code == 202, response.text
            return str(response.json()["partner_id"])

        approved, pending = signup("first@example.com"), signup("second@example.com")
        assert (
            http.post(f"/partners/{approved}/decision", json={"decision": "approve"}, headers=auth).json()[
                "stage"
            ]
            == "onboarding"
        )
        _wait_for(
            lambda: any(m["template"] == "welcome" for m in http.get("/outbox", headers=auth).json()["items"])
        )
        output = _stop(process, signal.SIGTERM)

    assert secrets["manager_token"] in output and "http://localhost:" in output  # banner shows what to use
    assert not any(_port_open(port) for port in ports), "a part is still listening after SIGTERM"
    emails = sorted(path.name for path in (data_dir / "outbox" / "email").glob("*.eml"))
    assert len(emails) == 3 and any("welcome" in name for name in emails)

    with partnerflow_dev(data_dir, ports) as (process, http):
        detail = http.get(f"/partners/{approved}", headers=auth).json()
        assert detail["stage"] == "onboarding" and [h["event"] for h in detail["history"]][:2] == [
            "applied",
            "approved",
        ]
        # The pending partner's workflow resumed: it still takes a decision and sends the welcome.
        decided = http.post(f"/partners/{pending}/decision", json={"decision": "approve"}, headers=auth)
        assert decided.status_code == 200, decided.text
        _wait_for(
            lambda: (
                http.get("/outbox", params={"to": "second@example.com"}, headers=auth).json()["items"][0][
                    "template"
                ]
                == "welcome"
            )
        )
        welcomes = [
            m for m in http.get("/outbox", headers=auth).json()["items"] if m["template"] == "welcome"
        ]
        assert len(welcomes) == 2
        _stop(process, signal.SIGINT)


def test_fresh_dev_runs_the_readme_tour_to_active(tmp_path: Path) -> None:
    """README's five-minute tour on a fresh data dir: no set-up call between `make dev` and active."""
    data_dir = tmp_path / "data"
    with partnerflow_dev(data_dir, free_ports(3)) as (process, http):
        secrets = json.loads((data_dir / "dev-secrets.json").read_text())
        auth = {"Authorization": f"Bearer {secrets['manager_token']}"}
        body = json.dumps({"email": "ada@example.com", "name": "Ada Lovelace"}).encode()
        signature = {"Partnerflow-Signature": signing.sign(secrets["webhook_secret"], body)}
        pid = http.post("/webhooks/partner-signup", content=body, headers=signature).json()["partner_id"]
        assert http.post(f"/partners/{pid}/decision", json={"decision": "approve"}, headers=auth).is_success

        welcome = _wait_for(
            lambda: sorted((data_dir / "outbox" / "email").glob(f"*-partner_{pid}_welcome.eml"))
        )
        mail = email.message_from_bytes(welcome[-1].read_bytes(), policy=email.policy.default)
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        portal = re.search(r"\S+/portal/\S+", text)[0]  # type: ignore[index]
        accepted = http.post(portal + "/terms/accept", json={})
        assert accepted.status_code == 200 and accepted.json()["version"] == 1, accepted.text

        webinars = http.get("/webinars", headers=auth).json()
        assert [w["title"] for w in webinars] == ["Partner onboarding (demo)"]
        _wait_for(lambda: http.get(f"/partners/{pid}", headers=auth).json()["checklist"]["kit_delivered"])
        attendance = {"partner_ids": [pid]}
        assert http.post(f"/webinars/{webinars[0]['webinar_id']}/attendance", json=attendance, headers=auth)
        detail = _wait_for(
            lambda: (d := http.get(f"/partners/{pid}", headers=auth).json())["stage"] == "active" and d
        )
        assert all(detail["checklist"].values())
        output = _stop(process, signal.SIGINT)
    assert "demo program" in output and "terms v1" in output
    assert re.search(r"Worker metrics http://localhost:\d+/metrics", output)  # on by default, a free port
