"""A backlog of due orders with some rush ones among them: the rush orders leave within
their own countdown, with the provider's rush method (what the bench's `rush_late`
figure counts, here on a small scale)."""

from __future__ import annotations

from datetime import timedelta

from podops import services
from podops.models import utcnow
from podops.routing import ShopPolicy
from podops.runtime.fulfillment_wiring import build_submission, provider_roster
from podops.settings import Settings
from tests import factories
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fulfillment.conftest import LINK_SECRET, build_roster, give_print_files
from tests.rush_orders import RUSH_PROVIDER_METHOD, rush_incoming, rush_late, rush_store


def test_rush_orders_in_a_backlog_leave_on_time_with_their_method(  # type: ignore[no-untyped-def]
    db, db_url, tmp_path, customcat: FakeCustomCat
):
    cc = {"kind": "customcat", "base_url": customcat.base_url, "api_key": API_KEY}
    settings = Settings.model_validate(
        {
            "data_dir": tmp_path,
            "database": {"url": db_url},
            "stores": {"main": rush_store("cc", countdown_hours=1, rush_hours=0)},
            "providers": {"cc": cc},
            "render": {"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
        }
    )
    placed = utcnow() - timedelta(hours=2)  # every order is due, standard ones included
    batch = [
        rush_incoming(placed_at=placed + timedelta(minutes=i))
        if i % 4 == 3
        else factories.incoming(placed_at=placed)
        for i in range(12)
    ]
    for order in batch:
        order.customer_phone = "+1 217 555 0100"
    with db.unit_of_work() as session:
        services.receive_orders(
            session, batch, ShopPolicy.from_settings(settings), factories.SYSTEM
        )
    for order in batch:
        give_print_files(db, order.number)
    roster = provider_roster(settings, dict(build_roster(settings).by_name))
    started = utcnow()
    assert rush_late(db, started=started, slack=timedelta(seconds=30)) == 3, "not sent yet"

    build_submission(db, settings, roster).tick()

    assert rush_late(db, started=started, slack=timedelta(seconds=30)) == 0
    rush = {f"main-{o.number}" for o in batch if o.shipping_method}
    sent = {ref: body["body"]["shipping_method"] for ref, body in customcat.orders.items()}
    assert len(sent) == 12
    assert {sent[ref] for ref in rush} == {RUSH_PROVIDER_METHOD}
    assert {m for ref, m in sent.items() if ref not in rush} == {"Economy"}
