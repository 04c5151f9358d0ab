"""Fixtures: fake CustomCat and ShineOn servers, and the submission service and the
follow-up wired to them (sharing one provider roster, as in the runtime)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from podops import services
from podops.db import Database
from podops.fulfillment.attempt import RetryPlan
from podops.fulfillment.countdown import Submitter
from podops.fulfillment.followup import ProviderFollowUp
from podops.fulfillment.limits import LimitedProvider
from podops.fulfillment.roster import ProviderRoster
from podops.ports.fulfillment import FulfillmentProvider
from podops.routing import ShopPolicy, StorePolicy
from podops.runtime.fulfillment_wiring import build_provider, callback_signer, print_links
from podops.settings import Settings
from tests import factories
from tests.fakes.customcat import API_KEY, FakeCustomCat
from tests.fakes.shineon import TOKEN, FakeShineOn

LINK_SECRET = "fulfillment-test-link-secret-0123456789"


def fulfillment_settings(
    db_url: str, data_dir: Path, cc_url: str = "", so_url: str = "", timeout_s: float = 2.0
) -> Settings:
    return Settings(
        data_dir=data_dir,
        database={"url": db_url},
        stores={"main": {"platform": "sandbox", "default_provider": "cc", "countdown_hours": 1}},
        providers={
            "cc": {
                "kind": "customcat",
                "base_url": cc_url,
                "api_key": API_KEY,
                "rate_limit_per_s": 100,
                "timeout_s": timeout_s,
            },
            "so": {
                "kind": "shineon",
                "base_url": so_url,
                "api_key": TOKEN,
                "rate_limit_per_s": 100,
                "timeout_s": timeout_s,
            },
            "manual": {"kind": "manual"},
            "sandbox": {"kind": "sandbox", "sandbox_stage_s": 10},
        },
        render={"public_base_url": "https://podops.example", "link_secret": LINK_SECRET},
    )  # type: ignore[arg-type]


def build_roster(settings: Settings) -> ProviderRoster:
    links = print_links(settings)
    providers: dict[str, FulfillmentProvider] = {}
    for name, config in settings.providers.items():
        adapter, _client = build_provider(name, config, settings, links)
        providers[name] = LimitedProvider(adapter, per_second=100, concurrency=8)
    return ProviderRoster(providers, links, callback_signer(settings))


def build_service(
    settings: Settings, db: Database, roster: ProviderRoster | None = None, **options: Any
) -> Submitter:
    options.setdefault("retry", RetryPlan(attempts=3, base_wait_s=0.01))
    return Submitter(db, roster or build_roster(settings), **options)


@dataclass
class Shop:
    db: Database
    settings: Settings
    service: Submitter
    follow_up: ProviderFollowUp
    customcat: FakeCustomCat
    shineon: FakeShineOn

    def policy(self, provider: str = "cc", countdown_hours: float = 1) -> ShopPolicy:
        return ShopPolicy({"main": StorePolicy(countdown_hours, provider)}, [])

    def order(
        self,
        provider: str = "cc",
        *,
        due: bool = True,
        print_files: bool = True,
        **fields: Any,
    ) -> str:
        """Given a pending order for `provider`, due (countdown over) or not yet."""
        placed = datetime.now(UTC) - timedelta(hours=2 if due else 0)
        fields.setdefault("customer_phone", "+1 217 555 0100")
        number = factories.received_order(
            self.db, self.policy(provider), placed_at=placed, **fields
        )
        if print_files:
            give_print_files(self.db, number)
        return number

    def cancel(self, number: str, reason: str) -> Any:
        """Staff cancel as Slack and the CLI do (`services.cancel`); the tracking job's
        next poll asks the provider and records its answer."""
        with self.db.unit_of_work() as session:
            services.cancel(session, number, factories.STAFF, reason)
        self.follow_up.poll_tracking()
        return self.get(number)

    def get(self, number: str) -> Any:
        with self.db.unit_of_work() as session:
            order = services.get_order(session, number)
            _ = [order.shipments, order.items]
            return order


def give_print_files(db: Database, number: str) -> None:
    """Setup for tests only: the renderer's result, written straight to the line items."""
    with db.unit_of_work() as session:
        order = services.get_order(session, number)
        for item in order.items:
            item.print_file = f"/srv/print-files/{number}-{item.position:02d}-r001.png"
            item.print_file_revision = 1
            item.print_file_current = True


@pytest.fixture
def customcat() -> Iterator[FakeCustomCat]:
    fake = FakeCustomCat().start()
    yield fake
    fake.stop()


@pytest.fixture
def shineon() -> Iterator[FakeShineOn]:
    fake = FakeShineOn().start()
    yield fake
    fake.stop()


@pytest.fixture
def shop(
    db: Database, db_url: str, tmp_path: Path, customcat: FakeCustomCat, shineon: FakeShineOn
) -> Shop:
    settings = fulfillment_settings(
        db_url, tmp_path, customcat.base_url, shineon.url, timeout_s=0.5
    )
    service = build_service(settings, db)
    follow_up = ProviderFollowUp(db, service.roster)
    return Shop(db, settings, service, follow_up, customcat, shineon)
