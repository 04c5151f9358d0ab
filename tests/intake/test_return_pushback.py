"""A return reaches WooCommerce as a private order note, once: never a refund, never a
status (WooCommerce's REST API has no returns; a refund is money, not goods back)."""

from __future__ import annotations

from podops import queries, services
from podops.runtime.root import Runtime
from podops.services import ReturnWanted
from sync.pushback import drain
from tests.factories import STAFF
from tests.fakes.woocommerce import FakeWooCommerce
from tests.intake.test_pushback import _from_shop, _redeliver_everything, shipped


def test_a_return_becomes_one_private_note_and_nothing_else(
    shop: FakeWooCommerce, runtime: Runtime
) -> None:
    number = _from_shop(shop, runtime)
    shipped(runtime, number)
    drain(runtime)
    statuses_before = shop.state.count("PUT", f"/orders/{number}")
    with runtime.db.unit_of_work() as session:
        made = services.return_order(
            session, number, STAFF, "wrong size", lines=[ReturnWanted(1, 1)]
        )
        key = f"[podops return {made.id}]"
    drain(runtime)
    _redeliver_everything(runtime.db)  # at least once: the note is looked for first
    drain(runtime)
    private = [n for n in shop.state.notes[int(number)] if not n["customer_note"]]
    assert [n["note"] for n in private] == [f"Goods came back ({number}-01 x1): wrong size {key}"]
    assert shop.state.count("PUT", f"/orders/{number}") == statuses_before
    assert shop.state.count("POST", "/refunds") == 0
    with runtime.db.unit_of_work() as session:
        order = services.get_order(session, number)
        pushes = [e.detail for e in queries.timeline(session, order) if e.action == "store_push"]
    assert {"what": made_key(key), "result": "sent"} in pushes


def made_key(tag: str) -> str:
    return tag.removeprefix("[podops ").removesuffix("]")
