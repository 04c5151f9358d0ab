"""Property: whatever staff and the system do, every change leaves one event and
no order ever reaches a status the table forbids."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podops import queries, services
from podops.db import Database
from podops.errors import DomainRefusal, IllegalTransition
from podops.models import Fulfillment, Order
from podops.routing import ShopPolicy
from podops.status import TERMINAL, TRANSITIONS, OrderStatus
from tests.factories import STAFF, SYSTEM, incoming

VERBS = [
    "hold",
    "release",
    "cancel",
    "submit",
    "submit_ok",
    "submit_fail",
    "ship_one",
    "ship_all",
    "complete",
    "produce",
    "edit",
    "retry",
]


def _do(session, number: str, verb: str) -> None:  # type: ignore[no-untyped-def]
    order = services.get_order(session, number)
    match verb:
        case "hold":
            services.hold(session, number, STAFF, "check")
        case "release":
            services.release(session, number, STAFF)
        case "cancel":
            services.cancel(session, number, STAFF, "customer asked")
        case "submit":
            services.begin_submit(
                session, order, services.plan_fulfillments(session, order), SYSTEM
            )
        case "submit_ok":
            services.mark_submitted(session, order, _part(order), SYSTEM, provider_order_id="P1")
        case "submit_fail":
            services.mark_submit_failed(
                session, order, _part(order), SYSTEM, reason="address rejected"
            )
        case "ship_one":
            services.record_tracking(
                session,
                number,
                "UPS",
                f"1Z{len(order.shipments):016d}",
                STAFF,
                lines=[services.shipping.ShipLine(1, 1)],
            )
        case "ship_all":
            services.record_tracking(
                session, number, "USPS", f"9400{len(order.shipments):018d}", STAFF
            )
        case "complete":
            services.complete(session, number, SYSTEM)
        case "produce":
            services.start_production(session, order, _part(order), SYSTEM, provider_status="x")
        case "edit":
            services.edit_personalization(session, number, 1, {"name": f"N{order.version}"}, STAFF)
        case "retry":
            services.retry_submission(session, order, STAFF)


def _part(order: Order) -> Fulfillment:
    """The order's one fulfillment (its lines go to one provider), or a refusal."""
    if not order.parts:
        raise IllegalTransition(f"{order.label} has not left yet")
    return order.parts[0]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(verbs=st.lists(st.sampled_from(VERBS), min_size=1, max_size=14))
def test_every_change_leaves_an_event(db: Database, policy: ShopPolicy, verbs: list[str]) -> None:
    order_in = incoming()
    with db.unit_of_work() as session:
        services.receive_order(session, order_in, policy, SYSTEM)
    changes = 1
    for verb in verbs:
        with db.unit_of_work() as session:
            before = services.get_order(session, order_in.number)
            status_before, version_before = OrderStatus(before.status), before.version
        try:
            with db.unit_of_work() as session:
                _do(session, order_in.number, verb)
        except DomainRefusal:
            with db.unit_of_work() as session:
                after = services.get_order(session, order_in.number)
                assert (after.status, after.version) == (status_before, version_before)
            continue
        changes += 1
        with db.unit_of_work() as session:
            after = services.get_order(session, order_in.number)
            moved = (status_before, OrderStatus(after.status))
            allowed = {(src, dst) for (_, src), dst in TRANSITIONS.items()}
            assert moved[0] == moved[1] or moved in allowed, f"{verb}: {moved} is not in the table"
            assert status_before not in TERMINAL, f"{verb} changed a {status_before} order"
    with db.unit_of_work() as session:
        order = services.get_order(session, order_in.number)
        assert len(queries.timeline(session, order)) == changes
