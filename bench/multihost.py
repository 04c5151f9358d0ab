"""Several hosts, simulated: one web and two worker `podops run` processes, no shared
disk, one PostgreSQL database, a moto S3 server, the sandbox store sending orders to a
fake CustomCat with a rate limit. Both workers run the countdown (disjoint claims,
one shared rate limit); one is killed (SIGKILL) halfway, inside a call the provider
answered.

    PODOPS_TEST_DATABASE_URL=postgresql+psycopg://... python bench/multihost.py
        [--seconds 240] [--backlog-s 600] [--every-s 8] [--rate 2] [--kill-after 10]
        [--uploads 5]

The same setup as tests/runtime/test_multihost.py (tests/multihost.py), run longer:
a backlog of orders waiting at start, new ones every few seconds for `--seconds`,
the store polled every 6 s. Each process has its own folder; the database is a
throwaway schema, dropped at the end. Figures:

- orders_per_s_3proc: orders the provider created / seconds from its first to its
  last creation (the kill and the 60 s its stale claims wait are inside the span);
- provider_peak_over_limit: the most requests the provider saw in any second, from
  every process together, over the limit (shared by the processes; plus one for
  network jitter, as the shared-limits test allows);
- orders_by_worker-1 / orders_by_worker-2: orders each worker created at the provider
  (both send: the countdown runs on every worker on PostgreSQL);
- duplicates: references the provider created more than once (it accepts repeats);
- links_broken: links (the provider's, and each line's on the web role) that did not
  download the bytes the line records;
- orders_lost: orders placed before the end that never reached the provider exactly
  once;
- upload_ms_p50: a 13 MB print file put into the S3 server (bench/storage.py's).

Refuses (exit 2) without PostgreSQL: several hosts share one PostgreSQL database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text

from bench.storage import upload_ms
from podops.db import Database
from tests.multihost import Cluster, ClusterPlan, Outcome

DATABASE_ENV = ("PODOPS_BENCH_DATABASE_URL", "PODOPS_TEST_DATABASE_URL")
SETTLE_S = 300.0


def database_url() -> str | None:
    for name in DATABASE_ENV:
        url = os.environ.get(name, "")
        if url.startswith("postgresql"):
            return url
    return None


def throwaway_schema(base: str) -> tuple[str, str]:
    """A fresh schema migrated to head, and the URL whose search_path is it."""
    schema = f"podops_multihost_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    joiner = "&" if "?" in base else "?"
    url = f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
    database = Database(url)
    database.upgrade()
    database.dispose()
    return url, schema


def drop_schema(base: str, schema: str) -> None:
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def run(url: str, plan: ClusterPlan, seconds: float, kill_after: int) -> tuple[Outcome, str]:
    """The cluster for `seconds`, then until every order placed by then has settled."""
    with (
        tempfile.TemporaryDirectory(prefix="podops-multihost-") as folder,
        Cluster(Path(folder), url, plan) as cluster,
    ):
        cluster.start_all()
        kills = cluster.arm_kill(kill_after) if kill_after else []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            cluster.check_alive()
            time.sleep(0.2)
        cluster.provider.on_create = None
        cutoff = datetime.now(UTC)
        left = cluster.wait_settled(SETTLE_S, placed_before=cutoff)
        outcome = cluster.outcome(placed_before=cutoff)
        outcome.lost += [f"{number} not settled in {SETTLE_S:.0f} s" for number in left]
    killed = f"{kills[0][0]} after {kills[0][1]} orders" if kills else "nobody"
    return outcome, killed


def figures(outcome: Outcome, uploads: list[float]) -> dict[str, dict[str, object]]:
    created = outcome.submitted
    span = outcome.last_created_s - outcome.first_created_s
    rate = created / span if span > 0 else 0.0
    return {
        "orders_per_s_3proc": {"value": round(rate, 3), "unit": "orders/s", "target": ""},
        "provider_peak_over_limit": {
            "value": outcome.peak_over_limit,
            "unit": "requests",
            "target": "0",
        },
        "duplicates": {"value": outcome.duplicates, "unit": "orders", "target": "0"},
        "links_broken": {"value": len(outcome.links_broken), "unit": "links", "target": "0"},
        "orders_lost": {"value": len(outcome.lost), "unit": "orders", "target": "0"},
        **{
            f"orders_by_{name}": {"value": count, "unit": "orders", "target": "> 0"}
            for name, count in outcome.sent_by.items()
        },
        "upload_ms_p50": {
            "value": round(statistics.median(uploads), 1),
            "unit": "ms",
            "target": "(13 MB, local server)",
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240.0, help="how long orders come in")
    parser.add_argument("--backlog-s", type=float, default=600.0, help="orders waiting at start")
    parser.add_argument("--every-s", type=float, default=8.0, help="the store's order slot")
    parser.add_argument("--rate", type=float, default=2.0, help="the provider's limit, per s")
    parser.add_argument("--kill-after", type=int, default=10, help="0: kill no worker")
    parser.add_argument("--uploads", type=int, default=5, help="13 MB uploads timed")
    args = parser.parse_args(argv)  # an unknown flag exits 2 with the usage
    base = database_url()
    if base is None:
        print(
            "bench/multihost.py needs PostgreSQL: several hosts share one PostgreSQL database "
            "(SQLite is one host only). Set PODOPS_BENCH_DATABASE_URL or "
            "PODOPS_TEST_DATABASE_URL to postgresql+psycopg://user@host:5432/db",
            file=sys.stderr,
        )
        return 2
    plan = ClusterPlan(
        backfill_s=args.backlog_s,
        every_s=args.every_s,
        poll_minutes=0.1,
        rate_per_s=args.rate,
    )
    url, schema = throwaway_schema(base)
    started = time.monotonic()
    try:
        outcome, killed = run(url, plan, args.seconds, args.kill_after)
    finally:
        drop_schema(base, schema)
    elapsed = time.monotonic() - started
    uploads = upload_ms(args.uploads)
    shown = figures(outcome, uploads)
    print(f"{'orders':<28}{outcome.submitted} sent of {outcome.orders} placed by the end, "
          f"{outcome.waiting_for_staff} waiting for staff")  # fmt: skip
    print(f"{'killed':<28}{killed}")
    print(f"{'sent by':<28}" + ", ".join(f"{n} {c}" for n, c in outcome.sent_by.items()))
    print(f"{'links checked':<28}{outcome.links_checked}")
    print(f"{'provider peak':<28}{outcome.peak_per_window} in 1 s "
          f"(allowed {outcome.allowed_per_window})")  # fmt: skip
    print(f"{'run':<28}{elapsed:.0f} s")
    print(f"{'load average':<28}{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for problem in outcome.lost + outcome.links_broken:
        print(f"  problem: {problem}")
    for name, figure in shown.items():
        print(f"{name:<28}{figure['value']} {figure['unit']}")
    print(json.dumps({"bench": "multihost", "figures": shown}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
