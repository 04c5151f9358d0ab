"""`podops return`, `podops orders list --state/--status returned` and the shipments
in `podops orders show` (tracking link and packing slip)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podops import events, services
from podops.cli.main import main
from podops.db import Database
from podops.events import EventName
from podops.routing import ShopPolicy
from podops.settings import Settings
from tests.factories import SYSTEM, received_order, shipped_order, submitted_order

SLIP = "https://ops.example.com/files/packing-slip-main-1.pdf?exp=1&sig=ab"


@pytest.fixture
def orders(workdir: Path, db_url: str) -> dict[str, str]:
    """pending, submitted (with a packing slip), shipped, shipped-with-slip, cancelled."""
    db = Database(db_url)
    policy = ShopPolicy.from_settings(Settings())
    made = {
        "pending": received_order(db, policy),
        "submitted": submitted_order(db, policy),
        "shipped": shipped_order(db, policy),
        "cancelled": received_order(db, policy),
    }
    with db.unit_of_work() as session:
        services.cancel(session, made["cancelled"], SYSTEM, "out of stock")
        order = services.get_order(session, made["shipped"])
        submit = next(e for e in order_events(session, order) if e.action == "submit_ok")
        events.record(session, order, SYSTEM, EventName.READY_TO_DOWNLOAD, packing_slip=SLIP)
        assert submit.id  # the slip follows the submission, as the manual provider's does
    db.dispose()
    return made


def order_events(session, order):  # type: ignore[no-untyped-def]
    from podops import queries

    return queries.timeline(session, order)


def listed(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["orders", "list", "--json", *args]) == 0
    return [o["number"] for o in json.loads(capsys.readouterr().out)]


def test_a_return_from_the_terminal_is_said_and_listed(
    orders: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    number = orders["shipped"]
    assert main(["return", number, "--reason", "wrong size", "--line", "1", "--qty", "1"]) == 0
    assert f"Order {number}: {number}-01 x1 came back (shipped)." in capsys.readouterr().out
    assert listed(capsys, "--status", "returned") == [number]  # some units back
    assert listed(capsys, "--state", "returned") == [number]
    assert main(["return", number, "-r", "damaged"]) == 0
    assert "came back (returned)" in capsys.readouterr().out
    assert main(["orders", "show", number, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "returned"
    assert [i["quantity_returned"] for i in shown["items"]] == [2, 1]
    assert [(r["reason"], r["lines"]) for r in shown["returns"]] == [
        ("wrong size", {f"{number}-01": 1}),
        ("damaged", {f"{number}-01": 1, f"{number}-02": 1}),
    ]


@pytest.mark.parametrize(
    ("which", "args", "refusal"),
    [
        ("pending", [], "cannot be returned: it is pending and nothing of it has shipped"),
        ("cancelled", [], "cannot be returned: it was cancelled"),
        ("shipped", ["--line", "1", "--qty", "5"], "5 to return, but 2 of it shipped"),
    ],
)
def test_refusals_are_printed_with_the_reason(
    orders: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    which: str,
    args: list[str],
    refusal: str,
) -> None:
    assert main(["return", orders[which], "--reason", "damaged", *args]) != 0
    captured = capsys.readouterr()
    assert refusal in " ".join((captured.out + captured.err).split())
    assert listed(capsys, "--state", "returned") == []


def test_the_list_filters_by_shipment_state_newest_first(
    orders: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert listed(capsys, "--state", "not-shipped") == [orders["submitted"], orders["pending"]]
    assert listed(capsys, "--state", "shipped") == [orders["shipped"]]
    assert listed(capsys, "--state", "cancelled") == [orders["cancelled"]]
    assert listed(capsys, "--state", "partially-shipped") == []
    assert listed(capsys, "--state", "shipped,cancelled") == [
        orders["cancelled"],
        orders["shipped"],
    ]
    assert main(["orders", "list", "--state", "lost"]) != 0
    assert "not an order state; use one of: not-shipped" in " ".join(
        capsys.readouterr().err.split()
    )


def test_show_lists_each_shipment_with_its_tracking_link_and_packing_slip(
    orders: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    number = orders["shipped"]
    assert main(["orders", "show", number]) == 0
    out = capsys.readouterr().out
    assert "Shipments:" in out
    assert "1. UPS 1Z999AA10123456784" in out
    assert f"({number}-01 x2, {number}-02 x1)" in out
    assert "tracking: https://www.ups.com/track?tracknum=1Z999AA10123456784" in out
    assert f"packing slip: {SLIP}" in out
