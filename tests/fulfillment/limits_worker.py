"""One podops process calling one provider, for the shared-limits test.

    python -m tests.fulfillment.limits_worker DB_URL CUSTOMCAT_URL LIMITS RATE CALLS

LIMITS `shared` (the PostgreSQL limiter `podops run` uses there) or `local` (each
process its own, as on SQLite). The provider is built by the composition root's
own `build_providers`; it prints `ready`, waits for a line on stdin (so the test
starts the processes together, or one after another), then two threads make
CALLS status lookups in all. Prints one JSON line: calls made, refused as busy
(a 429, or the pause another process recorded).
"""

from __future__ import annotations

import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from podops.errors import ProviderError
from podops.ports.fulfillment import ProviderBusy
from podops.runtime.fulfillment_wiring import build_providers, print_links
from podops.settings import Settings
from podops.shared_limits import Limits, LocalLimits, limits_for
from tests.fakes.customcat import API_KEY


def main(db_url: str, cc_url: str, mode: str, rate: str, calls: str) -> int:
    provider_config = {
        "kind": "customcat",
        "base_url": cc_url,
        "api_key": API_KEY,
        "rate_limit_per_s": float(rate),
        "concurrency": 2,
    }
    settings = Settings.model_validate(
        {
            "data_dir": Path(tempfile.mkdtemp()),
            "database": {"url": db_url},
            "providers": {"cc": provider_config},
        }
    )
    limits: Limits = limits_for(db_url, "postgresql") if mode == "shared" else LocalLimits()
    providers, clients = build_providers(settings, print_links(settings), limits)
    provider = providers["cc"]
    outcome = {"made": 0, "busy": 0}

    def one(number: int) -> None:
        try:
            provider.find_by_reference(f"main-{number}")
            outcome["made"] += 1
        except ProviderBusy:
            outcome["busy"] += 1
        except ProviderError:
            outcome["made"] += 1

    print("ready", flush=True)
    sys.stdin.readline()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(int(calls))))
    print(json.dumps(outcome))
    for client in clients:
        client.close()
    limits.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
