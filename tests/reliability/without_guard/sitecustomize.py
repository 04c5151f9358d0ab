"""Interpreter start-up hook for the guard checks (tests/reliability/guards.py):
on PYTHONPATH only when a scenario runs without one of its guards, it removes
the guard named in RELIABILITY_WITHOUT_GUARD from this process."""

import os

if os.environ.get("RELIABILITY_WITHOUT_GUARD"):
    from tests.reliability.guards import remove

    remove(os.environ["RELIABILITY_WITHOUT_GUARD"])
