"""RELIABILITY.md never shows a pass for a failed scenario: a scenario that fails
before it recorded its numbers still leaves a failing row with the reason, fuzz rows
count the examples really run, and `bench/faults.py --write` refuses a failed run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = """
from hypothesis import HealthCheck, given, settings, strategies as st
from tests.reliability.conftest import Outcome, tried

def test_crash_that_fails_early(record):
    row = Outcome("a crash scenario", "crash", "nothing lost", faults=1, orders=3)
    record.append(row)
    assert 1 == 2, "the kill landed nowhere"

def test_fails_before_recording(record):
    raise AssertionError("worker never reached the gate")

@settings(max_examples=7, database=None, suppress_health_check=list(HealthCheck))
@given(n=st.integers())
def test_fuzz(record, n):
    tried(record, Outcome("fuzzed numbers", "abuse", "never crash"), f"a{n}", f"b{n}")
    tried(record, Outcome("fuzzed numbers", "abuse", "never crash"), f"a{n}")  # sent again
"""


def run_scenarios(tmp_path: Path) -> dict[str, dict[str, object]]:
    (tmp_path / "test_scenarios.py").write_text(SCENARIOS)
    results = tmp_path / "results.json"
    env = {**os.environ, "PODOPS_RELIABILITY_RESULTS": str(results), "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
         "tests.reliability.conftest", str(tmp_path / "test_scenarios.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    saved = json.loads(results.read_text())
    return {row["scenario"]: row for row in saved["results"]}


@pytest.mark.slow
def test_a_failing_scenario_keeps_its_row_with_the_reason(tmp_path: Path) -> None:
    rows = run_scenarios(tmp_path)
    crash = rows["a crash scenario"]
    assert (crash["status"], crash["faults"]) == ("fail", 1)
    assert "the kill landed nowhere" in str(crash["reason"])
    early = rows["test_fails_before_recording"]
    assert early["status"] == "fail" and "never reached the gate" in str(early["reason"])
    assert rows["fuzzed numbers"]["bad_inputs"] == 14  # 7 examples run x 2 distinct inputs each


def test_write_refuses_a_failed_run_and_leaves_the_page(tmp_path: Path) -> None:
    rows = [
        {"scenario": s, "kind": "crash", "promise": "p", "faults": 1, "bad_inputs": 0,
         "orders": 1, "lost": 0, "duplicates": 0, "detail": "", "status": status,
         "reason": reason, "test": s}
        for s, status, reason in (("ok", "pass", ""), ("broken", "fail", "lost 2 orders"))
    ]  # fmt: skip
    source = tmp_path / "results.json"
    source.write_text(json.dumps({"database": "sqlite", "results": rows}))
    page = tmp_path / "RELIABILITY.md"
    page.write_text("last good page\n")
    done = subprocess.run(
        [sys.executable, "bench/faults.py", "--from", str(source), "--write", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "broken" in done.stderr and "untouched" in done.stderr
    assert "fail: lost 2 orders" in done.stdout
    assert page.read_text() == "last good page\n"
    passing = [r for r in rows if r["status"] == "pass"]
    source.write_text(json.dumps({"database": "sqlite", "results": passing}))
    done = subprocess.run(
        [sys.executable, "bench/faults.py", "--from", str(source), "--write", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| ok |" in page.read_text()


def test_each_row_names_the_database_it_ran_on(tmp_path: Path) -> None:
    def run(database: str, lost: int) -> dict[str, object]:
        row = {"scenario": "kill", "kind": "crash", "promise": "p", "faults": 1,
               "bad_inputs": 0, "orders": 4, "lost": lost, "duplicates": 0, "detail": "",
               "counted": True, "status": "pass", "reason": "", "test": "kill"}  # fmt: skip
        sent = ["a1", "b2"] if database == "sqlite" else ["b2", "c3"]
        fuzz = {**row, "scenario": "fuzz", "kind": "abuse", "faults": 0, "orders": 0,
                "lost": 0, "inputs": sent}  # fmt: skip
        return {"database": database, "results": [row, fuzz]}

    source = tmp_path / "results.json"
    source.write_text(json.dumps({"runs": [run("sqlite", 0), run("postgresql", 1)]}))
    page = tmp_path / "RELIABILITY.md"
    done = subprocess.run(
        [sys.executable, "bench/faults.py", "--from", str(source), "--write", str(page)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    assert "| kill | p | sqlite | 1 | 1 | 0 | 4 | 0 | 0 | pass |" in text
    assert "| kill | p | postgresql | 1 | 1 | 0 | 4 | 1 | 0 | pass |" in text
    assert "sqlite and postgresql" in text
    figures = json.loads(done.stdout.strip().splitlines()[-2])["figures"]
    assert figures["orders_lost"]["by_database"] == {"sqlite": 0, "postgresql": 1}
    assert figures["faults_survived"]["value"] == 1  # the PostgreSQL run lost an order
    assert figures["bad_inputs_tried"]["value"] == 3  # b2 was sent on both: one input
