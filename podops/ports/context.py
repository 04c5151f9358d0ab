"""What an adapter may ask of the running application, as Protocols the core owns.

Adapters (`bot/`, `sync/`, `render/web.py`) receive the composition root's object
typed by one of these, never `podops.runtime.Runtime` itself, so the arrows run
one way: composition root -> adapters -> core. Each Protocol names only what
its adapters use; `podops.runtime.root.Runtime` satisfies all of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from podops.db import Database
    from podops.fulfillment.address_change import AddressDesk
    from podops.fulfillment.countdown import Submitter
    from podops.fulfillment.field_checks import FieldChecks
    from podops.fulfillment.followup import ProviderFollowUp
    from podops.fulfillment.printfiles import PrintFiles
    from podops.labels.desk import LabelDesk
    from podops.ports.notify import ChartRenderer, Notifier, ReportCharts
    from podops.ports.sheet import Spreadsheet
    from podops.ports.storage import FileStorage
    from podops.ports.store import StoreClient
    from podops.products.imports import ProductChecks
    from podops.products.live import LiveTable
    from podops.routing import ShopPolicy
    from podops.settings import Settings


class Configured(Protocol):
    """The settings and the database: what every area needs."""

    @property
    def settings(self) -> Settings: ...

    @property
    def db(self) -> Database: ...


class Storing(Configured, Protocol):
    """Where print files are kept: the web role's `/files/` links reach a bucket too."""

    @property
    def storage(self) -> FileStorage: ...


class Stores(Configured, Protocol):
    """Intake and push-back: the store adapters and the shop's routing policy."""

    @property
    def policy(self) -> ShopPolicy: ...

    def store_client(self, name: str, *, stored_platform: str | None = None) -> StoreClient: ...


class Fulfillment(Configured, Protocol):
    """Submission, provider follow-up and print files."""

    @property
    def submission(self) -> Submitter: ...

    @property
    def follow_up(self) -> ProviderFollowUp: ...

    @property
    def print_files(self) -> PrintFiles: ...

    @property
    def field_checks(self) -> FieldChecks: ...

    @property
    def addresses(self) -> AddressDesk: ...


class Labels(Configured, Protocol):
    """Shipping labels (the CLI, Slack, the sheet's links, EasyPost's tracker webhooks)."""

    @property
    def labels(self) -> LabelDesk: ...


class Notifying(Configured, Protocol):
    """Whatever tells people (Slack or the console)."""

    @property
    def notifier(self) -> Notifier: ...

    @property
    def chart(self) -> ChartRenderer: ...

    @property
    def report_charts(self) -> ReportCharts: ...

    @property
    def storage(self) -> FileStorage:
        """Where previews are read from (the local folder or a bucket)."""
        ...


class Products(Configured, Protocol):
    """The Products table's readers (CSV file, sheet tab): checks and the live table."""

    @property
    def product_checks(self) -> ProductChecks: ...

    @property
    def product_table(self) -> LiveTable: ...


class Sheets(Products, Protocol):
    """The spreadsheet mirror (None when the sheet is off)."""

    @property
    def sheet(self) -> Spreadsheet | None: ...

    @property
    def storage(self) -> FileStorage:
        """Where previews and labels are kept (their links in the Orders tab)."""
        ...

    @property
    def field_checks(self) -> FieldChecks: ...

    @property
    def addresses(self) -> AddressDesk: ...


class Everything(Stores, Fulfillment, Notifying, Sheets, Labels, Protocol):
    """Channels that reach every area (the Slack app's commands)."""
