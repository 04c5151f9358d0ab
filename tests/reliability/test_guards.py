"""Each guard RELIABILITY.md relies on, taken out: its scenarios must then fail.

A figure that cannot fail proves nothing. For every guard in `guards.GUARDS`
the scenarios that rely on it run again in a subprocess with the guard removed
(in the pytest process and every worker it starts); the row passes only if
every one of those scenarios fails and every process confirms the guard was
really gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.reliability.conftest import RESULTS_ENV, ROOT, Outcome
from tests.reliability.guards import GUARD_ENV, GUARDS, HOOK_DIR, MARKER_ENV

pytestmark = pytest.mark.slow  # each guard reruns worker-process scenarios


def run_without(name: str, folder: Path) -> tuple[int, str, set[str], set[str]]:
    """The guard's scenarios without it: exit code, output tail, guards seen removed,
    and the scenarios that failed (as `module::test`, parameters dropped)."""
    marker, junit = folder / "removed.txt", folder / "junit.xml"
    env = {
        **os.environ,
        GUARD_ENV: name,
        MARKER_ENV: str(marker),
        RESULTS_ENV: str(folder / "results.json"),  # never mixed into the page's results
        "PYTHONPATH": os.pathsep.join((str(ROOT), str(HOOK_DIR))),
    }
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
         f"--junitxml={junit}", *GUARDS[name].scenarios],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    removed = set()
    if marker.exists():
        removed = {line.split(" ", 1)[1] for line in marker.read_text().splitlines()}
    return done.returncode, (done.stdout + done.stderr)[-1500:], removed, failed_in(junit)


def failed_in(junit: Path) -> set[str]:
    """The test cases that failed or erred in a JUnit XML report, as `module::test[params]`
    and as `module::test` (a listed scenario may name a test with all its parameters)."""
    if not junit.exists():
        return set()
    failed: set[str] = set()
    for case in ElementTree.parse(junit).iter("testcase"):
        if case.find("failure") is None and case.find("error") is None:
            continue
        module = case.get("classname", "").replace(".", "/") + ".py"
        name = case.get("name", "")
        failed |= {f"{module}::{name}", f"{module}::{name.split('[', 1)[0]}"}
    return failed


@pytest.mark.parametrize("name", list(GUARDS))
def test_the_suite_fails_without_the_guard(
    name: str, tmp_path: Path, record: list[Outcome]
) -> None:
    guard = GUARDS[name]
    row = Outcome(
        f"without {name}",
        "guard",
        guard.what,
        detail=", ".join(s.rsplit("::", 1)[-1] for s in guard.scenarios),
    )
    record.append(row)
    code, output, removed, failed = run_without(name, tmp_path)
    assert removed == {name}, f"the guard was not removed: {output}"
    assert code == pytest.ExitCode.TESTS_FAILED, f"exit {code} without {name}: {output}"
    uncaught = [s for s in guard.scenarios if s not in failed]
    assert uncaught == [], f"these still pass without {name}: {uncaught}"
