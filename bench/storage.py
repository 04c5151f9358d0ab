"""Object storage: how long a 13 MB print file takes to reach an S3-compatible server,
and what the client library costs at import.

    python bench/storage.py [--uploads 15]

The server is moto's server mode in its own process on 127.0.0.1 (tests/fakes/
s3_server.py), so the figure is podops' side plus a local server's, not a network's.
Each upload is `S3Storage.put` of a fresh 13 MB file (random bytes: PNG data does
not compress further) followed by nothing else; the import time is a fresh
interpreter importing obstore and building the client, as `podops run` does.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from podops.settings import StorageConfig
from providers.storage_local import LocalStorage
from providers.storage_s3 import S3Storage
from tests.fakes.s3_server import S3Server

PRINT_FILE_MB = 13
IMPORT_RUNS = 5
IMPORT_SNIPPET = (
    "import time; t = time.perf_counter(); import obstore; "
    "from obstore.store import S3Store; "
    "S3Store('b', endpoint='http://127.0.0.1:1', access_key_id='a', secret_access_key='b', "
    "region='us-east-1', client_options={'allow_http': True}); "
    "print((time.perf_counter() - t) * 1000)"
)


def import_ms() -> float:
    """Median over fresh interpreters: the cost a process pays once."""
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", IMPORT_SNIPPET], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(IMPORT_RUNS)
    ]
    return statistics.median(runs)


def upload_ms(uploads: int) -> list[float]:
    with S3Server() as s3, tempfile.TemporaryDirectory() as folder:
        config = StorageConfig(
            kind="s3",
            bucket=s3.bucket,
            endpoint_url=s3.endpoint,
            access_key_id=s3.keys.access_key_id,
            secret_access_key=s3.keys.secret_access_key,
        )  # type: ignore[arg-type]
        storage = S3Storage(config, LocalStorage(Path(folder), "", None, 60))
        storage.check()
        timings = []
        for index in range(uploads):
            data = os.urandom(PRINT_FILE_MB * 1024 * 1024)
            started = time.perf_counter()
            location = storage.put(f"bench-{index:03d}-r001-{index:012x}.png", data, "image/png")
            timings.append((time.perf_counter() - started) * 1000)
            assert storage.exists(location)
        return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=15)
    args = parser.parse_args()
    timings = upload_ms(args.uploads)
    imported = import_ms()
    p50 = statistics.median(timings)
    figures = {
        "upload_ms_p50": {"value": round(p50, 1), "unit": "ms", "target": "(13 MB, local server)"},
        "upload_ms_max": {"value": round(max(timings), 1), "unit": "ms", "target": ""},
        "client_import_ms": {"value": round(imported, 1), "unit": "ms", "target": ""},
    }
    print(f"{'print file':<28}{PRINT_FILE_MB} MB, {args.uploads} uploads to moto on 127.0.0.1")
    print(f"{'load average':<28}{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for name, shown in figures.items():
        print(f"{name:<28}{shown['value']} {shown['unit']}")
    print(json.dumps({"bench": "storage", "figures": figures}))


if __name__ == "__main__":
    main()
