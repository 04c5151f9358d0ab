"""Upgrading to fulfillments keeps every order where it stands: an order at its provider
becomes fulfillment 1 under the very reference the provider knows, so it is still
found, polled and reconciled (no second order at the provider); nothing under an order
(events, lines, parcels) is lost; orders held only to be split are split."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text

from podops import services
from podops.db import Database, alembic_config
from podops.fulfillment.followup import ProviderFollowUp
from podops.models import Event, ShipmentLine
from podops.status import OrderStatus
from tests.conftest import PG_URL, _with_schema
from tests.fakes.customcat import FakeCustomCat
from tests.fulfillment.conftest import build_service, fulfillment_settings

OLD = datetime(2026, 1, 1, tzinfo=UTC)
SPLIT = "items go to different providers (cc, so): split the order"
ORDERS = [
    # number, status, provider, provider_order_id, attempts, claim_token, problems
    ("1234", "partially_shipped", "cc", "700001", 1, None, "[]"),
    ("1235", "submitting", "cc", None, 1, "deadbeef", "[]"),
    ("1236", "on_hold", "cc", None, 0, None, f'["{SPLIT}"]'),
    ("1237", "pending", "so", None, 0, None, "[]"),
]


@pytest.fixture
def old_db(tmp_path: Path) -> Iterator[Database]:
    """A database at 0004 (before fulfillments), on SQLite or a throwaway PG schema."""
    if not PG_URL:
        db = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield db
        db.dispose()
        return
    schema = f"podops_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(_with_schema(PG_URL, schema))
    yield db
    db.dispose()
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _seed_before_fulfillments(db: Database) -> None:
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0004_holds")
        connection.execute(
            text("INSERT INTO stores (id, key, platform, created_at) VALUES (1, 'main', 'x', :t)"),
            {"t": _at(OLD)},
        )
        for number, status, provider, remote, attempts, token, problems in ORDERS:
            claimed = _at(datetime.now(UTC) - timedelta(hours=1)) if token else None
            connection.execute(
                text(
                    "INSERT INTO orders (store_id, number, external_id, status, placed_at,"
                    " customer_name, customer_email, customer_phone, shipping_address,"
                    " currency, total, shipping_total, problems, note, provider,"
                    " provider_order_id, provider_status, submit_attempts, claim_token,"
                    " claimed_at, created_at, updated_at, version) VALUES (1, :n, :n, :s, :t,"
                    " 'Ana', 'ana@example.com', '+1 217 555 0100', :a, 'USD', 0, 0, :p, '',"
                    " :pr, :r, :rs, :at, :tok, :c, :t, :t, 1)"
                ),
                {"n": number, "s": status, "t": _at(OLD), "p": problems, "pr": provider}
                | {"r": remote, "rs": "Pending" if remote else None, "at": attempts}
                | {"tok": token, "c": claimed, "a": '{"address_1": "12 Main St", '
                   '"postcode": "62701", "country": "US", "city": "Springfield"}'},
            )  # fmt: skip
            for position in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO line_items (order_id, position, external_id, sku, name,"
                        " product_key, provider_sku, quantity, quantity_shipped, unit_price,"
                        " personalization, image_urls, problems, print_file,"
                        " print_file_revision, print_file_current, preview_file)"
                        " SELECT id, :pos, :e, 'TEE-BLK-M', 'Tee', 'tee', 'CC-TEE', 2, :shipped,"
                        " 19, '{}', '{}', '[]', 'https://cdn.example/p.png', 1, :cur, NULL"
                        " FROM orders WHERE number = :n"
                    ),
                    {"n": number, "pos": position, "e": f"{number}-{position}", "cur": True}
                    | {"shipped": 2 if number == "1234" and position == 1 else 0},
                )
            connection.execute(
                text(
                    "INSERT INTO events (order_id, at, actor, channel, action, detail)"
                    " SELECT id, :t, 'test', 'system', 'receive', '{}' FROM orders"
                    " WHERE number = :n"
                ),
                {"n": number, "t": _at(OLD)},
            )
        connection.execute(
            text(
                "INSERT INTO shipments (order_id, carrier, tracking_number, tracking_url,"
                " shipped_at, channel) SELECT id, 'UPS', '1Z999AA10123456784', '', :t,"
                " 'system' FROM orders WHERE number = '1234'"
            ),
            {"t": _at(OLD)},
        )
        connection.execute(
            text(
                "INSERT INTO shipment_lines (shipment_id, line_item_id, quantity)"
                " SELECT s.id, li.id, 2 FROM line_items li JOIN orders o ON o.id = li.order_id"
                " JOIN shipments s ON s.order_id = o.id"
                " WHERE o.number = '1234' AND li.position = 1"
            )
        )


def test_orders_at_a_provider_keep_their_state_and_reference(old_db: Database) -> None:
    _seed_before_fulfillments(old_db)
    old_db.upgrade()
    with old_db.unit_of_work() as session:
        actions = list(session.scalars(select(Event.action).order_by(Event.id)))
        assert actions == ["receive"] * len(ORDERS) + ["routed_again"]  # none lost
        assert session.scalar(select(func.count()).select_from(ShipmentLine)) == 1
        sent = services.fulfillment_by_reference(session, "main-1234")
        assert (sent.seq, sent.provider, sent.status.value) == (1, "cc", "partially_shipped")
        assert (sent.provider_order_id, sent.provider_status, sent.submit_attempts) == (
            "700001",
            "Pending",
            1,
        )
        assert {line.line_item.position: line.quantity for line in sent.lines} == {1: 2, 2: 2}
        order = sent.order
        assert order.status == OrderStatus.PARTIALLY_SHIPPED
        assert order.provider_order_id == "700001"
        assert order.shipments[0].fulfillment_id == sent.id
        claimed = services.fulfillment_by_reference(session, "main-1235")
        assert (claimed.status.value, claimed.claim_token) == ("submitting", "deadbeef")
        pending = services.get_order(session, "1237")
        assert pending.fulfillments == []
        assert [i.provider for i in pending.items] == ["so", "so"]
        split = services.get_order(session, "1236")
        assert split.status == OrderStatus.ON_HOLD and split.problems == []
        assert [i.provider for i in split.items] == [None, None]  # routed again on release


def test_an_order_in_flight_across_the_upgrade_is_found_not_sent_twice(
    old_db: Database, tmp_path: Path, customcat: FakeCustomCat
) -> None:
    _seed_before_fulfillments(old_db)
    old_db.upgrade()
    customcat.orders["main-1235"] = {  # the call before the upgrade reached CustomCat
        "id": 700555,
        "status": "Pending",
        "body": {"items": []},
        "shipments": [],
    }
    customcat.orders["main-1234"] = {
        "id": 700001,
        "status": "Shipped",
        "body": {"items": [{"catalog_sku": "CC-TEE"}]},
        "shipments": [
            {"TRACKING_ID": "1Z999AA10123456784", "VENDOR": "UPS", "NUMBER_ITEMS": 2},
            {"TRACKING_ID": "1Z999AA10123456792", "VENDOR": "UPS", "NUMBER_ITEMS": 2},
        ],
    }
    settings = fulfillment_settings(old_db.url, tmp_path, customcat.base_url)
    service = build_service(settings, old_db)
    assert service.reconcile_stuck() == ["main-1235"]
    assert customcat.created == {}  # found by its reference, not created again
    ProviderFollowUp(old_db, service.roster).poll_tracking()
    with old_db.unit_of_work() as session:
        assert services.get_order(session, "1235").status == OrderStatus.SUBMITTED
        assert services.get_order(session, "1235").provider_order_id == "700555"
        shipped = services.get_order(session, "1234")
        assert shipped.status == OrderStatus.SHIPPED
        assert [s.tracking_number for s in shipped.shipments] == [
            "1Z999AA10123456784",
            "1Z999AA10123456792",
        ]
