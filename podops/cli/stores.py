"""`podops stores check`: which personalization keys a store's recent orders carry,
and which configured field each one fills (or why none), and which shipping methods
they carry and the speed each becomes, before orders wait for staff."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from podops.cli.stores_shipping import gap_lines, methods_table
from podops.cli.styled import styled
from podops.errors import ConfigError

if TYPE_CHECKING:
    from podops.settings import Settings, StoreConfig
    from providers.woocommerce_mapping import KeySeen

stores_app = typer.Typer(help="The stores podops takes orders from.", no_args_is_help=True)


@stores_app.command("check")
def check_command(
    store: Annotated[str | None, typer.Option(help="The store (default: the only one).")] = None,
    orders: Annotated[
        int, typer.Option(min=1, max=100, help="How many of the latest orders to read.")
    ] = 20,
) -> None:
    """Read a store's latest orders and show each line-item key and the field it fills."""
    from podops.cli.main import out, runtime
    from providers.shopify import ShopifyStore
    from providers.woocommerce import WooCommerceStore
    from providers.woocommerce_mapping import keys_seen

    rt = runtime()
    name = _chosen(rt.settings.stores, store)
    config = rt.settings.stores[name]
    for line in [*provider_warnings(rt.settings), *gap_lines(rt.settings, name)]:
        out.print(line)
    client = rt.store_client(name)
    if not isinstance(client, WooCommerceStore | ShopifyStore):
        raise ConfigError(
            f"store {name!r} is {config.platform}: only WooCommerce and Shopify stores are read"
        )
    latest = client.recent_orders(orders)
    rows = keys_seen(latest, config)
    out.print(_table(name, rows))
    for line in _notes(config, rows):
        out.print(line)
    out.print(methods_table(name, latest, rt.policy))
    unmapped = sum(1 for row in rows if not row.found.found)
    out.print(
        f"{len(latest)} order(s) read from {name}: {len(rows)} key(s), "
        f"{unmapped} not filling any field."
    )


def provider_warnings(settings: Settings) -> list[Text]:
    """What a provider's own settings (outside podops) must be for our countdown to hold."""
    return [
        styled(
            "[yellow]provider {} (Printify shop {}): set the shop's order approval to manual "
            "in Printify, or Printify sends orders to production on its own timer, before "
            "podops' countdown ends[/yellow]",
            name,
            config.store_id or "?",
        )
        for name, config in settings.providers.items()
        if config.kind == "printify"
    ]


def _chosen(stores: dict[str, StoreConfig], store: str | None) -> str:
    woo = [name for name, cfg in stores.items() if cfg.platform in ("woocommerce", "shopify")]
    if store is not None:
        if store not in stores:
            known = ", ".join(sorted(stores)) or "none configured"
            raise ConfigError(f"no store named {store!r} (stores: {known})")
        return store
    if len(woo) != 1:
        raise ConfigError(f"say which store: --store {' | '.join(woo) or 'NAME'}")
    return woo[0]


def _table(store: str, rows: list[KeySeen]) -> Table:
    table = Table(title=Text(f"Line-item keys in {store}"), show_edge=False, title_justify="left")
    for column in ("Key", "Shown as", "Lines", "SKUs", "Fills"):
        table.add_column(column, overflow="fold")
    for row in rows:
        shown = row.display_key if row.display_key != row.key else ""
        skus = ", ".join(sorted(s for s in row.skus if s)[:5])
        table.add_row(row.key, shown, str(row.lines), skus, _fills(row))
    return table


def _fills(row: KeySeen) -> Text:
    """Where the key goes, in words (outside text shown as typed)."""
    found = row.found
    if found.ambiguous:
        names = ", ".join(repr(name) for name in found.ambiguous)
        return styled("[red]ambiguous: could be {}; not used[/red]", names)
    if not found.found:
        return styled("[dim]not mapped[/dim]")
    targets = [
        f"field {found.field}" if found.field else "",
        f"image {found.image}" if found.image else "",
    ]
    where = " and ".join(t for t in targets if t)
    how = "exact" if found.exact else f"matches {found.configured!r}"
    table = "" if row.mapping == "personalization" else f" via {row.mapping}"
    return styled("[green]{}[/green] ({})", where, how + table)


def _notes(config: StoreConfig, rows: list[KeySeen]) -> list[Text]:
    """Configured names no order used, and configured names that clash."""
    from providers.woocommerce_mapping import matcher_for

    used = {row.found.configured for row in rows if row.found.found}
    mapping = config.personalization
    unseen = [name for name in (*mapping.fields, *mapping.images) if name not in used]
    notes = []
    if unseen:
        notes.append(
            Text("Configured but in none of these orders: " + ", ".join(sorted(set(unseen))))
        )
    for names in matcher_for(mapping).clashes():
        notes.append(
            styled(
                "[red]These configured names read alike but fill different fields:[/red] {}",
                ", ".join(repr(n) for n in names),
            )
        )
    return notes


def register(app: typer.Typer) -> None:
    app.add_typer(stores_app, name="stores")
