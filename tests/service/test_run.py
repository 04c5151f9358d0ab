"""`podops run` as an operator meets it: it starts, answers, reports, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
default_provider = "sandbox"
countdown_hours = 24

[providers.sandbox]
kind = "sandbox"

[sheet]
backend = "none"

[server]
port = {port}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _podops(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podops", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def shop(tmp_path: Path, db_url: str) -> tuple[Path, dict[str, str], int]:
    port = _free_port()
    (tmp_path / "podops.toml").write_text(CONFIG.format(port=port))
    env = {**os.environ, "PODOPS_DATABASE__URL": db_url, "PODOPS_CONFIG": "podops.toml"}
    env.pop("PODOPS_SLACK__ENABLED", None)
    assert _podops("init", cwd=tmp_path, env=env).returncode == 0
    return tmp_path, env, port


def test_service_starts_serves_health_and_stops_on_sigterm(
    shop: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, port = shop
    service = subprocess.Popen(
        [sys.executable, "-m", "podops", "run", "--log-json"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.json() == {"ok": True}
        deadline = time.monotonic() + 20
        status = _podops("status", cwd=folder, env=env)
        while "running" not in status.stdout.split("\n")[0] and time.monotonic() < deadline:
            time.sleep(0.5)
            status = _podops("status", cwd=folder, env=env)
        assert status.stdout.startswith("running")
        assert "main" in status.stdout  # the sandbox store was synced
    finally:
        service.send_signal(signal.SIGTERM)
        _out, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    assert '"msg": "stopped"' in err


def test_start_up_says_what_is_missing(shop: tuple[Path, dict[str, str], int]) -> None:
    folder, env, _ = shop
    config = folder / "podops.toml"
    config.write_text(
        config.read_text()
        + '\n[providers.customcat]\nkind = "customcat"\n[slack]\nenabled = true\n'
    )
    result = _podops("run", cwd=folder, env=env)
    assert result.returncode == 2
    assert "PODOPS_PROVIDERS__CUSTOMCAT__API_KEY" in result.stderr
    assert "PODOPS_SLACK__BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
