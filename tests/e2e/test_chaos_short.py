"""The chaos suite's short run in CI: worker SIGKILLs and concurrent duplicate signups, in < 60 s.

The full suite is `python bench/chaos.py` (docs/measurements.md); this runs the same script on
1 partner (one worker SIGKILL) so a change that breaks exactly-once or bounded answers under faults fails the build.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import _postgres_available

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.chaos
def test_short_chaos_run_holds(tmp_path: Path) -> None:
    reason = _postgres_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL not reachable ({reason}); CI requires it")
        pytest.skip(f"PostgreSQL not reachable ({reason})")
    command = [
        sys.executable, str(ROOT / "bench" / "chaos.py"), "--partners", "1", "--worker-kills", "1",
        "--kill-gap", "1", "--scenarios", "a,d", "--results", str(tmp_path),
    ]  # fmt: skip
    started = time.monotonic()
    run = subprocess.run(command, capture_output=True, text=True, timeout=170, cwd=ROOT)
    took = time.monotonic() - started
    assert run.returncode == 0 and "ALL HELD" in run.stdout, run.stdout + run.stderr
    assert len(list(tmp_path.glob("chaos-*.json"))) == 2
    print(f"short chaos run: {took:.0f} s")


def test_a_resend_counts_as_a_duplicate_unless_a_worker_kill_fell_between_the_sends() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from chaos_report import duplicate_sends

    sends = {"once": [1.0], "killed-mid-send": [2.0, 9.0], "resent-for-no-reason": [20.0, 21.0]}
    stack = SimpleNamespace(
        sendgrid=SimpleNamespace(sends_per_key=lambda: sends), worker_killed_at=[2.05, 30.0]
    )
    assert duplicate_sends(stack) == {  # type: ignore[arg-type]
        "sendgrid_duplicate_sends": 1,
        "sendgrid_resent_after_a_kill_mid_send": 1,
    }
