"""`podops run` as an operator meets it: it starts, answers, reports, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from podops.db import Database
from podops.models import SyncState

pytestmark = pytest.mark.slow  # `podops run` processes: seconds each

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


def _start(folder: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "podops", "run", "--log-json", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _status_until(folder: Path, env: dict[str, str], wanted: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while True:
        shown = _podops("status", cwd=folder, env=env).stdout
        if wanted in shown or time.monotonic() > deadline:
            return shown
        time.sleep(0.3)


def test_a_web_instance_shows_in_status_and_leaves_it_when_stopped(
    shop: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, port = shop
    service = _start(folder, env, "--role", "web")
    try:
        shown = _status_until(folder, env, "(web)")
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json() == {"ok": True}
    finally:
        service.send_signal(signal.SIGTERM)
        _out, err = service.communicate(timeout=60)
    assert service.returncode == 0, err
    assert shown.startswith("running") and "(web)" in shown, shown
    after = _podops("status", cwd=folder, env=env).stdout
    assert after.startswith("no running podops instance"), after


def test_a_killed_instance_shows_as_not_seen(shop: tuple[Path, dict[str, str], int]) -> None:
    folder, env, _ = shop
    service = _start(folder, env, "--role", "worker")
    shown = _status_until(folder, env, "(worker)")
    service.send_signal(signal.SIGKILL)
    service.communicate(timeout=30)
    assert "(worker)" in shown
    db = Database(env["PODOPS_DATABASE__URL"])
    three_minutes_ago = (datetime.now(UTC) - timedelta(minutes=3, seconds=5)).isoformat()
    with db.unit_of_work() as session:  # three minutes pass without a heartbeat
        for state in session.scalars(select(SyncState).where(SyncState.key.like("heartbeat:%"))):
            state.value = {**state.value, "at": three_minutes_ago}
    db.dispose()
    after = _podops("status", cwd=folder, env=env).stdout
    assert after.startswith("no running podops instance"), after
    assert "not seen since 3m ago" in after and "(worker)" in after


def test_a_busy_port_is_a_configuration_error_before_anything_starts(
    shop: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, port = shop
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        result = _podops("run", "--log-json", cwd=folder, env=env)
    assert result.returncode == 2, result.stderr[-2000:]
    assert f"127.0.0.1:{port}" in result.stderr and "server.port" in result.stderr
    assert "scheduler started" not in result.stderr  # no order was pulled
    assert "Traceback" not in result.stderr


def test_plain_http_shop_address_is_refused_except_on_this_machine(
    shop: tuple[Path, dict[str, str], int],
) -> None:
    folder, env, _ = shop
    config = folder / "podops.toml"
    base = config.read_text()
    keys = {
        "PODOPS_STORES__SHOP__CONSUMER_KEY": "ck_x",
        "PODOPS_STORES__SHOP__CONSUMER_SECRET": "cs_x",
    }
    store = (
        '\n[stores.shop]\nplatform = "woocommerce"\nurl = "{url}"\ndefault_provider = "sandbox"\n'
    )
    config.write_text(base + store.format(url="http://shop.example.com"))
    refused = _podops("run", cwd=folder, env={**env, **keys})
    assert refused.returncode == 2
    assert "plain http" in refused.stderr and "https://" in refused.stderr
    config.write_text(base + store.format(url="http://localhost:8080"))
    config.write_text(config.read_text() + '\n[providers.customcat]\nkind = "customcat"\n')
    local = _podops("run", cwd=folder, env={**env, **keys})
    assert local.returncode == 2  # refused for the missing key only, not for http
    assert "plain http" not in local.stderr and "CUSTOMCAT__API_KEY" in local.stderr
