"""Mixed carts: an order whose lines go to different providers leaves as one fulfillment
per provider, each sent once under its own reference and tracked on its own, while
the order keeps one status for staff and the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podops import queries, services
from podops.routing import ShopPolicy, StorePolicy
from podops.settings import RoutingRule
from podops.status import OrderStatus
from podops.wording import describe_event
from tests import factories
from tests.cli.conftest import workdir
from tests.fulfillment.conftest import Shop, build_service, give_print_files

__all__ = ["workdir"]

MIXED = ShopPolicy(
    {"main": StorePolicy(1, "cc")},
    [
        RoutingRule(sku="TEE-*", provider="cc", provider_sku="CC-TEE", product_key="tee-front"),
        RoutingRule(sku="MUG-*", provider="so", provider_sku="SO-MUG", product_key="mug-11oz"),
    ],
)
"""Tees at CustomCat, mugs at ShineOn; the factory's order has one of each."""


def mixed_order(shop: Shop, policy: ShopPolicy = MIXED, **fields: Any) -> str:
    """Given a due order with a tee (CustomCat) and a mug (ShineOn), print files made."""
    placed = datetime.now(UTC) - timedelta(hours=2)
    fields.setdefault("customer_phone", "+1 217 555 0100")
    number = factories.received_order(shop.db, policy, placed_at=placed, **fields)
    give_print_files(shop.db, number)
    return number


def parts(shop: Shop, number: str) -> list[tuple[str, str, str, str | None]]:
    """(provider, reference, status, last error) of each fulfillment of the order."""
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        return [(f.provider, f.reference, f.status.value, f.last_error) for f in order.fulfillments]


def test_each_provider_gets_its_own_lines_once_under_its_own_reference(shop: Shop) -> None:
    number = mixed_order(shop)
    assert shop.service.tick().submitted == [number]
    assert shop.customcat.created == {f"main-{number}": 1}
    assert shop.shineon.created == {f"main--{number}_P2": 1}
    sent_cc = shop.customcat.orders[f"main-{number}"]["body"]["items"]
    assert [(i["catalog_sku"], i["quantity"]) for i in sent_cc] == [("CC-TEE", 2)]
    sent_so = shop.shineon.by_source(f"main--{number}_P2")["line_items"]
    assert [(i["sku"], i["quantity"], i["store_line_item_id"]) for i in sent_so] == [
        ("SO-MUG", 1, f"{number}-02")
    ]
    assert shop.get(number).status == OrderStatus.SUBMITTED
    assert [p[:3] for p in parts(shop, number)] == [
        ("cc", f"main-{number}", "submitted"),
        ("so", f"main--{number}_P2", "submitted"),
    ]
    assert shop.service.tick().submitted == []  # nothing goes twice


def test_tracking_from_each_provider_ships_its_part_and_then_the_order(shop: Shop) -> None:
    number = mixed_order(shop)
    shop.service.tick()
    shop.customcat.ship(f"main-{number}", "1Z999AA10123456784", vendor="UPS", items=2)
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert [(i.position, i.quantity_shipped) for i in order.items] == [(1, 2), (2, 0)]
    assert [p[2] for p in parts(shop, number)] == ["shipped", "submitted"]
    assert order.shipments[0].fulfillment_id == order.fulfillments[0].id
    shop.shineon.ship(f"main--{number}_P2", "USPS", "9400111899223197428490")
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert [p[2] for p in parts(shop, number)] == ["shipped", "shipped"]
    assert order.shipments[1].fulfillment_id == order.fulfillments[1].id


def test_a_part_refused_fails_alone_and_the_other_goes_on(shop: Shop) -> None:
    number = mixed_order(shop)
    shop.shineon.unknown_skus.add("SO-MUG")
    report = shop.service.tick()
    assert report.submitted == [number]
    assert report.failed == [
        (number, "part 2 (so): ShineOn (so) refused the order (422): The selected sku SO-MUG "
         "is invalid.")
    ]  # fmt: skip
    assert shop.get(number).status == OrderStatus.SUBMITTED
    (_, _, first, _), (_, _, second, error) = parts(shop, number)
    assert (first, second) == ("submitted", "submit_failed")
    assert "SO-MUG is invalid" in str(error)
    assert "part 2: " in str(shop.get(number).last_error)
    shop.shineon.unknown_skus.clear()
    shop.service.retry(number, factories.STAFF)
    assert [p[2] for p in parts(shop, number)] == ["submitted", "waiting"]
    shop.service.tick()
    assert [p[2] for p in parts(shop, number)] == ["submitted", "submitted"]
    assert shop.shineon.created == {f"main--{number}_P2": 1}
    assert shop.customcat.created == {f"main-{number}": 1}


def test_orders_show_shows_each_part(
    shop: Shop, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from podops.cli.main import main

    number = mixed_order(shop)
    shop.shineon.unknown_skus.add("SO-MUG")
    shop.service.tick()
    capsys.readouterr()
    assert main(["orders", "show", number]) == 0
    shown = capsys.readouterr().out
    assert "Fulfillments" in shown
    assert f"main-{number}" in shown and f"main--{number}_P2" in shown
    assert "submit failed" in shown and "SO-MUG is invalid" in shown
    assert main(["orders", "show", number, "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert [(f["provider"], f["status"]) for f in data["fulfillments"]] == [
        ("cc", "submitted"),
        ("so", "submit_failed"),
    ]
    assert data["fulfillments"][1]["lines"] == {f"{number}-02": 1}


def test_a_line_no_rule_routes_stays_while_the_others_go(shop: Shop) -> None:
    order_in = factories.incoming(customer_phone="+1 217 555 0100")
    order_in.items[1].sku = "HAT-RED"
    order_in.placed_at = datetime.now(UTC) - timedelta(hours=2)
    with shop.db.unit_of_work() as session:
        services.receive_order(session, order_in, MIXED, factories.SYSTEM)
    number = order_in.number
    give_print_files(shop.db, number)
    assert shop.service.tick().submitted == [number]
    assert [p[:3] for p in parts(shop, number)] == [("cc", f"main-{number}", "submitted")]
    assert shop.shineon.created == {}
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        assert [i.reference for i in services.fulfillments.held_lines(order)] == [f"{number}-02"]
    shop.customcat.ship(f"main-{number}", "1Z999AA10123456784", vendor="UPS", items=2)
    shop.follow_up.poll_tracking()
    assert shop.get(number).status == OrderStatus.PARTIALLY_SHIPPED  # the hat is not sent
    # The shop adds a rule for hats; staff send what was left behind.
    routed = ShopPolicy(MIXED.stores, [*MIXED.rules, RoutingRule(sku="HAT-*", provider="so")])
    service = build_service(shop.settings, shop.db, shop.service.roster, policy=routed)
    service.submit_now(number, factories.STAFF)
    assert shop.shineon.created == {f"main--{number}_P2": 1}
    assert [i["sku"] for i in shop.shineon.by_source(f"main--{number}_P2")["line_items"]] == [
        "HAT-RED"
    ]
    assert shop.get(number).items[1].problems == []
    with shop.db.unit_of_work() as session:
        told = [describe_event(e, number) for e in queries.timeline(session, shop.get(number))]
    assert (
        f"order {number}: line {number}-02 goes to so: a routing rule matches SKU HAT-RED now"
        in told
    )


def test_a_crash_after_the_second_part_reached_its_provider_sends_it_once(shop: Shop) -> None:
    """Both parts were claimed, ShineOn took the second, then the worker died: the
    reconciler finds it there by its own reference and sends only the first."""
    number = mixed_order(shop)
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        claimed = services.plan_fulfillments(session, order)
        services.begin_submit(session, order, claimed, factories.SYSTEM)
    with shop.db.unit_of_work() as session:
        second = services.get_order(session, number).fulfillments[1]
        request = shop.service.roster.request_for(second)
    shop.service.roster.provider("so").submit(request)  # what the dead worker sent
    assert shop.service.tick().reconciled == []  # too recent: may still be in flight
    reconciled = shop.service.reconcile_stuck(older_than=timedelta(0))
    assert sorted(reconciled) == sorted([f"main-{number}", f"main--{number}_P2"])
    assert shop.shineon.created == {f"main--{number}_P2": 1}
    assert shop.customcat.created == {f"main-{number}": 1}
    assert shop.get(number).status == OrderStatus.SUBMITTED
    assert [p[2] for p in parts(shop, number)] == ["submitted", "submitted"]


def test_cancelling_a_split_order_asks_each_provider(shop: Shop) -> None:
    number = mixed_order(shop)
    shop.service.tick()
    order = shop.cancel(number, "customer changed their mind")
    assert order.status == OrderStatus.CANCELLED
    assert shop.customcat.orders[f"main-{number}"]["status"] == "Cancelled"
    assert shop.shineon.by_source(f"main--{number}_P2")["status"] == "cancelled"
    assert [p[2] for p in parts(shop, number)] == ["cancelled", "cancelled"]


def test_a_split_cancel_one_provider_refuses_goes_on_with_a_problem(shop: Shop) -> None:
    number = mixed_order(shop)
    shop.service.tick()
    shop.shineon.by_source(f"main--{number}_P2")["status"] = "in_production"
    order = shop.cancel(number, "customer changed their mind")
    assert order.status == OrderStatus.IN_PRODUCTION
    assert [p[2] for p in parts(shop, number)] == ["cancelled", "in_production"]
    assert any(p.startswith("partly cancelled: part 1") for p in order.problems)


FALLBACK = ShopPolicy(
    {"main": StorePolicy(1, "cc", fallback_out_of_stock=True)},
    [
        RoutingRule(sku="TEE-*", provider="cc", provider_sku="CC-TEE", product_key="tee-front"),
        RoutingRule(sku="TEE-*", provider="so", provider_sku="SO-TEE", product_key="tee-front"),
        RoutingRule(sku="MUG-*", provider="so", provider_sku="SO-MUG", product_key="mug-11oz"),
    ],
)


def test_a_variant_out_of_stock_goes_by_the_next_rule_when_the_store_allows(
    shop: Shop,
) -> None:
    number = mixed_order(shop, FALLBACK)
    service = build_service(shop.settings, shop.db, shop.service.roster, policy=FALLBACK)
    shop.customcat.out_of_stock_skus.add("CC-TEE")
    assert service.tick().submitted == [number]
    assert shop.customcat.created == {}
    assert shop.shineon.created == {f"main--{number}_P2": 1, f"main--{number}_P3": 1}
    tees = shop.shineon.by_source(f"main--{number}_P3")["line_items"]
    assert [(i["sku"], i["quantity"]) for i in tees] == [("SO-TEE", 2)]
    assert [p[:3] for p in parts(shop, number)] == [
        ("cc", f"main-{number}", "cancelled"),
        ("so", f"main--{number}_P2", "submitted"),
        ("so", f"main--{number}_P3", "submitted"),
    ]
    assert shop.get(number).status == OrderStatus.SUBMITTED
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        told = [describe_event(e, number) for e in queries.timeline(session, order)]
    assert f"cc refused part 1 of order {number} as out of stock; its lines went on as " in str(
        told
    )


def test_without_the_store_s_consent_out_of_stock_fails_that_part(shop: Shop) -> None:
    strict = ShopPolicy({"main": StorePolicy(1, "cc")}, FALLBACK.rules)
    number = mixed_order(shop, strict)
    service = build_service(shop.settings, shop.db, shop.service.roster, policy=strict)
    shop.customcat.out_of_stock_skus.add("CC-TEE")
    service.tick()
    assert [p[2] for p in parts(shop, number)] == ["submit_failed", "submitted"]
    assert "out of stock" in str(parts(shop, number)[0][3])
    assert shop.shineon.created == {f"main--{number}_P2": 1}


def test_pasted_tracking_moves_the_part_whose_lines_it_ships(shop: Shop) -> None:
    """The Tracking tab and CSV files record many parcels at once: each fulfillment
    follows its own lines there too."""
    from podops.tracking.bulk import record_trackings
    from podops.tracking.rows import TrackingInput

    number = mixed_order(shop)
    shop.service.tick()
    rows = [TrackingInput(1, f"main:{number}-02", "USPS", "9400111899223197428490")]
    with shop.db.unit_of_work() as session:
        outcomes = record_trackings(session, rows, factories.STAFF, datetime.now(UTC))
    assert [o.ok for o in outcomes] == [True]
    assert shop.get(number).status == OrderStatus.PARTIALLY_SHIPPED
    assert [p[2] for p in parts(shop, number)] == ["submitted", "shipped"]
    shop.follow_up.poll_tracking()  # the shipped part is no longer asked about
    assert shop.shineon.requests.count(("GET", f"/v1/orders/{_so_id(shop, number)}")) == 0


def _so_id(shop: Shop, number: str) -> int:
    return int(shop.shineon.by_source(f"main--{number}_P2")["id"])


def test_a_split_orders_address_is_refused_while_a_part_is_at_a_provider_without_the_api(
    shop: Shop,
) -> None:
    """CustomCat has the tee and takes no address change through its API: the change is
    refused naming it, nothing is sent to ShineOn and nothing changes here."""
    from podops.errors import OrderLocked
    from podops.fulfillment.address_change import AddressDesk

    number = mixed_order(shop)
    shop.service.tick()
    desk = AddressDesk(shop.db, shop.service.roster)
    before = dict(shop.get(number).shipping_address)
    so_order = shop.shineon.by_source(f"main--{number}_P2")
    with pytest.raises(OrderLocked) as refused:
        desk.change(number, {"line2": "Apt 4"}, factories.STAFF)
    assert "cc takes no address change through its API: change the address there" in str(
        refused.value.message
    )
    assert desk.route(shop.get(number)).refusal == refused.value.message
    assert shop.get(number).shipping_address == before
    assert shop.shineon.by_source(f"main--{number}_P2") == so_order


def test_submit_now_sends_a_waiting_remake_and_the_part_left_behind(shop: Shop) -> None:
    """A partly shipped order with a remake waiting and a part that failed: staff's
    `submit` sends both (it once sent the remake alone and said nothing of the part)."""
    number = mixed_order(shop)
    shop.shineon.unknown_skus.add("SO-MUG")
    shop.service.tick()
    shop.customcat.ship(f"main-{number}", "1Z999AA10123456784", vendor="UPS", items=2)
    shop.follow_up.poll_tracking()
    assert shop.get(number).status == OrderStatus.PARTIALLY_SHIPPED
    with shop.db.unit_of_work() as session:
        services.remake(
            session, number, factories.STAFF, reason="misprint", paid_by="provider",
            lines=(services.RemakeLine(1, 1),),
        )  # fmt: skip
    shop.shineon.unknown_skus.clear()

    shop.service.submit_now(number, factories.STAFF)

    assert shop.customcat.created == {f"main-{number}": 1, f"main--{number}_P3": 1}
    assert shop.shineon.created == {f"main--{number}_P2": 1}
    assert [p[2] for p in parts(shop, number)] == ["shipped", "submitted", "submitted"]
    assert shop.service.tick().submitted == []  # nothing goes twice
