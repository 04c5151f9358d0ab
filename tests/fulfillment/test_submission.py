"""The countdown and exactly-once submission against the fake CustomCat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from podops import services
from podops.errors import IllegalTransition, InvalidInput
from podops.status import OrderStatus
from tests.factories import STAFF
from tests.fakes.customcat import Fault
from tests.fulfillment.conftest import Shop, build_service, give_print_files


def test_a_due_order_leaves_once_with_our_reference_and_signed_print_links(shop: Shop) -> None:
    number = shop.order()
    report = shop.service.tick()
    assert report.submitted == [number]
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMITTED
    sent = shop.customcat.orders[f"main-{number}"]
    assert order.provider_order_id == str(sent["id"])
    assert sent["body"]["shipping_zip"] == "62701"
    design = sent["body"]["items"][0]["design_url"]
    assert design.startswith("https://podops.example/files/") and "sig=" in design
    assert shop.service.tick().submitted == []
    assert shop.customcat.created[f"main-{number}"] == 1


def test_countdown_holds_and_design_gate_keep_orders_home(shop: Shop) -> None:
    waiting = shop.order(due=False)
    held = shop.order()
    design = shop.order()
    with shop.db.unit_of_work() as session:
        services.hold(session, held, STAFF, "customer asked")
        services.flag_design(session, design, STAFF, "no photo yet")
    assert shop.service.tick().submitted == []
    assert shop.customcat.orders == {}
    with pytest.raises(IllegalTransition, match="release it first"):
        shop.service.submit_now(held, STAFF)
    order = shop.service.submit_now(waiting, STAFF)
    assert order.status == OrderStatus.SUBMITTED
    assert list(shop.customcat.orders) == [f"main-{waiting}"]


def test_missing_print_file_is_a_visible_problem_not_a_loop(shop: Shop) -> None:
    number = shop.order(print_files=False)
    report = shop.service.tick()
    assert report.submitted == []
    assert report.blocked == [
        (number, f"line {number}-01 has no print file; line {number}-02 has no print file")
    ]
    order = shop.get(number)
    assert order.status == OrderStatus.PENDING
    assert f"line {number}-01 has no print file" in order.problems
    with pytest.raises(InvalidInput, match="has no print file"):
        shop.service.submit_now(number, STAFF)
    assert shop.service.tick().blocked == []  # said once, not every tick
    give_print_files(shop.db, number)
    assert shop.service.tick().submitted == [number]
    assert shop.get(number).problems == []


def test_print_file_source_renders_before_submission(shop: Shop) -> None:
    rendered: list[str] = []

    class Renderer:
        def ensure_current(self, order_ref: object) -> None:
            rendered.append(str(order_ref))
            give_print_files(shop.db, str(order_ref).split(":")[1])

    service = build_service(shop.settings, shop.db, print_file_source=Renderer())
    number = shop.order(print_files=False)
    assert service.tick().submitted == [number]
    assert rendered == [f"main:{number}"]


def test_a_timeout_after_the_provider_accepted_is_looked_up_not_resent(shop: Shop) -> None:
    number = shop.order()
    shop.customcat.inject(Fault(sleep_after_accept_s=1.5))
    assert shop.service.tick().submitted == [number]
    assert shop.customcat.created[f"main-{number}"] == 1
    lookups = [p for m, p in shop.customcat.requests if m == "GET"]
    assert lookups == [f"/api/v1/order/status/main-{number}"]


def test_server_errors_and_rate_limits_are_retried_with_bounds(shop: Shop) -> None:
    first, second = shop.order(), shop.order()
    shop.customcat.inject(Fault(status=500))
    shop.customcat.inject(Fault(status=429, retry_after="0"))
    report = shop.service.tick()
    assert sorted(report.submitted) == sorted([first, second])
    assert shop.customcat.duplicates() == 0


def test_a_provider_that_keeps_failing_ends_in_submit_failed_with_the_reason(shop: Shop) -> None:
    number = shop.order()
    shop.customcat.inject(Fault(status=503), times=3)
    report = shop.service.tick()
    assert report.failed and report.failed[0][0] == number
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert order.last_error.startswith("gave up after 3 attempts: CustomCat (cc) had a server")
    assert shop.service.tick().failed == []  # no silent retry loop
    shop.service.retry(number, STAFF)
    assert shop.service.tick().submitted == [number]


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (lambda fake: fake.inject(Fault(weird=True)), "answered with a list"),
        (lambda fake: fake.unknown_skus.add("TEE-BLK-M"), "Invalid catalog_sku TEE-BLK-M"),
        (lambda fake: fake.rejected_zips.add("62701"), "address could not be verified"),
    ],
    ids=["unexpected-shape", "unknown-sku", "address-rejected"],
)
def test_permanent_refusals_are_submit_failed_in_words(shop: Shop, setup, reason: str) -> None:  # type: ignore[no-untyped-def]
    number = shop.order()
    setup(shop.customcat)
    shop.service.tick()
    order = shop.get(number)
    assert order.status == OrderStatus.SUBMIT_FAILED
    assert reason in order.last_error
    assert shop.customcat.requests.count(("POST", f"/api/v1/order/main-{number}")) == 1


def test_a_duplicate_reference_means_it_exists_and_is_recorded(shop: Shop) -> None:
    number = shop.order()
    shop.customcat.orders[f"main-{number}"] = {
        "id": 4242,
        "status": "Pending",
        "body": {"items": []},
        "shipments": [],
    }
    assert shop.service.tick().submitted == [number]
    assert shop.get(number).provider_order_id == "4242"


def test_orders_left_submitting_are_reconciled_by_reference(shop: Shop) -> None:
    there, lost = shop.order(), shop.order()
    with shop.db.unit_of_work() as session:
        for number in (there, lost):
            order = services.get_order(session, number)
            services.begin_submit(session, order, services.plan_fulfillments(session, order), STAFF)
    shop.customcat.orders[f"main-{there}"] = {
        "id": 777,
        "status": "Pending",
        "body": {"items": []},
        "shipments": [],
    }
    assert shop.service.tick().reconciled == []  # too recent: may still be in flight
    reconciled = shop.service.reconcile_stuck(older_than=__import__("datetime").timedelta(0))
    assert sorted(reconciled) == sorted([f"main-{there}", f"main-{lost}"])
    assert shop.get(there).provider_order_id == "777"
    assert shop.get(lost).status == OrderStatus.SUBMITTED
    assert shop.customcat.created == {f"main-{lost}": 1}


def test_an_unconfigured_provider_fails_visibly(shop: Shop) -> None:
    number = shop.order(provider="printify")
    report = shop.service.tick()
    assert report.failed == [
        (number, "no provider named 'printify' is configured; fix the config, then retry")
    ]


def test_an_unreachable_provider_is_retried_on_its_own_once_it_answers(shop: Shop) -> None:
    number = shop.order()
    shop.customcat.inject(Fault(status=503), times=3)
    assert shop.service.tick().failed[0][0] == number
    assert shop.service.tick().retried == []  # a pause first: no busy loop
    later = datetime.now(UTC) + timedelta(minutes=3)
    shop.service.clock = lambda: later
    report = shop.service.tick()
    assert report.retried == [number] and report.submitted == [number]
    assert shop.customcat.created[f"main-{number}"] == 1
    # The second attempt asked first whether the order already existed.
    assert ("GET", f"/api/v1/order/status/main-{number}") in shop.customcat.requests


def test_a_refusal_is_never_retried_on_its_own(shop: Shop) -> None:
    number = shop.order()
    shop.customcat.unknown_skus.add("TEE-BLK-M")
    shop.service.tick()
    later = datetime.now(UTC) + timedelta(hours=5)
    shop.service.clock = lambda: later
    assert shop.service.tick().retried == []
    assert shop.get(number).status == OrderStatus.SUBMIT_FAILED


def test_cancelling_a_failed_order_that_the_provider_created_cancels_it_there(
    shop: Shop,
) -> None:
    """CustomCat created the order but answered in an odd shape (submit_failed). Staff
    cancel it from Slack: the next poll finds it at CustomCat and cancels it there,
    instead of leaving an order in production that the shop thinks is cancelled."""
    number = shop.order()
    shop.customcat.inject(Fault(weird=True))
    shop.service.tick()
    assert shop.get(number).status == OrderStatus.SUBMIT_FAILED
    ref = f"main-{number}"
    assert ref in shop.customcat.orders
    with shop.db.unit_of_work() as session:
        services.cancel(session, number, STAFF, "customer changed their mind")
    assert shop.get(number).status == OrderStatus.CANCEL_REQUESTED
    shop.follow_up.poll_tracking()
    order = shop.get(number)
    assert order.status == OrderStatus.CANCELLED
    assert order.provider_order_id == str(shop.customcat.orders[ref]["id"])
    assert shop.customcat.orders[ref]["status"].lower() in ("cancelled", "canceled")


def test_cancelling_a_failed_order_the_provider_never_took_needs_no_provider_order(
    shop: Shop,
) -> None:
    number = shop.order()
    shop.customcat.rejected_zips.add("62701")
    shop.service.tick()
    order = shop.cancel(number, "address is wrong")
    assert order.status == OrderStatus.CANCELLED
    assert order.provider_order_id is None
    assert f"main-{number}" not in shop.customcat.orders
