"""pandas and matplotlib are loaded only by the code that reports: `podops orders list`
starts as fast as before, and the idle service (its jobs built, its web app assembled)
stays under its memory target."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "pandas",
    "matplotlib",
    "pyarrow",
    "adbc_driver_manager",
    "adbc_driver_sqlite",
    "adbc_driver_postgresql",
)
# numpy is not in the list: openpyxl (the local workbook) loads it when it is installed.

PROBE = """
import json, sys
{body}
print(json.dumps([name for name in {heavy!r} if name in sys.modules]))
"""


def loaded_after(body: str, cwd: Path) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_orders_list_loads_no_reporting_library(tmp_path: Path) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    body = (
        "from podops.cli.main import main\n"
        f"assert main(['-c', {str(config)!r}, 'db', 'upgrade']) == 0\n"
        f"assert main(['-c', {str(config)!r}, 'orders', 'list']) == 0\n"
    )
    assert loaded_after(body, tmp_path) == []


def test_the_idle_service_loads_no_reporting_library(tmp_path: Path) -> None:
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[reports]\nweekly = true\n')
    body = (
        "from pathlib import Path\n"
        "from podops.runtime.root import Runtime\n"
        "from podops.runtime.instance import build_web_app, collect_jobs\n"
        f"rt = Runtime.from_config(Path({str(config)!r}))\n"
        "rt.db.upgrade()\n"
        "assert collect_jobs(rt)\n"
        "build_web_app(rt)\n"
    )
    assert loaded_after(body, tmp_path) == []


def test_the_report_command_does_load_pandas(tmp_path: Path) -> None:
    """The probe can fail: the report itself needs pandas, and reads its frames
    through pyarrow and the SQLite ADBC driver."""
    config = tmp_path / "podops.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    body = (
        "from podops.cli.main import main\n"
        f"assert main(['-c', {str(config)!r}, 'db', 'upgrade']) == 0\n"
        f"assert main(['-c', {str(config)!r}, 'report', '--since', '7d', '--json']) == 0\n"
    )
    loaded = loaded_after(body, tmp_path)
    assert {"pandas", "pyarrow", "adbc_driver_sqlite"} <= set(loaded)
