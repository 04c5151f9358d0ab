"""Shipping speed from the terminal: `podops edit N shipping=SPEED`, the rush flag in
`orders show` and `orders list`, config problems at load and in `podops status`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import services
from podops.cli.main import main
from podops.models import Event, OutboxMessage, utcnow
from podops.runtime.root import Runtime
from podops.status import OrderStatus
from tests.factories import SYSTEM, incoming

CONFIG = """
timezone = "UTC"
data_dir = "var"

[stores.main]
platform = "sandbox"
countdown_hours = 24
default_provider = "cc"

[stores.main.shipping.methods]
"Standard Shipping" = "standard"
"Express Shipping" = "express"

[stores.main.shipping.speeds]
express = { countdown_hours = 2 }
overnight = { countdown_hours = 0 }

[stores.main.shipping.providers.cc]
standard = "Economy"
express = "Expedited"

[providers.cc]
kind = "customcat"

[providers.manual]
kind = "manual"
"""


@pytest.fixture
def rt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_url: str) -> Runtime:
    """Orders S1 (standard), S2 (express) and S3 (a method the table does not know)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PODOPS_DATABASE__URL", db_url)
    monkeypatch.delenv("PODOPS_CONFIG", raising=False)
    Path("podops.toml").write_text(CONFIG)
    runtime = Runtime.from_config(Path("podops.toml"))
    now = utcnow()
    orders = [
        incoming("S1", placed_at=now, shipping_method="Standard Shipping"),
        incoming("S2", placed_at=now, shipping_method="Express Shipping"),
        incoming("S3", placed_at=now, shipping_method="Overnight Air"),
    ]
    with runtime.db.unit_of_work() as session:
        services.receive_orders(session, orders, runtime.policy, SYSTEM)
    return runtime


def _order(rt: Runtime, number: str):  # type: ignore[no-untyped-def]
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, number)
        session.expunge(order)
        return order


def test_show_and_list_flag_rush_orders_and_name_the_speed(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["orders", "show", "S2"]) == 0
    out = capsys.readouterr().out
    assert "Ships:    express (Express Shipping) RUSH" in out
    assert main(["orders", "show", "S3"]) == 0
    out = capsys.readouterr().out
    assert "Ships:    no speed for 'Overnight Air': set it" in out
    assert "shipping method 'Overnight Air' has no mapping for cc" in out
    assert main(["orders", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line[:1] == "S"}
    assert "express RUSH" in rows["S2"] and "RUSH" not in rows["S1"]


def test_staff_set_a_speed_and_the_countdown_follows_its_rule(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _order(rt, "S1")
    assert main(["edit", "S1", "shipping=Express"]) == 0
    out = capsys.readouterr().out
    assert "Order S1 ships express (Standard Shipping) RUSH now; it is pending" in out
    after = _order(rt, "S1")
    assert (after.shipping_speed, after.rush) == ("express", True)
    assert after.submit_at == before.submit_at - timedelta(hours=22)
    with rt.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == "shipping_speed")).one()
        assert event.detail == {"old": "standard", "new": "express", "rush": True}
        assert event.actor.startswith("cli:") and event.channel == "cli"
        assert session.scalars(select(OutboxMessage.topic)).all(), "Slack hears of it"
    assert main(["edit", "S1", "shipping=express"]) == 0
    out = capsys.readouterr().out
    assert "Nothing changed: order S1 already ships express (Standard Shipping) RUSH." in out


def test_an_unknown_speed_is_refused_with_the_known_ones_and_nothing_changes(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edit", "S1", "shipping=warp"]) == 1
    err = capsys.readouterr().err
    assert "unknown shipping speed 'warp'; known speeds: standard, express, overnight" in err
    assert main(["edit", "S1", "shipping=overnight"]) == 1
    err = capsys.readouterr().err
    assert "goes to cc, which has no method for overnight" in err
    assert "speeds cc ships: standard, express" in err
    assert _order(rt, "S1").shipping_speed == "standard"
    with rt.db.unit_of_work() as session:
        assert not session.scalars(select(Event).where(Event.action == "shipping_speed")).all()


def test_setting_the_speed_of_an_order_held_for_its_method_releases_it(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert OrderStatus(_order(rt, "S3").status) == OrderStatus.ON_HOLD
    assert main(["edit", "S3", "shipping=standard"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Order S3 ships standard (Overnight Air) now; it is pending, submits in 23h" in out
    order = _order(rt, "S3")
    assert order.problems == [] and order.hold_reason is None


def test_a_submitted_order_keeps_its_speed(rt: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    with rt.db.unit_of_work() as session:
        order = services.get_order(session, "S1")
        services.begin_submit(session, order, services.plan_fulfillments(session, order), SYSTEM)
    assert main(["edit", "S1", "shipping=express"]) == 1
    assert "its shipping speed can no longer be changed" in capsys.readouterr().err


def test_config_mistakes_are_named_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    broken = CONFIG.replace('"Express Shipping" = "express"', '"Express Shipping" = "expres"')
    broken = broken.replace("shipping.providers.cc]", "shipping.providers.ups]")
    broken += '\n[[routing]]\nsku = "TEE-*"\nprovider = "cc"\ncountries = ["EU", "XX"]\n'
    Path("podops.toml").write_text(broken)
    assert main(["orders", "list"]) == 2
    err = capsys.readouterr().err
    assert "unknown country 'XX'" in err
    Path("podops.toml").write_text(broken.replace('"EU", "XX"', '"EU", "us"'))
    assert main(["orders", "list"]) == 2
    err = capsys.readouterr().err
    assert "stores.main.shipping.methods.'Express Shipping': unknown speed 'expres'" in err
    assert "stores.main.shipping.providers.ups: no provider named 'ups'" in err
    assert "Traceback" not in err


def test_status_lists_the_speeds_a_provider_has_no_method_for(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "shipping: stores.main.shipping.providers.cc: no method for overnight" in out


def test_a_usage_error_beside_the_speed_changes_nothing(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["edit", "S1", "shipping=express", "name=Bo"]) == 2
    assert "say which with --line" in capsys.readouterr().err
    assert _order(rt, "S1").shipping_speed == "standard"
