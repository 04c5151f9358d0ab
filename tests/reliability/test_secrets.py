"""Known secret values, set in the environment, never reach the logs, the
console, the workbook or the database of `podops demo`. (Every fault scenario
also searches its workers' output and database: the `deployment` fixture.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from podops.db import Database
from tests.reliability.conftest import ROOT, Outcome, every_text_in

DEMO_SECRETS = {
    "PODOPS_RENDER__LINK_SECRET": "demo-link-secret-3f9a0c71d2",
    "PODOPS_SLACK__SIGNING_SECRET": "demo-signing-secret-b7e21a94",
    "PODOPS_SLACK__BOT_TOKEN": "xoxb-demo-token-5d1c8e20f4",
    "PODOPS_STORES__SHOP__WEBHOOK_SECRET": "demo-webhook-secret-a0c4e913",
    "PODOPS_STORES__SHOP__CONSUMER_KEY": "ck_demo_6b0f2d9e1a77",
    "PODOPS_STORES__SHOP__CONSUMER_SECRET": "cs_demo_9e3a7c5b1d02",
    "PODOPS_PROVIDERS__SANDBOX__API_KEY": "sandbox-api-key-c81d0f36",
}


def workbook_text(path: Path) -> str:
    book = openpyxl.load_workbook(path)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def leaks(secrets: dict[str, str], places: dict[str, str | bytes]) -> list[str]:
    found = []
    for name, secret in secrets.items():
        for place, content in places.items():
            needle: str | bytes = secret.encode() if isinstance(content, bytes) else secret
            if needle in content:  # type: ignore[operator]
                found.append(f"{name} in {place}")
    return found


@pytest.mark.slow
def test_the_demo_never_shows_a_secret(tmp_path: Path, record: list[Outcome]) -> None:
    folder = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODOPS_")}
    env.update(DEMO_SECRETS, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "podops", "demo", "--folder", str(folder),
         "--orders-for", "4", "--countdown", "3", "--stage", "1"],
        env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    places: dict[str, str | bytes] = {"stdout": done.stdout, "stderr": done.stderr}
    for path in folder.rglob("*"):
        if path.is_file():
            places[str(path.relative_to(folder))] = path.read_bytes()
    workbooks = list(folder.rglob("*.xlsx"))
    assert workbooks, "the demo wrote no workbook"
    for path in workbooks:
        places[f"{path.name} (cells)"] = workbook_text(path)
    database = Database(f"sqlite:///{folder / 'var' / 'podops.db'}")
    places["database"] = every_text_in(database)
    database.dispose()
    found = leaks(DEMO_SECRETS, places)
    record.append(
        Outcome(
            "secrets in the environment during `podops demo`",
            "secrets",
            "no secret in stdout/stderr, any file of the demo folder, the workbook or the database",
            detail=f"{len(DEMO_SECRETS)} secrets, {len(places)} places searched",
        )
    )
    assert found == []
