"""Configuration: one TOML file for everything a shop decides, and the
environment for every secret.

Read once at the entry point (`load_settings`) and passed down; nothing else
in podops reads the environment. Every key can be overridden from the
environment as `PODOPS_<SECTION>__<KEY>` (for example
`PODOPS_STORES__MAIN__CONSUMER_SECRET`); secret keys may *only* come from there.
"""

from __future__ import annotations

import re
import tomllib
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from podops.countries import check_country
from podops.errors import ConfigError
from podops.label_settings import LabelsConfig, ShippingOrigin, StoreLabels
from podops.shipping_settings import ShippingConfig, shipping_problems

DEFAULT_CONFIG_NAME = "podops.toml"
ENV_PREFIX = "PODOPS_"
NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(Section):
    url: str = ""  # empty: a SQLite file in data_dir
    echo: bool = False


class PersonalizationMapping(Section):
    """Which line-item meta keys hold which personalization field or image URL."""

    fields: dict[str, str] = Field(default_factory=dict)
    images: dict[str, str] = Field(default_factory=dict)


SHOPIFY_API_VERSION = "2025-10"
SHOPIFY_FULFIL_STATUSES = ("paid", "partially_refunded")
"""Shopify orders podops takes (by `displayFinancialStatus`, lower case)."""


class FeesConfig(Section):
    """A store's and payment processor's fees per order: `percent` of what the customer
    paid plus `fixed` (in the order's currency). Zero: not configured."""

    percent: float = Field(default=0.0, ge=0, le=100)
    fixed: float = Field(default=0.0, ge=0, le=1000)

    @property
    def configured(self) -> bool:
        return self.percent > 0 or self.fixed > 0


class StoreConfig(Section):
    platform: Literal["woocommerce", "shopify", "sandbox", "csv"] = "woocommerce"
    url: str = ""
    """WooCommerce: the shop's address. Shopify: leave empty (podops calls
    https://<shop>); set only to reach the Admin API through another address."""
    countdown_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    default_provider: str = "manual"
    fulfil_statuses: list[str] = Field(default_factory=lambda: ["processing"])
    max_line_quantity: int = Field(default=100, ge=1, le=1_000_000)
    """A line asking for more is received on hold for a person to check."""
    fallback_when_out_of_stock: bool = False
    """A provider that refuses a variant as out of stock: send those lines by the next
    routing rule that matches their SKU (same product_key) instead of failing."""
    poll_minutes: float = Field(default=5.0, gt=0, le=24 * 60)
    has_shipment_tracking: bool = True
    # WooCommerce only. How the keys travel over https: "basic" (the Authorization
    # header, WooCommerce's documented way) or "query" (consumer_key/consumer_secret
    # query parameters, for hosts that strip the Authorization header).
    auth: Literal["basic", "query"] = "basic"
    ca_bundle: str = ""
    """WooCommerce only: a PEM file of the certificate authorities to trust for this
    shop (a shop behind a private CA); empty: the usual public authorities."""
    first_sync_days: int = Field(default=30, ge=0, le=36500)
    """WooCommerce and Shopify: how far back the first sync reads (orders modified in the
    last N days); 0 reads the shop's whole history (Shopify: only 60 days of it without
    the read_all_orders scope)."""
    verify_addresses: bool = False
    """Check every shipping address with EasyPost before the order goes to its provider
    (needs PODOPS_EASYPOST__API_KEY); an address that does not verify waits for staff."""
    personalization: PersonalizationMapping = Field(default_factory=PersonalizationMapping)
    product_personalization: dict[str, PersonalizationMapping] = Field(default_factory=dict)
    labels: StoreLabels = Field(default_factory=StoreLabels)
    """How this store's shipping labels pick a rate (`podops.label_settings`)."""
    shipping: ShippingConfig = Field(default_factory=ShippingConfig)
    """The store's shipping methods as speeds, each speed's countdown and provider method
    (`podops.shipping_settings`; empty: every order ships standard)."""
    # Test mode (platform "sandbox") only: how often orders arrive, how far back
    # the first sync reaches, and where customer photos are fetched from
    # ({slot} is the order's slot, {n} a photo number 0-5).
    sandbox_every_s: float = Field(default=720.0, gt=0)
    sandbox_backfill_h: float = Field(default=24.0, ge=0)
    sandbox_photo_url: str = "https://picsum.photos/seed/{slot}/2000/2000"
    sandbox_opened_at: datetime | None = None  # no orders before this moment
    # Shopify only (docs/intake.md, "Shopify").
    shop: str = ""
    """The shop's myshopify.com domain, like `example.myshopify.com` (or just `example`)."""
    api_version: str = Field(default=SHOPIFY_API_VERSION, pattern=r"^\d{4}-(01|04|07|10)$")
    """The Admin API version podops was written against; a newer one is a deliberate change."""
    client_id: str = ""
    """The app's client id, for the client-credentials grant (a token valid 24 hours,
    renewed before it ends); with `access_token` set instead, it is not used."""
    notify_customer: bool = False
    """Shopify e-mails the customer when podops records a parcel's tracking."""
    push_holds: bool = False
    """Staff holds in podops also hold the order's fulfillment orders in Shopify."""
    consumer_key: SecretStr | None = None
    consumer_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    """Shopify: a custom app's permanent Admin API token (shpat_...)."""
    client_secret: SecretStr | None = None
    """Shopify: the app's client secret; signs webhooks, and with `client_id` gets tokens."""

    @model_validator(mode="before")
    @classmethod
    def _shopify_statuses(cls, data: Any) -> Any:
        """A Shopify store fulfils paid orders unless the operator lists others."""
        if isinstance(data, dict) and data.get("platform") == "shopify":
            data = {"fulfil_statuses": list(SHOPIFY_FULFIL_STATUSES), **data}
        return data

    fees: FeesConfig = Field(default_factory=FeesConfig)
    """What the store and its payment processor keep of each order (most stores do not
    report it): reports subtract it from revenue and mark the margin "estimate"."""

    @property
    def first_sync_window(self) -> timedelta | None:
        """How far back a store without a cursor is read (None: as the store decides)."""
        if self.platform not in ("woocommerce", "shopify") or self.first_sync_days == 0:
            return None
        return timedelta(days=self.first_sync_days)


DEFAULT_RATES_PER_S = {"printful": 2.0, "printify": 10.0, "gelato": 5.0}
"""Published limits where there is one: Printful 120 a minute per store, Printify 600
a minute per account; Gelato publishes none (5 a second is an assumption,
docs/fulfillment.md). Other kinds: 2 a second."""


class ProviderConfig(Section):
    kind: Literal["customcat", "shineon", "manual", "sandbox", "printful", "printify", "gelato"]
    base_url: str = ""
    rate_limit_per_s: float = Field(default=2.0, gt=0, le=100)
    concurrency: int = Field(default=4, ge=1, le=64)
    timeout_s: float = Field(default=20.0, gt=0, le=300)
    shipping_method: str = ""
    test_mode: bool = False
    sandbox_stage_s: float = Field(default=60.0, gt=0, le=86400)
    """Sandbox provider only: seconds each stage (accepted, in production) lasts."""
    api_key: SecretStr | None = None
    store_id: str = ""
    """Printful's store id (`X-PF-Store-Id`, needed by account-level tokens) or
    Printify's shop id (in every order path)."""
    confirm_orders: bool = True
    """Printful: create orders confirmed (`confirm=true`); False: as drafts, confirmed
    by a second call (staff can look at the draft on Printful in between)."""
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    """Gelato: the currency an order is charged in (ISO 4217; Gelato's create call
    requires one). Printify: the shop's currency, in which its order totals are read
    (its order answer names none: docs/reports.md)."""
    catalog: list[str] = Field(default_factory=list)
    """Sandbox provider only: the product codes its catalog knows, so `podops templates
    check` and the Products table can be tried without an account; empty: no catalog."""
    promised_days: float | None = Field(default=None, gt=0, le=365)
    """How many days from placing to shipping the provider promises (its production
    plus handling time); reports show the share of orders shipped within it. None: no
    promise, so no share."""
    contact_email: str = Field(default="", max_length=320, pattern=r"^$|^[^@\s]+@[^@\s]+$")
    """The shop's e-mail, sent as the customer's when an order has none (CustomCat and
    Gelato require one; Shopify phone-only checkouts and phone orders carry none).
    Blank: such an order is refused before sending, with this setting named."""
    webhook_secret: SecretStr | None = None
    """The secret of the provider's webhook: the URL token Printful and Gelato
    deliveries must carry, or the key of Printify's `X-Pfy-Signature`. Only from
    the environment: PODOPS_PROVIDERS__<NAME>__WEBHOOK_SECRET."""

    @model_validator(mode="before")
    @classmethod
    def _published_rate(cls, data: Any) -> Any:
        """A provider with a published limit gets it unless the operator set one."""
        if isinstance(data, dict) and "rate_limit_per_s" not in data:
            rate = DEFAULT_RATES_PER_S.get(str(data.get("kind", "")))
            if rate is not None:
                data = {**data, "rate_limit_per_s": rate}
        return data


class RoutingRule(Section):
    """Map SKUs (shell-style patterns), optionally only for some destination countries,
    to a provider, its product code and our template. Rules are tried in order."""

    sku: str
    provider: str
    provider_sku: str = ""
    product_key: str = ""
    countries: list[str] = Field(default_factory=list)
    """ISO 3166-1 codes (and groups such as "EU") the rule is for; empty: every country."""

    @field_validator("countries")
    @classmethod
    def _known_countries(cls, value: list[str]) -> list[str]:
        return [check_country(name) for name in value]


class ProductsConfig(Section):
    """The Products table: exact SKUs routed to a provider's product code, before the
    [[routing]] rules (docs/fulfillment.md, "The Products table")."""

    csv: str = ""
    """A CSV file (`sku,provider,provider_sku,product_key,countries`), relative to
    data_dir; read again whenever it changes. Empty: no file."""
    sheet_tab: bool = True
    """Read the sheet's Products tab (when a sheet is configured)."""
    check_seconds: int = Field(default=30, ge=5, le=3600)
    """How often the worker looks whether the CSV file changed."""


class EasyPostConfig(Section):
    """EasyPost's API (address verification, shipping labels, trackers). Secrets only
    from the environment: PODOPS_EASYPOST__API_KEY (a test key buys labels free of
    charge) and PODOPS_EASYPOST__WEBHOOK_SECRET (signs tracker webhooks)."""

    base_url: str = "https://api.easypost.com/v2"
    timeout_s: int = Field(default=20, ge=1, le=300)
    api_key: SecretStr | None = None
    webhook_secret: SecretStr | None = None


class SlackConfig(Section):
    enabled: bool = False
    channel: str = "#orders"
    alert_before_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    socket_mode: bool = False
    allowed_users: dict[str, list[str]] = Field(default_factory=dict)
    base_url: str = "https://slack.com/api/"
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    app_token: SecretStr | None = None


class SheetConfig(Section):
    backend: Literal["xlsx", "google", "none"] = "xlsx"
    workbook: str = "orders.xlsx"
    spreadsheet_id: str = ""
    archive_after_days: int = Field(default=30, ge=1)
    archive_max_rows: int = Field(default=100_000, ge=1, le=500_000)
    """The Archive tab's rows at most: once full, each newly archived row replaces the
    oldest (docs/sheet.md), so the sheet stays under Google's 10 million cells."""
    # On the first mirror of an existing database, also fill the Archive tab with the
    # orders finished long ago. Default: yes for Google, no for the local workbook
    # (an .xlsx file is rewritten whole on every cycle, so a year of history in it
    # makes each cycle take tens of seconds).
    backfill_archive: bool | None = None
    mirror_minutes: float = Field(default=1.0, gt=0)
    service_account_json: SecretStr | None = None

    @property
    def backfills_archive(self) -> bool:
        if self.backfill_archive is not None:
            return self.backfill_archive
        return self.backend == "google"


class SummaryConfig(Section):
    at: time = time(8, 0)
    late_after_days: int = Field(default=7, ge=1)


DEFAULT_LATE_AFTER_DAYS: dict[str, float] = {
    "received": 1,
    "pending": 3,
    "on_hold": 3,
    "needs_design": 2,
    "submitting": 1,
    "submit_failed": 1,
    "submitted": 5,
    "in_production": 7,
    "cancel_requested": 3,
    "partially_shipped": 10,
}
"""Days since an order was placed after which it is late, by the state it is in."""


class ReportsConfig(Section):
    """`podops report`, the Stats tab and the weekly Slack report."""

    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    """The shop's currency: money in others is reported apart, never summed with it."""
    late_after_days: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_LATE_AFTER_DAYS))
    """Per open state (`pending`, `submitted`...): days since placing after which an order
    in it is late. States left out keep their default."""
    stuck_after_days: float = Field(default=5.0, gt=0, le=365)
    """A fulfillment at its provider this many days without tracking is stuck."""
    weekly: bool = True
    """Post the weekly report to Slack on Mondays at `summary.at`."""
    stats_days: int = Field(default=30, ge=1, le=366)
    """The period the sheet's Stats tab covers (refreshed daily)."""

    @field_validator("late_after_days")
    @classmethod
    def _known_states(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(DEFAULT_LATE_AFTER_DAYS))
        if unknown:
            raise ValueError(
                f"not an open state: {', '.join(unknown)}; expected some of "
                f"{', '.join(DEFAULT_LATE_AFTER_DAYS)}"
            )
        if any(days <= 0 for days in value.values()):
            raise ValueError("days must be more than 0")
        return {**DEFAULT_LATE_AFTER_DAYS, **value}


class RenderConfig(Section):
    templates_dir: str = ""  # empty: the example templates that ship with podops
    output_dir: str = "print-files"
    allow_private_image_hosts: bool = False
    # Fetch customer photos from this machine (127.0.0.1): for the demo and tests only.
    allow_loopback_image_hosts: bool = False
    max_image_mb: float = Field(default=25.0, gt=0, le=500)
    public_base_url: str = "http://localhost:8000"
    # Providers may fetch a print file days after submission (ShineOn waits for payment).
    link_ttl_hours: float = Field(default=720.0, gt=0)
    link_secret: SecretStr | None = None


PRESIGN_MAX_HOURS = 168.0
"""SigV4 presigned URLs live at most 7 days (AWS S3, R2, MinIO all refuse longer)."""


def web_role_serves_links(render: RenderConfig) -> bool:
    """Whether print-file links go to the web role (`/files/NAME?exp=..&sig=..`): a link
    secret signs them and `public_base_url` says where the web role is reached."""
    return render.link_secret is not None and bool(render.public_base_url.strip())


def presigned_links_note(storage: StorageConfig, render: RenderConfig) -> str | None:
    """With a bucket and no web role serving links, links are presigned URLs that die
    after `presign_hours` (7 days at most): what to tell the operator, else None."""
    if storage.kind != "s3" or web_role_serves_links(render):
        return None
    return presign_expiry_note(storage.presign_hours, render.link_ttl_hours * 3600)


def presign_expiry_note(presign_hours: float, link_ttl_s: float) -> str:
    return (
        f"print-file links are presigned URLs that expire after storage.presign_hours = "
        f"{presign_hours:g} h (S3 allows at most {PRESIGN_MAX_HOURS:g} h, 7 days): a provider "
        "downloading later gets an expired link. For links valid render.link_ttl_hours "
        f"(now {link_ttl_s / 3600:g} h), let the web role serve them: set "
        "PODOPS_RENDER__LINK_SECRET and render.public_base_url to the address providers "
        "reach `podops run --role web` at (docs/several-hosts.md)"
    )


class StorageConfig(Section):
    """Where print files, previews and packing slips are kept (docs/several-hosts.md):
    `local` (the render output folder, served by signed links; the default) or `s3`
    (an S3-compatible bucket). With a bucket, links are the web role's signed links
    (which redirect to a fresh presigned URL) when the web role serves links, else
    presigned URLs valid `presign_hours`. Keys only from the environment:
    PODOPS_STORAGE__ACCESS_KEY_ID and PODOPS_STORAGE__SECRET_ACCESS_KEY."""

    kind: Literal["local", "s3"] = "local"
    bucket: str = ""
    prefix: str = "print-files"
    endpoint_url: str = ""  # empty: AWS S3 in `region`
    region: str = "us-east-1"
    presign_hours: float = PRESIGN_MAX_HOURS
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None

    @field_validator("presign_hours")
    @classmethod
    def _presign_limit(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("expected a number of hours more than 0")
        if value > PRESIGN_MAX_HOURS:
            raise ValueError(
                f"at most {PRESIGN_MAX_HOURS:g} (7 days): S3 refuses presigned links that live "
                "longer. For longer links let the web role serve them (set "
                "PODOPS_RENDER__LINK_SECRET and render.public_base_url; they last "
                "render.link_ttl_hours)"
            )
        return value

    @field_validator("prefix")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        value = value.strip("/")
        if value and any(part in ("", ".", "..") for part in value.split("/")):
            raise ValueError("expected folder names separated by /, e.g. 'shop/print-files'")
        return value

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> StorageConfig:
        if self.kind == "s3" and not self.bucket.strip():
            raise ValueError("storage.kind is 's3': set storage.bucket")
        return self


DELIVERIES_MIN_DAYS = 3.0
"""Shopify redelivers a failed webhook for up to 48 hours (WooCommerce a few times, then
disables the webhook): a delivery is remembered at least a day longer than that."""


class HousekeepingConfig(Section):
    """What podops forgets, and when (the daily `db.prune` job; docs/several-hosts.md)."""

    deliveries_days: float = 14.0
    """Webhook and Slack deliveries are remembered this many days, so a redelivery is
    applied once; older records are deleted. At least 3 days: Shopify retries a failed
    webhook for up to 48 hours, and a delivery forgotten sooner would be applied twice."""

    @field_validator("deliveries_days")
    @classmethod
    def _covers_redelivery(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("expected a number of days more than 0")
        if value < DELIVERIES_MIN_DAYS:
            raise ValueError(
                f"at least {DELIVERIES_MIN_DAYS:g} days: Shopify redelivers a failed webhook "
                "for up to 48 hours, and a delivery forgotten sooner would be applied twice"
            )
        if value > 3650:
            raise ValueError("at most 3650 days (10 years)")
        return value

    @property
    def deliveries_kept(self) -> timedelta:
        return timedelta(days=self.deliveries_days)

    label_sheets_days: float = 7.0
    """Printable label sheets (`podops label print` / `batch`) are kept this many days
    on the host that printed them, for a reprint, then deleted; one is made again on
    demand from the stored label."""

    @field_validator("label_sheets_days")
    @classmethod
    def _some_days(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("expected a number of days more than 0")
        if value > 3650:
            raise ValueError("at most 3650 days (10 years)")
        return value

    @property
    def label_sheets_kept(self) -> timedelta:
        return timedelta(days=self.label_sheets_days)


class ServerConfig(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


SECRET_KEYS = {
    "consumer_key",
    "consumer_secret",
    "webhook_secret",
    "access_token",
    "client_secret",
    "api_key",
    "bot_token",
    "signing_secret",
    "app_token",
    "service_account_json",
    "link_secret",
    "access_key_id",
    "secret_access_key",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    config_path: Path | None = None
    timezone: str = "UTC"
    data_dir: Path = Path(".")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    stores: dict[str, StoreConfig] = Field(default_factory=dict)
    providers: dict[str, ProviderConfig] = Field(
        default_factory=lambda: {"manual": ProviderConfig(kind="manual")}
    )
    routing: list[RoutingRule] = Field(default_factory=list)
    products: ProductsConfig = Field(default_factory=ProductsConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    sheet: SheetConfig = Field(default_factory=SheetConfig)
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    render: RenderConfig = Field(default_factory=RenderConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    easypost: EasyPostConfig = Field(default_factory=EasyPostConfig)
    shipping_origin: ShippingOrigin = Field(default_factory=ShippingOrigin)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    housekeeping: HousekeepingConfig = Field(default_factory=HousekeepingConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file, so an operator can override any key.
        return (env_settings, init_settings)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; expected a name like 'America/New_York'"
            ) from exc
        return value

    @field_validator("stores", "providers")
    @classmethod
    def _names_are_identifiers(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(NAME_PATTERN, name):
                raise ValueError(
                    f"name {name!r} must be lowercase letters, digits and _ (it is used in "
                    "environment variable names)"
                )
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'podops.db').as_posix()}"

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the data folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.data_dir / candidate

    def secret_values(self) -> list[str]:
        """Every configured secret, so logs can mask them wherever they appear."""
        found: list[str] = []

        def walk(model: BaseModel) -> None:
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, SecretStr):
                    found.append(value.get_secret_value())
                elif isinstance(value, BaseModel):
                    walk(value)
                elif isinstance(value, dict):
                    for item in value.values():
                        if isinstance(item, BaseModel):
                            walk(item)

        walk(self)
        if "@" in self.database_url and ":" in self.database_url.split("@", 1)[0]:
            from sqlalchemy.engine import make_url

            password = make_url(self.database_url).password
            if password:
                found.append(str(password))
        return found

    def check_references(self) -> None:
        """Cross-section checks pydantic cannot express per field."""
        problems: list[str] = []
        for name, store in self.stores.items():
            if store.default_provider not in self.providers:
                problems.append(
                    f"stores.{name}.default_provider: no provider named "
                    f"{store.default_provider!r}; expected one of {sorted(self.providers)}"
                )
            if store.verify_addresses and self.easypost.api_key is None:
                problems.append(
                    f"stores.{name}.verify_addresses is on, but EasyPost has no API key: "
                    f"set {env_name('easypost.api_key')}"
                )
        for index, rule in enumerate(self.routing):
            if rule.provider not in self.providers:
                problems.append(
                    f"routing[{index}].provider: no provider named {rule.provider!r}; "
                    f"expected one of {sorted(self.providers)}"
                )
        for name, store in self.stores.items():
            problems.extend(shipping_problems(name, store.shipping, self.providers))
        problems.extend(self._origin_problems())
        if problems:
            raise ConfigError("; ".join(problems))

    def _origin_problems(self) -> list[str]:
        """A shipping origin begun but not finished is named at start-up, not at the
        first label."""
        origins = [("shipping_origin", self.shipping_origin)]
        origins += [
            (f"stores.{name}.labels.origin", store.labels.origin)
            for name, store in self.stores.items()
            if store.labels.origin is not None
        ]
        return [
            f"{where}: {', '.join(origin.missing())} missing (a label needs them)"
            for where, origin in origins
            if origin.configured and origin.missing()
        ]


def _secrets_in_file(data: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key in SECRET_KEYS and value not in (None, ""):
                found.append(where)
            else:
                found.extend(_secrets_in_file(value, where))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.extend(_secrets_in_file(value, f"{path}[{index}]"))
    return found


def env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "__").upper()


def describe_validation_error(exc: ValidationError, source: str) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see the starter config from `podops init`)"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif not any(str(part) in SECRET_KEYS for part in error["loc"]):
            message += f" (got {error.get('input')!r})"
        lines.append(f"{where}: {message}")
    return f"{source}: " + "; ".join(lines)


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"no config file at {path}; run `podops init` to write one") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def load_settings(path: Path | None) -> Settings:
    """Build Settings from a TOML file (or none) plus the environment."""
    data: dict[str, Any] = {}
    source = "environment"
    if path is not None:
        data = read_config_file(path)
        source = str(path)
        leaked = _secrets_in_file(data)
        if leaked:
            hints = ", ".join(f"{key} (set {env_name(key)})" for key in leaked)
            raise ConfigError(
                f"{path}: secrets belong in the environment, not the config file: {hints}"
            )
        data.setdefault("data_dir", ".")
        data_dir = Path(str(data["data_dir"])).expanduser()
        if not data_dir.is_absolute():
            data_dir = path.resolve().parent / data_dir
        data["data_dir"] = data_dir
        data["config_path"] = path.resolve()
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, source)) from None
    settings.check_references()
    return settings
