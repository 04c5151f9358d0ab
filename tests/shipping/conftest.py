"""Fixtures: the fake EasyPost (shipments, labels, trackers) and a label desk wired to
it through the official client, over an order of the manual provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.labels.desk import LabelDesk
from podops.models import Label, OutboxMessage
from podops.ports.storage import FileStorage
from podops.routing import ShopPolicy
from podops.runtime.fulfillment_wiring import build_storage
from podops.settings import Settings
from providers.easypost_labels import EasyPostLabels
from providers.label_sheets import LabelSheets
from tests import factories
from tests.fakes.easypost import TEST_KEY
from tests.fakes.easypost_labels import FakeEasyPostLabels

WEBHOOK_SECRET = "easypost-webhook-secret-0123456789"
ORIGIN = {
    "name": "Example Prints",
    "street1": "1 Print Way",
    "city": "Springfield",
    "state": "IL",
    "zip": "62701",
    "country": "US",
    "phone": "+1 217 555 0100",
}
PARCELS = {
    "tee-front": {"weight_oz": 6, "length_in": 10, "width_in": 8, "height_in": 1},
    "mug-11oz": {"weight_oz": 16, "length_in": 6, "width_in": 6, "height_in": 6},
}


def label_settings(
    data_dir: Path, db_url: str, api_base: str, *, more: dict[str, Any] | None = None, **store: Any
) -> Settings:
    """The shop's settings; `more`: other sections (storage, render links, slack)."""
    config: dict[str, Any] = {
        "data_dir": data_dir,
        "database": {"url": db_url},
        "stores": {"main": {"platform": "sandbox", "default_provider": "manual", "labels": store}},
        "providers": {"manual": {"kind": "manual"}, "cc": {"kind": "sandbox"}},
        "shipping_origin": ORIGIN,
        "labels": {"parcels": PARCELS},
        "easypost": {"base_url": api_base, "api_key": TEST_KEY, "timeout_s": 1},
        "render": {"output_dir": "print-files"},
    }
    for section, values in (more or {}).items():
        config[section] = {**config.get(section, {}), **values}
    return Settings(**config)


@pytest.fixture
def easypost() -> Iterator[FakeEasyPostLabels]:
    fake = FakeEasyPostLabels().start()
    fake.hold_s = 1.6
    yield fake
    fake.stop()


def make_desk(settings: Settings, db: Database, storage: FileStorage | None = None) -> LabelDesk:
    folder = settings.resolve(settings.render.output_dir)
    storage = storage or build_storage(settings)
    service = EasyPostLabels(settings.easypost)
    return LabelDesk(db, service, settings, storage, LabelSheets(), folder=folder)


@pytest.fixture
def settings(tmp_path: Path, db_url: str, easypost: FakeEasyPostLabels) -> Settings:
    return label_settings(tmp_path, db_url, easypost.api_base)


@pytest.fixture
def desk(settings: Settings, db: Database) -> LabelDesk:
    return make_desk(settings, db)


def submitted(db: Database, policy: ShopPolicy, **fields: Any) -> str:
    """Given an order of the manual provider, submitted (its packing slip made)."""
    return factories.submitted_order(db, policy, **fields)


def order_state(db: Database, number: str) -> dict[str, Any]:
    """What staff and the store would notice on the order."""
    with db.reading() as session:
        order = services.get_order(session, number)
        return {
            "status": order.status.value,
            "parcels": [(s.carrier, s.tracking_number) for s in order.shipments],
            "shipped": {i.position: i.quantity_shipped for i in order.items},
            "store_messages": sorted(
                m.topic
                for m in session.query(OutboxMessage).filter_by(order_id=order.id)
                if m.topic.startswith("store.")
            ),
            "labels": sorted(
                (label.state, label.tracking_number or "")
                for label in session.query(Label).filter_by(order_id=order.id)
            ),
        }
