"""The composition root: builds the object graph from settings.

The only place that knows which adapter serves which port. Adapters are
imported inside the builders, so importing the core never pulls in Slack,
HTTP or spreadsheet libraries.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from podops.db import Database
from podops.logs import remember_secrets
from podops.routing import ShopPolicy
from podops.settings import Settings, load_settings

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from podops.ports.notify import ChartRenderer, Notifier, ReportCharts
    from podops.ports.storage import FileStorage

if TYPE_CHECKING:
    from podops.ports.store import StoreClient

if TYPE_CHECKING:
    from podops.ports.sheet import Spreadsheet

if TYPE_CHECKING:
    from podops.fulfillment.field_checks import FieldChecks
    from podops.fulfillment.printfiles import PrintFiles
    from podops.ports.render import Renderer

if TYPE_CHECKING:
    import httpx

    from podops.fulfillment.address_change import AddressDesk
    from podops.fulfillment.countdown import Submitter
    from podops.fulfillment.followup import ProviderFollowUp
    from podops.fulfillment.roster import ProviderRoster
    from podops.labels.desk import LabelDesk
    from podops.ports.fulfillment import FulfillmentProvider
    from podops.products.imports import ProductChecks
    from podops.products.live import LiveTable
    from podops.shared_limits import Limits


class Runtime:
    """Settings plus everything built from them, created once per process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Known from the start: outside error texts that quote one are masked (errors.py).
        remember_secrets(settings.secret_values())

    @classmethod
    def from_config(cls, path: Path | None) -> Runtime:
        return cls(load_settings(path))

    @cached_property
    def db(self) -> Database:
        return Database(self.settings.database_url, echo=self.settings.database.echo)

    @cached_property
    def limits(self) -> Limits:
        """Rates, pauses and slots for providers, Slack and the sheet: shared by every
        process on PostgreSQL, this process's own on SQLite."""
        from podops.shared_limits import limits_for

        return limits_for(self.db.url, self.db.dialect)  # the database in use, whatever set it

    @cached_property
    def product_table(self) -> LiveTable:
        """The Products table every route reads first, as this process last saw it."""
        from podops.products.live import LiveTable

        return LiveTable(self.db)

    @property
    def product_checks(self) -> ProductChecks:
        """What a Products row is checked against: providers, templates, catalogs."""
        from podops.errors import RenderRefused
        from podops.products.catalog import catalog_of
        from podops.products.imports import ProductChecks

        checks = self.field_checks

        def template_problem(key: str) -> str | None:
            try:
                checks.template_fields(key)
            except RenderRefused as exc:
                return exc.message
            return None

        catalogs = {name: catalog_of(p) for name, p in self.providers.items()}
        return ProductChecks(tuple(self.settings.providers), template_problem, catalogs)

    @cached_property
    def policy(self) -> ShopPolicy:
        return ShopPolicy.from_settings(self.settings, variants=self.product_table)

    @cached_property
    def _store_clients(self) -> tuple[threading.Lock, dict[str, StoreClient]]:
        return threading.Lock(), {}

    def store_client(self, name: str, *, stored_platform: str | None = None) -> StoreClient:
        """The adapter for one store (WooCommerce, sandbox, csv), built once.

        `stored_platform` is the platform on the store's database row: a store of
        outside orders need not be in the config (`podops orders import` falls back
        to `outside`), and its orders still complete; any other unknown store is
        refused."""
        lock, clients = self._store_clients
        with lock:
            if name not in clients:
                clients[name] = self._build_store_client(name, stored_platform)
            return clients[name]

    def _build_store_client(self, name: str, stored_platform: str | None) -> StoreClient:
        from podops.errors import ConfigError

        config = self.settings.stores.get(name)
        if config is None and stored_platform == "csv":
            from providers.csv_orders import CsvStore

            return CsvStore(name)
        if config is None:
            known = ", ".join(sorted(self.settings.stores)) or "none configured"
            raise ConfigError(f"no store named {name!r} (stores: {known})")
        if config.platform == "woocommerce":
            from providers.woocommerce import WooCommerceStore, build_client

            bundle = self.settings.resolve(config.ca_bundle) if config.ca_bundle else None
            return WooCommerceStore(name, config, build_client(name, config, ca_bundle=bundle))
        if config.platform == "shopify":
            from providers.shopify import ShopifyStore
            from providers.shopify import build_client as shopify_client

            return ShopifyStore(name, config, shopify_client(name, config))
        if config.platform == "sandbox":
            from providers.sandbox_store import SandboxStore

            journal = self.settings.data_dir / f"sandbox-store-{name}.jsonl"
            return SandboxStore(name, config, journal=journal)
        from providers.csv_orders import CsvStore

        return CsvStore(name)

    @cached_property
    def slack_client(self) -> WebClient:
        from bot.app import build_web_client

        return build_web_client(self.settings)

    @cached_property
    def notifier(self) -> Notifier:
        """Slack when `slack.enabled`, else the console (the embedded default)."""
        if self.settings.slack.enabled:
            from bot.notifier import SlackNotifier
            from bot.pacing import ChannelPacer
            from bot.previews import preview_link

            link = preview_link(self.settings)
            if self.settings.storage.kind != "local":
                link = self.storage.url_for  # the web role's link, or presigned without one
            return SlackNotifier(
                self.slack_client,
                self.settings.slack.channel,
                pacer=ChannelPacer(limits=self.limits),
                preview_link=link,
            )
        from sync.console_notifier import ConsoleNotifier

        return ConsoleNotifier(image_dir=self.settings.data_dir / "notices")

    @property
    def chart(self) -> ChartRenderer:
        """The daily summary's chart (matplotlib, in render/), drawn in a child process
        so the service never holds matplotlib (podops.reporting.apart)."""
        from podops.reporting.apart import DrawnApart
        from render.charts import summary_chart

        return DrawnApart(summary_chart)

    @property
    def report_charts(self) -> ReportCharts:
        """The weekly report's charts (matplotlib, in render/); called in the child
        process that built the report."""
        from render.charts import report_charts

        return report_charts

    @cached_property
    def storage(self) -> FileStorage:
        """Where print files, previews and packing slips are kept (`[storage] kind`)."""
        from podops.runtime.fulfillment_wiring import build_storage

        return build_storage(self.settings)

    @cached_property
    def _provider_adapters(self) -> tuple[dict[str, FulfillmentProvider], list[httpx.Client]]:
        from podops.runtime.fulfillment_wiring import build_providers, print_links

        return build_providers(self.settings, print_links(self.settings, self.storage), self.limits)

    @cached_property
    def providers(self) -> dict[str, FulfillmentProvider]:
        """Fulfillment providers by name, each rate-limited, with its own httpx.Client."""
        return self._provider_adapters[0]

    @cached_property
    def roster(self) -> ProviderRoster:
        """The providers with their print-file links and callback URLs, shared below."""
        from podops.runtime.fulfillment_wiring import provider_roster

        return provider_roster(self.settings, self.providers, self.policy, self.storage)

    @cached_property
    def submission(self) -> Submitter:
        """Countdown and exactly-once submission: see docs/fulfillment.md."""
        from podops.runtime.fulfillment_wiring import build_submission

        return build_submission(
            self.db,
            self.settings,
            self.roster,
            print_file_source=self.print_files,
            policy=self.policy,
        )

    @cached_property
    def addresses(self) -> AddressDesk:
        """Shipping address changes for every channel, and the shop's after submission."""
        from podops.fulfillment.address_change import AddressDesk

        return AddressDesk(self.db, self.roster)

    @cached_property
    def follow_up(self) -> ProviderFollowUp:
        """After submission: tracking polls, provider callbacks, cancels, design changes."""
        from podops.fulfillment.followup import ProviderFollowUp

        return ProviderFollowUp(self.db, self.roster)

    @cached_property
    def labels(self) -> LabelDesk:
        """Shipping labels through EasyPost for what the shop makes (docs/shipping.md)."""
        from podops.labels.desk import LabelDesk
        from providers.easypost_labels import EasyPostLabels
        from providers.label_sheets import LabelSheets

        folder = self.settings.resolve(self.settings.render.output_dir)
        service = EasyPostLabels(self.settings.easypost)
        return LabelDesk(
            self.db, service, self.settings, self.storage, LabelSheets(), folder=folder
        )

    @cached_property
    def renderer(self) -> Renderer:
        """Pillow print files from the product templates (render/)."""
        from render.images import FetchPolicy
        from render.renderer import PrintFileRenderer

        config = self.settings.render
        return PrintFileRenderer(
            templates_folder=self.templates_dir,
            output_folder=self.settings.resolve(config.output_dir),
            fetch_policy=FetchPolicy(
                max_bytes=int(config.max_image_mb * 1024 * 1024),
                allow_private=config.allow_private_image_hosts,
                allow_loopback=config.allow_loopback_image_hosts,
            ),
            storage=self.storage,
        )

    @property
    def templates_dir(self) -> Path:
        """The shop's templates folder, or the bundled examples when none is set."""
        configured = self.settings.render.templates_dir
        if configured:
            return self.settings.resolve(configured)
        import render

        return Path(render.__file__).parent / "templates"

    @cached_property
    def print_files(self) -> PrintFiles:
        from podops.fulfillment.printfiles import PrintFiles

        return PrintFiles(self.db, self.renderer)

    @cached_property
    def field_checks(self) -> FieldChecks:
        """Staff edits checked against the line's template, photo links by the renderer's
        fetch rules (render/design_checks.py), before they are saved."""
        from podops.fulfillment.field_checks import FieldChecks
        from render.design_checks import TemplateChecks
        from render.renderer import PrintFileRenderer

        renderer = self.renderer
        if not isinstance(renderer, PrintFileRenderer):
            raise TypeError("field checks need the Pillow renderer's templates")
        return FieldChecks(self.db, TemplateChecks(renderer.template, renderer.fetch_policy))

    @cached_property
    def sheet(self) -> Spreadsheet | None:
        """The spreadsheet `sheet.backend` names (Google or a local .xlsx); None when off."""
        from sync.sheets.mirror import build_spreadsheet

        return build_spreadsheet(self.settings, self.limits)

    def close(self) -> None:
        if "_provider_adapters" in self.__dict__:
            for http_client in self._provider_adapters[1]:
                http_client.close()
        if "_store_clients" in self.__dict__:
            for client in self._store_clients[1].values():
                client.close()
        if "labels" in self.__dict__:
            close = getattr(self.labels.service, "close", None)
            if close is not None:
                close()
        if "db" in self.__dict__:
            self.db.dispose()
        if "limits" in self.__dict__:
            self.limits.close()


if TYPE_CHECKING:
    from bot.context import SlackRuntime

    def _serves_every_adapter(runtime: Runtime) -> SlackRuntime:
        """mypy proves Runtime offers what every adapter's Protocol asks for."""
        return runtime
