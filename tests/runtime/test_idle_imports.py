"""The idle service loads only what it uses: libraries for a feature the shop has not
turned on, or for work that runs on demand, are imported by the code that needs them,
so `podops run` stays well under its memory target (bench/service.py, idle_rss_mb).

The shop here is bench/service.py's: a CSV store, the manual provider, the local
workbook, no Slack. tests/reporting/test_imports.py checks pandas and matplotlib the
same way with reports turned on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEFERRED = (
    "slack_bolt",  # Slack over HTTP only (bot/http_handler.py)
    "slack_sdk",  # Slack only
    "numpy",  # openpyxl asks for it only to accept numpy numbers (sync/sheets/workbook.py)
    "pandas",  # reports, in a child process
    "matplotlib",
    "easypost",  # address verification and labels, when configured
    "fpdf",  # packing slips and label sheets
    "obstore",  # print files in a bucket
    "gspread",  # the Google sheet
    "psycopg",  # PostgreSQL
    "hypothesis",
)

SHOP = """
timezone = "UTC"
data_dir = "var"
[stores.main]
platform = "csv"
default_provider = "manual"
[providers.manual]
kind = "manual"
[[routing]]
sku = "TEE-*"
provider = "manual"
product_key = "tee-front"
[sheet]
backend = "xlsx"
workbook = "orders.xlsx"
"""

PROBE = """
import json, sys
from pathlib import Path
from podops.runtime.root import Runtime
from podops.runtime.instance import build_web_app, collect_jobs
runtime = Runtime.from_config(Path(sys.argv[1]))
runtime.db.upgrade()
jobs = {spec.name: spec for spec in collect_jobs(runtime)}
build_web_app(runtime)
jobs["sheet.mirror"].func()  # the first mirror writes and keeps the workbook
jobs["fulfillment.countdown"].func()
print(json.dumps(sorted(name for name in sys.argv[2:] if name in sys.modules)))
"""


def loaded_by_idle_service(
    config: Path, names: tuple[str, ...], env: dict[str, str] | None = None
) -> list[str]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(config), *names],
        capture_output=True, text=True, cwd=config.parent,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", **(env or {})}, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_idle_service_loads_no_library_it_does_not_use(tmp_path: Path) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(SHOP)
    assert loaded_by_idle_service(config, DEFERRED) == []
    assert (tmp_path / "var" / "orders.xlsx").exists()  # the workbook was written


def test_slack_over_http_does_load_bolt(tmp_path: Path) -> None:
    """The probe can fail: with Slack on over HTTP the service needs Bolt."""
    config = tmp_path / "podops.toml"
    config.write_text(SHOP + "[slack]\nenabled = true\n")
    secrets = {"PODOPS_SLACK__BOT_TOKEN": "xoxb-1", "PODOPS_SLACK__SIGNING_SECRET": "s"}
    assert loaded_by_idle_service(config, ("slack_bolt", "slack_sdk"), secrets) == [
        "slack_bolt",
        "slack_sdk",
    ]
