"""Interpreter start-up hook of the fault suite, on PYTHONPATH only for the
processes that need it (never in the service itself):

- RELIABILITY_WITHOUT_GUARD names a guard to take out of this process
  (tests/reliability/guards.py), for the checks that the suite notices it gone;
- RELIABILITY_KILL_AT names a point in the code where this process kills
  itself with SIGKILL (tests/reliability/kill_points.py)."""

import os

if os.environ.get("RELIABILITY_WITHOUT_GUARD"):
    from tests.reliability.guards import remove

    remove(os.environ["RELIABILITY_WITHOUT_GUARD"])

if os.environ.get("RELIABILITY_KILL_AT"):
    from tests.reliability.kill_points import arm

    arm(os.environ["RELIABILITY_KILL_AT"])
