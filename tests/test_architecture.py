"""The dependency rules: the core imports no adapter library (DESIGN.md), and nothing
from the composition root or the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "httpx", "gspread", "openpyxl", "PIL", "starlette")
# The composition root builds adapters, importing them inside functions only.
ROOT_MODULES = {"podops.runtime.root", "podops.runtime.web", "podops.cli.main"}


def test_core_modules_load_no_adapter_library() -> None:
    core = Path(__file__).parents[1] / "podops"
    modules = sorted(
        "podops." + ".".join(p.relative_to(core).with_suffix("").parts)
        for p in core.rglob("*.py")
        if "migrations" not in p.parts and p.name not in ("__init__.py", "__main__.py")
    )
    modules = [m for m in modules if m not in ROOT_MODULES and not m.startswith("podops.cli.main")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"core imports adapter libraries: {result.stdout}"


def test_core_modules_load_nothing_from_the_runtime_or_the_cli() -> None:
    """`podops/runtime` and `podops/cli` depend on the core, never the other way."""
    core = Path(__file__).parents[1] / "podops"
    modules = sorted(
        "podops." + ".".join(p.relative_to(core).with_suffix("").parts)
        for p in core.rglob("*.py")
        if not {"migrations", "runtime", "cli"} & set(p.relative_to(core).parts)
        and p.name not in ("__init__.py", "__main__.py")
    )
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('podops.runtime', 'podops.cli'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", f"core imports the runtime or the CLI: {result.stdout}"
