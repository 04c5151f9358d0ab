"""What `podops` says matches what it does: the exit codes README promises, replies
that name the status once, holds that take a second reason, help that tells
what each command needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podops.cli.main import main
from podops.db import Database
from podops.routing import ShopPolicy
from tests.cli.conftest import seed
from tests.factories import submitted_order

EVERY_ORDER_COMMAND = [
    ["orders", "show", "3010"],
    ["hold", "3010", "--reason", "address check"],
    ["release", "3010"],
    ["cancel", "3010", "--reason", "out of stock"],
    ["submit", "3010"],
    ["retry", "3010"],
    ["track", "3010", "UPS", "1Z999AA10123456784"],
    ["edit", "3010", "name=Ana"],
    ["render", "3010"],
]


@pytest.mark.parametrize("command", EVERY_ORDER_COMMAND, ids=lambda c: " ".join(c[:2]))
def test_an_order_number_that_names_no_order_exits_2(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    seed(db_url, "3001")
    assert main(command) == 2  # README: 2 for a mistyped order number
    assert capsys.readouterr().err.strip() == "error: no order 3010 (did you mean 3001?)"


def test_a_line_or_sku_the_order_does_not_have_exits_2(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(db_url, "3001")
    assert main(["render", "3001", "--line", "9"]) == 2
    assert "order 3001 has no line 9 (its lines: 1, 2)" in capsys.readouterr().err
    assert main(["edit", "3001", "--line", "9", "name=Ana"]) == 2
    assert "order 3001 has no line 9 (its lines: 1, 2)" in capsys.readouterr().err
    assert main(["track", "3001", "UPS", "1Z999AA10123456784", "--sku", "NOPE"]) == 2
    err = capsys.readouterr().err
    assert "order 3001 has no line with SKU NOPE (its SKUs: MUG-11OZ, TEE-BLK-M)" in err
    assert main(["release", "3001"]) == 1  # an order that exists and refuses: still 1


def test_replies_name_the_status_once_and_a_second_hold_adds_its_reason(
    workdir: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(db_url, "3001", "3002")
    assert main(["hold", "3001", "--reason", "address check"]) == 0
    assert capsys.readouterr().out.strip() == "Order 3001 is on hold: address check."
    assert main(["hold", "3001", "--reason", "customer [asked] to wait"]) == 0
    said = capsys.readouterr().out.strip()
    assert said == "Order 3001 is on hold: customer [asked] to wait; address check."
    assert main(["orders", "show", "3001", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "on_hold"
    assert shown["hold_reason"] == "customer [asked] to wait; address check"
    assert [e["action"] for e in shown["events"]][-2:] == ["hold", "hold_reason"]
    assert main(["release", "3001"]) == 0
    assert capsys.readouterr().out.startswith("Order 3001 is back in the countdown, submits ")
    assert main(["hold", "3002", "--reason", "stock check"]) == 0
    assert main(["hold", "3002"]) == 1  # nothing to add: refused, nothing changes
    assert capsys.readouterr().err.strip() == "error: order 3002 is already on hold: stock check"
    assert main(["cancel", "3002", "--reason", "duplicate"]) == 0
    assert capsys.readouterr().out.strip() == "Order 3002 is cancelled."


def test_track_warns_when_another_order_has_the_number(
    workdir: Path, db: Database, policy: ShopPolicy, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = submitted_order(db, policy), submitted_order(db, policy)
    assert main(["track", first, "UPS", "1Z999AA10123456784"]) == 0
    assert "warning" not in capsys.readouterr().out
    assert main(["track", second, "ups", "1Z999AA10123456784"]) == 0  # a combined parcel
    out = capsys.readouterr().out
    assert f"Order {second}: recorded UPS 1Z999AA10123456784 (shipped)." in out
    assert (
        f"warning: tracking 1Z999AA10123456784 is also on order {first}: one parcel for "
        "several orders, or a typo?"
    ) in " ".join(out.split())
    assert main(["orders", "show", second, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    shipped = [e for e in shown["events"] if e["action"] == "ship_all"]
    assert [e["detail"]["shared_with"] for e in shipped] == [[first]]  # the audit keeps it
    assert main(["track", second, "UPS", "1Z999AA10123456784"]) == 1  # on this order already
    assert "is already recorded on order" in capsys.readouterr().err
