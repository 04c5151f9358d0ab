"""Remakes: lines of a shipped order made again under their own reference, the first
order never sent twice, the store told one more tracking number and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from podops import queries, reports, services
from podops.errors import InvalidInput
from podops.events import EventName
from podops.fulfillment.printfiles import PrintFiles
from podops.models import Event, OutboxMessage
from podops.outbox import Topic
from podops.routing import ShopPolicy, StorePolicy
from podops.services import RemakeLine
from podops.settings import RoutingRule
from podops.status import OrderStatus
from podops.wording import describe_event
from tests import factories
from tests.cli.conftest import workdir
from tests.fakes.customcat import Fault
from tests.fulfillment.conftest import Shop, build_service, give_print_files
from tests.fulfillment.test_print_files import ScriptedRenderer

ROUTED = ShopPolicy(
    {"main": StorePolicy(1, "cc")},
    [
        RoutingRule(sku="TEE-*", provider="cc", provider_sku="CC-TEE", product_key="tee-front"),
        RoutingRule(sku="MUG-*", provider="cc", provider_sku="CC-MUG", product_key="mug-11oz"),
    ],
)
"""Both lines at CustomCat, each with a template the renderer makes."""
__all__ = ["workdir"]

TRACKING = "1Z999AA10123456784"
AGAIN = "1Z999AA10123456791"


def shipped_order(shop: Shop) -> str:
    """Given an order (a tee x2, a mug x1) sent to CustomCat and shipped in full."""
    number = shop.order()
    shop.service.tick()
    shop.customcat.ship(f"main-{number}", TRACKING, vendor="UPS", items=3)
    shop.follow_up.poll_tracking()
    assert shop.get(number).status == OrderStatus.SHIPPED
    return number


def remake(shop: Shop, number: str, *lines: RemakeLine, reason: str = "misprint",
           pays: str = "provider") -> list[str]:  # fmt: skip
    with shop.db.unit_of_work() as session:
        made = services.remake(
            session, number, factories.STAFF, reason=reason, paid_by=pays, lines=lines
        )
        return [part.reference for part in made]


def store_messages(shop: Shop, number: str) -> list[str]:
    with shop.db.unit_of_work() as session:
        order = services.get_order(session, number)
        rows = session.scalars(
            select(OutboxMessage.dedup_key)
            .where(OutboxMessage.order_id == order.id, OutboxMessage.topic.like("store.%"))
            .order_by(OutboxMessage.id)
        )
        return list(rows)


def test_a_remake_sends_only_those_lines_under_a_new_reference(shop: Shop) -> None:
    number = shipped_order(shop)
    assert remake(shop, number, RemakeLine(1, 1)) == [f"main--{number}_P2"]
    report = shop.service.tick()  # no countdown: the next tick sends it
    assert report.submitted == [number]
    assert shop.customcat.created == {f"main-{number}": 1, f"main--{number}_P2": 1}
    sent = shop.customcat.orders[f"main--{number}_P2"]["body"]["items"]
    assert [(i["catalog_sku"], i["quantity"]) for i in sent] == [("TEE-BLK-M", 1)]
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED  # the order does not go back
    again = order.fulfillments[1]
    assert (again.kind, again.status, again.remake_of_id) == (
        "remake",
        "submitted",
        order.fulfillments[0].id,
    )
    assert (again.reason, again.paid_by) == ("misprint", "provider")
    assert services.remakes.remake_state(order) == "remake part 2 submitted"
    assert shop.service.tick().submitted == []  # nothing goes twice


def test_by_default_every_shipped_unit_is_remade(shop: Shop) -> None:
    number = shipped_order(shop)
    remake(shop, number, reason="Lost", pays="carrier")
    shop.service.tick()
    sent = shop.customcat.orders[f"main--{number}_P2"]["body"]["items"]
    assert sorted(i["quantity"] for i in sent) == [1, 2]


def test_the_remake_parcel_is_one_more_tracking_number_never_a_second_completion(
    shop: Shop,
) -> None:
    number = shipped_order(shop)
    before = store_messages(shop, number)
    assert before[-1].endswith(":completed")
    remake(shop, number, RemakeLine(2), reason="damaged in transit", pays="carrier")
    shop.service.tick()
    shop.customcat.ship(f"main--{number}_P2", AGAIN, vendor="UPS", items=1)
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.SHIPPED
    assert [i.quantity_shipped for i in order.items] == [2, 1]  # the order's own units
    assert order.fulfillments[1].status == "shipped"
    assert order.shipments[-1].tracking_number == AGAIN
    assert order.shipments[-1].fulfillment_id == order.fulfillments[1].id
    after = store_messages(shop, number)
    assert after[len(before) :] == [f"store.tracking:{order.shipments[-1].id}"]
    assert services.remakes.remake_state(order) == "remake part 2 shipped"


def test_an_answer_lost_after_the_provider_took_the_remake_is_found_by_reference(
    shop: Shop,
) -> None:
    number = shipped_order(shop)
    remake(shop, number, RemakeLine(1, 2))
    shop.customcat.inject(Fault(sleep_after_accept_s=1.0))
    shop.service.tick()
    if shop.get(number).fulfillments[1].status != "submitted":
        later = shop.service.clock() + timedelta(minutes=5)
        shop.service.clock = lambda: later
        shop.service.tick()
    assert shop.get(number).fulfillments[1].status == "submitted"
    assert shop.customcat.created[f"main--{number}_P2"] == 1
    assert shop.customcat.duplicates() == 0


def test_a_remake_left_submitting_by_a_crash_is_looked_up_not_sent_again(shop: Shop) -> None:
    number = shipped_order(shop)
    remake(shop, number, RemakeLine(1, 1))
    with shop.db.unit_of_work() as session:  # a worker claimed it, sent it, and died
        order = services.get_order(session, number)
        services.begin_submit(session, order, [order.fulfillments[1]], factories.SYSTEM)
    shop.customcat.orders[f"main--{number}_P2"] = {
        "id": 919,
        "status": "Pending",
        "body": {"items": []},
        "shipments": [],
    }
    shop.service.tick()  # too recent to take over
    assert shop.service.reconcile_stuck(older_than=timedelta(0)) == [f"main--{number}_P2"]
    part = shop.get(number).fulfillments[1]
    assert (part.status, part.provider_order_id) == ("submitted", "919")
    assert f"main--{number}_P2" not in shop.customcat.created
    assert shop.customcat.created[f"main-{number}"] == 1


def test_a_remake_sends_the_current_print_file_made_again_when_stale(
    shop: Shop, tmp_path: Path
) -> None:
    renderer = ScriptedRenderer(tmp_path)
    shop.service = build_service(
        shop.settings, shop.db, shop.service.roster, print_file_source=PrintFiles(shop.db, renderer)
    )
    placed = datetime.now(UTC) - timedelta(hours=2)
    number = factories.received_order(
        shop.db, ROUTED, placed_at=placed, customer_phone="+1 217 555 0100"
    )
    give_print_files(shop.db, number)
    shop.service.tick()
    shop.customcat.ship(f"main-{number}", TRACKING, vendor="UPS", items=3)
    shop.follow_up.poll_tracking()
    with shop.db.unit_of_work() as session:  # the tee's template changed since
        services.get_order(session, number).items[0].print_file_current = False
    remake(shop, number, RemakeLine(1, 1))
    shop.service.tick()
    assert [(ref, position) for ref, position, _ in renderer.calls] == [(f"main-{number}", 1)]
    sent = shop.customcat.orders[f"main--{number}_P2"]["body"]["items"]
    assert [i["design_url"].split("?")[0].rsplit("/", 1)[-1] for i in sent] == ["r1.png"]
    assert shop.get(number).items[0].print_file_current


@pytest.mark.parametrize(
    ("lines", "reason", "pays", "refusal"),
    [
        ((RemakeLine(3),), "misprint", "shop", "has no line 3 (its lines: 1, 2)"),
        ((RemakeLine(1, 3),), "misprint", "shop", "3 to remake, but 2 of it shipped"),
        ((RemakeLine(1, 0),), "misprint", "shop", "needs a quantity of 1 or more"),
        ((), "ugly", "shop", "use one of: misprint, damaged in transit, lost, customer error"),
        ((), "lost", "customer", "use one of: provider, carrier, shop"),
    ],
)
def test_bad_remakes_are_refused_with_the_reason_and_change_nothing(
    shop: Shop, lines: tuple[RemakeLine, ...], reason: str, pays: str, refusal: str
) -> None:
    number = shipped_order(shop)
    with pytest.raises(InvalidInput, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        remake(shop, number, *lines, reason=reason, pays=pays)
    assert len(shop.get(number).fulfillments) == 1
    with shop.db.unit_of_work() as session:
        assert session.scalar(select(Event).where(Event.action == EventName.REMAKE)) is None


def test_an_order_never_shipped_cannot_be_remade(shop: Shop) -> None:
    pending = shop.order(due=False)
    with pytest.raises(InvalidInput, match="it is pending and nothing of it has shipped yet"):
        remake(shop, pending)
    sent = shop.order()
    shop.service.tick()
    with pytest.raises(InvalidInput, match="it is submitted and nothing of it has shipped"):
        remake(shop, sent)
    assert [len(shop.get(n).fulfillments) for n in (pending, sent)] == [0, 1]


def test_a_line_already_being_remade_is_not_remade_twice(shop: Shop) -> None:
    number = shipped_order(shop)
    remake(shop, number, RemakeLine(1, 1))
    with pytest.raises(InvalidInput, match="already being remade \\(part 2, waiting\\)"):
        remake(shop, number, RemakeLine(1, 1))
    assert remake(shop, number, RemakeLine(2)) == [f"main--{number}_P3"]


def test_a_failed_remake_is_retried_at_the_next_tick(shop: Shop) -> None:
    number = shipped_order(shop)
    remake(shop, number, RemakeLine(1, 1))
    shop.customcat.unknown_skus.add("TEE-BLK-M")
    shop.service.tick()
    assert shop.get(number).fulfillments[1].status == "submit_failed"
    shop.customcat.unknown_skus.clear()
    shop.service.retry(number, factories.STAFF)
    shop.service.tick()
    assert shop.get(number).fulfillments[1].status == "submitted"
    assert shop.get(number).status == OrderStatus.SHIPPED


def test_remakes_are_counted_by_reason_and_payer(shop: Shop) -> None:
    first, second = shipped_order(shop), shipped_order(shop)
    remake(shop, first, RemakeLine(1, 1))
    remake(shop, first, RemakeLine(2), reason="lost", pays="carrier")
    remake(shop, second, reason="misprint", pays="provider")
    with shop.db.unit_of_work() as session:
        counts = queries.remake_counts(session)
        event = session.scalars(select(Event).where(Event.action == EventName.REMAKE)).first()
    assert counts == [("misprint", "provider", 2), ("lost", "carrier", 1)]
    assert event is not None and event.actor == factories.STAFF.name
    assert event.detail["lines"] == {f"{first}-01": 1}
    assert event.detail["paid_by"] == "provider"


def test_the_notice_reaches_slack_through_the_outbox(shop: Shop) -> None:
    number = shipped_order(shop)
    remake(shop, number, RemakeLine(1, 1))
    with shop.db.unit_of_work() as session:
        event = session.scalars(select(Event).where(Event.action == EventName.REMAKE)).one()
        notices = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == Topic.NOTIFY)
        )
        assert event.id in {payload.get("event_id") for payload in notices}
        told = describe_event(event, number)
    assert told == (
        f"maria asked for a remake of order {number} (misprint, paid by provider): "
        f"{number}-01 x1 as main--{number}_P2 to cc"
    )


def test_the_cli_remakes_and_refuses_with_the_reason(
    shop: Shop, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from podops.cli.main import main

    number = shipped_order(shop)
    never = shop.order(due=False)
    args = ["remake", never, "--reason", "misprint", "--pays", "provider"]
    assert main(args) == 1
    assert "it is pending and nothing of it has shipped yet" in capsys.readouterr().err
    args = ["remake", number, "--line", "1", "--qty", "3", "--reason", "lost", "--pays", "carrier"]
    assert main(args) == 1
    assert "3 to remake, but 2 of it shipped" in capsys.readouterr().err
    args = ["remake", number, "--line", "1", "--qty", "1", "--qty", "1", "--reason", "lost",
            "--pays", "carrier"]  # fmt: skip
    assert main(args) == 2
    assert "give one --qty per --line" in capsys.readouterr().err
    assert len(shop.get(number).fulfillments) == 1
    args = ["remake", number, "--line", "2", "--reason", "Misprint", "--pays", "shop"]
    assert main(args) == 0
    shown = capsys.readouterr().out
    assert f"main--{number}_P2 to cc: {number}-02 x1" in shown
    assert main(["orders", "show", number]) == 0
    shown = capsys.readouterr().out
    assert f"main--{number}_P2" in shown and "remake of part 1" in shown
    assert "misprint, shop pays" in shown


def test_the_daily_summary_has_one_line_of_remakes_when_any(shop: Shop) -> None:
    from podops.outbox.messages import summary_from_payload, summary_to_payload
    from sync.console_notifier import summary_text

    number = shipped_order(shop)
    today = datetime.now(UTC).date()
    with shop.db.unit_of_work() as session:
        before = reports.daily_summary(session, today, UTC, late_after_days=5)
    assert "remakes" not in summary_text(before)
    remake(shop, number, RemakeLine(1, 1))
    remake(shop, number, RemakeLine(2), reason="lost", pays="carrier")
    with shop.db.unit_of_work() as session:
        summary = reports.daily_summary(session, today, UTC, late_after_days=5)
    told = summary_text(summary_from_payload(summary_to_payload(summary)))
    assert "  remakes: 1 lost (carrier pays), 1 misprint (provider pays)" in told.splitlines()


def test_a_lost_parcel_is_sent_again_to_the_address_the_customer_corrected(
    shop: Shop,
) -> None:
    """Reships: a shipped order's address cannot change (its parcel left), until a remake
    waits to go; the remake then takes the corrected address and CustomCat gets it."""
    from podops.errors import OrderLocked
    from podops.fulfillment.address_change import AddressDesk

    number = shipped_order(shop)
    desk = AddressDesk(shop.db, shop.service.roster)
    with pytest.raises(OrderLocked, match="remake it first"):
        desk.change(number, {"line2": "Apt 4"}, factories.STAFF)

    remake(shop, number, reason="lost", pays="shop")
    outcome = desk.change(number, {"line2": "Apt 4"}, factories.STAFF)

    assert outcome.changed == {"line2": ("", "Apt 4")}
    shop.service.tick()
    sent = shop.customcat.orders[f"main--{number}_P2"]["body"]
    assert sent["shipping_address2"] == "Apt 4"
    first = shop.customcat.orders[f"main-{number}"]["body"]
    assert first["shipping_address2"] == ""  # the first parcel's order is left alone
    with pytest.raises(OrderLocked):  # the remake is at CustomCat now: CustomCat's to change
        desk.change(number, {"line2": "Apt 5"}, factories.STAFF)
    assert shop.get(number).shipping_address["address_2"] == "Apt 4"
