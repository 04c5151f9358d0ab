"""The package rules of ARCHITECTURE.md, checked on every import statement.

- The core (`podops/` but its composition root, `podops.runtime`, and the
  command line, `podops.cli`) imports no adapter library (Slack, HTTP, Google
  Sheets, Excel, Pillow, Starlette) and no adapter package (bot, sync, render,
  providers), not even inside a function or under TYPE_CHECKING.
- No adapter package imports another, nor the composition root or the CLI:
  the arrows run composition root -> adapters -> core.
- Importing every core module in a clean interpreter loads no adapter library.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TOP = Path(__file__).parents[1]
LIBRARIES = (
    "slack_bolt", "slack_sdk", "httpx", "gspread", "openpyxl", "PIL", "starlette", "easypost",
    "obstore",
)  # fmt: skip
ADAPTERS = ("bot", "sync", "render", "providers")
ROOT_PACKAGES = ("podops.runtime", "podops.cli", "podops.__main__")


def module_name(path: Path) -> str:
    parts = path.relative_to(TOP).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module an import statement in the file names (at any depth)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def core_files() -> list[Path]:
    return [
        p
        for p in sorted((TOP / "podops").rglob("*.py"))
        if "migrations" not in p.parts and not within(module_name(p), ROOT_PACKAGES)
    ]


def test_the_core_imports_no_adapter_library_or_package() -> None:
    offences = [
        f"{module_name(path)} imports {name}"
        for path in core_files()
        for name in sorted(imported(path))
        if within(name, LIBRARIES + ADAPTERS + ROOT_PACKAGES)
    ]
    assert offences == []


def test_no_adapter_package_imports_another_or_the_composition_root() -> None:
    offences = []
    for adapter in ADAPTERS:
        others = tuple(a for a in ADAPTERS if a != adapter) + ROOT_PACKAGES
        for path in sorted((TOP / adapter).rglob("*.py")):
            offences += [
                f"{module_name(path)} imports {name}"
                for name in sorted(imported(path))
                if within(name, others)
            ]
    assert offences == []


def test_the_rules_see_what_they_check() -> None:
    """The scan finds imports at any depth, so a rule cannot pass by missing them."""
    runtime_root = imported(TOP / "podops" / "runtime" / "root.py")
    assert "providers.woocommerce" in runtime_root  # imported inside a method
    assert len(core_files()) > 40 and all("runtime" not in p.parts for p in core_files())


def test_core_modules_load_no_adapter_library() -> None:
    modules = [module_name(p) for p in core_files() if p.name not in ("__init__.py", "__main__.py")]
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {LIBRARIES!r}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=TOP
    )
    assert result.stdout.strip() == "[]", f"core imports adapter libraries: {result.stdout}"
