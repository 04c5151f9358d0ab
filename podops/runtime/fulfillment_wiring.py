"""Building the fulfillment side from settings (called by the composition root).

Part of the composition root: adapters (httpx, render's signed links) are
imported inside the functions, so importing this module pulls in nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podops.db import Database
from podops.errors import ConfigError
from podops.fulfillment.callbacks import CallbackSigner, callback_key
from podops.fulfillment.roster import ProviderRoster
from podops.routing import ShopPolicy
from podops.settings import ProviderConfig, Settings

if TYPE_CHECKING:
    import httpx

    from podops.fulfillment.address_check import AddressChecks
    from podops.fulfillment.countdown import Submitter
    from podops.ports.fulfillment import FulfillmentProvider, PrintFileSource
    from podops.ports.storage import FileStorage
    from podops.shared_limits import Limits
    from providers.storage_local import LocalStorage


class PrintLinks:
    """Print files as links: URLs pass through; a stored file gets the storage's link
    (a presigned URL from a bucket, a signed, expiring link to the web role)."""

    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage

    def url_for(self, print_file: str) -> str:
        if print_file.startswith(("http://", "https://")):
            return print_file
        return self.storage.url_for(print_file)


def local_storage(settings: Settings) -> LocalStorage:
    """The render output folder, with today's signed links (when a link secret is set)."""
    from providers.storage_local import LocalStorage

    secret = settings.render.link_secret
    key = secret.get_secret_value().encode() if secret is not None else None
    ttl = int(settings.render.link_ttl_hours * 3600)
    folder = settings.resolve(settings.render.output_dir)
    return LocalStorage(folder, settings.render.public_base_url, key, ttl)


def build_storage(settings: Settings) -> FileStorage:
    """`[storage] kind`: the local folder (default) or an S3-compatible bucket, which
    hands files it does not hold (written before `podops storage migrate`) to the
    local folder."""
    local = local_storage(settings)
    if settings.storage.kind == "local":
        return local
    try:
        from providers.storage_s3 import S3Storage
    except ImportError as exc:
        raise ConfigError(
            'storage.kind is "s3", but its client is not installed: pip install "podops[s3]"'
        ) from exc
    return S3Storage(settings.storage, local)


def print_links(settings: Settings, storage: FileStorage | None = None) -> PrintLinks:
    return PrintLinks(storage if storage is not None else build_storage(settings))


def build_provider(
    name: str,
    config: ProviderConfig,
    settings: Settings,
    links: PrintLinks,
    limits: Limits | None = None,
) -> tuple[FulfillmentProvider, httpx.Client | None]:
    """One adapter (and the HTTP client it owns, to close at shutdown); adapters that
    pace each request themselves do it on `limits` (shared on PostgreSQL)."""
    if config.kind == "manual":
        from providers.manual import ManualProvider

        return ManualProvider(name, links.storage, links), None
    if config.kind == "sandbox":
        from providers.sandbox_provider import CatalogSandboxProvider, SandboxProvider

        if config.catalog:
            return CatalogSandboxProvider(
                name, stage_s=config.sandbox_stage_s, catalog=config.catalog
            ), None
        return SandboxProvider(name, stage_s=config.sandbox_stage_s), None
    import httpx

    from providers.http import make_client

    timeout = httpx.Timeout(config.timeout_s, connect=min(5.0, config.timeout_s))
    if config.kind == "customcat":
        from providers.customcat import DEFAULT_BASE_URL as CUSTOMCAT_URL
        from providers.customcat import CustomCatProvider

        client = make_client(config.base_url or CUSTOMCAT_URL, timeout=timeout)
        return CustomCatProvider(name, client, config), client
    if config.kind == "shineon":
        from providers.shineon import DEFAULT_BASE_URL as SHINEON_URL
        from providers.shineon import ShineOnProvider

        client = make_client(config.base_url or SHINEON_URL, timeout=timeout)
        return ShineOnProvider(name, client, config), client
    if config.kind == "gelato":
        from providers.gelato import DEFAULT_BASE_URL as GELATO_URL
        from providers.gelato import GelatoProvider

        client = make_client(config.base_url or GELATO_URL, timeout=timeout)
        return GelatoProvider(name, client, config), client
    if config.kind == "printful":
        from providers.printful import DEFAULT_BASE_URL as PRINTFUL_URL
        from providers.printful import PrintfulProvider

        client = make_client(config.base_url or PRINTFUL_URL, timeout=timeout)
        return PrintfulProvider(name, client, config, limits=limits), client
    if config.kind == "printify":
        from providers.printify import DEFAULT_BASE_URL as PRINTIFY_URL
        from providers.printify import PrintifyProvider

        client = make_client(config.base_url or PRINTIFY_URL, timeout=timeout)
        return PrintifyProvider(name, client, config, limits=limits), client
    raise ConfigError(f"providers.{name}.kind: unknown kind {config.kind!r}")


def build_providers(
    settings: Settings, links: PrintLinks, limits: Limits | None = None
) -> tuple[dict[str, FulfillmentProvider], list[httpx.Client]]:
    """Every configured provider, each behind its own rate limit and concurrency cap,
    kept in `limits` (every process's on PostgreSQL, this one's on SQLite)."""
    from podops.fulfillment.limits import LimitedProvider

    providers: dict[str, FulfillmentProvider] = {}
    clients = []
    for name, config in settings.providers.items():
        adapter, client = build_provider(name, config, settings, links, limits)
        providers[name] = LimitedProvider(
            adapter,
            per_second=config.rate_limit_per_s,
            concurrency=config.concurrency,
            limits=limits,
        )
        if client is not None:
            clients.append(client)
    return providers, clients


def callback_signer(settings: Settings) -> CallbackSigner:
    keys = {
        name: callback_key(config.api_key.get_secret_value())
        for name, config in settings.providers.items()
        if config.api_key is not None and config.kind == "shineon"
    }
    return CallbackSigner(settings.render.public_base_url, keys)


def provider_roster(
    settings: Settings,
    providers: dict[str, FulfillmentProvider],
    policy: ShopPolicy | None = None,
    storage: FileStorage | None = None,
) -> ProviderRoster:
    """The providers with the print-file links, callback URLs and shipping methods
    (the stores' shipping tables) they are sent."""
    return ProviderRoster(
        providers,
        PrintLinks(storage) if storage is not None else print_links(settings),
        callback_signer(settings),
        policy if policy is not None else ShopPolicy.from_settings(settings),
    )


def build_submission(
    db: Database,
    settings: Settings,
    roster: ProviderRoster,
    *,
    print_file_source: PrintFileSource | None = None,
    policy: ShopPolicy | None = None,
) -> Submitter:
    from podops.fulfillment.countdown import Submitter

    workers = max(1, min(32, sum(c.concurrency for c in settings.providers.values())))
    return Submitter(
        db,
        roster,
        policy=policy if policy is not None else ShopPolicy.from_settings(settings),
        print_file_source=print_file_source,
        workers=workers,
        address_checks=build_address_checks(db, settings),
    )


def build_address_checks(db: Database, settings: Settings) -> AddressChecks | None:
    """EasyPost checks before submission for the stores that turned `verify_addresses` on."""
    stores = [name for name, store in settings.stores.items() if store.verify_addresses]
    if not stores:
        return None
    from podops.fulfillment.address_check import AddressChecks
    from providers.easypost_verify import EasyPostVerifier

    return AddressChecks(db, EasyPostVerifier(settings.easypost), stores)
