"""The rules of the house (docs/architecture.md): small modules, and layers that lint-imports enforces."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "partnerflow"
MAX_LINES = 300


def test_no_module_exceeds_300_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in PACKAGE.rglob("*.py")
        if "migrations/versions" not in path.as_posix()
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these modules by concern (limit {MAX_LINES} lines): {too_long}"


def test_tests_mirror_the_package_rooms() -> None:
    rooms = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    missing = {room for room in rooms if not (ROOT / "tests" / room).is_dir()}
    assert not missing, f"tests/ has no folder for {sorted(missing)}"
    top_level = {f"test_{module.stem}.py" for module in PACKAGE.glob("*.py")} | {Path(__file__).name}
    loose = {p.name for p in (ROOT / "tests").glob("test_*.py")} - top_level
    assert not loose, f"tests belong in their room's folder: {sorted(loose)}"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).parent / "lint-imports"
    return subprocess.run(
        [str(lint), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_forbidden_import_fails_lint_imports_naming_the_rule(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "partnerflow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert _lint_imports(tmp_path).returncode == 0, "the tree as it is keeps every contract"

    route = tmp_path / "partnerflow" / "api" / "routes" / "health.py"
    route.write_text(
        route.read_text() + "\nfrom partnerflow.activities.messaging import MessagingActivities\n"
    )
    broken = _lint_imports(tmp_path)

    assert broken.returncode != 0
    assert "the API causes side effects only through workflows" in broken.stdout
    assert "partnerflow.api.routes.health -> partnerflow.activities.messaging" in broken.stdout
