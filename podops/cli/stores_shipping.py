"""The shipping side of `podops stores check`: gaps in the store's shipping table,
and the shipping methods its latest orders carry with the speed each becomes."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text

from podops.cli.styled import styled
from podops.speeds import NO_METHOD, config_gaps

if TYPE_CHECKING:
    from podops.routing import ShopPolicy
    from podops.settings import Settings


def gap_lines(settings: Settings, store: str | None = None) -> list[Text]:
    """Valid but incomplete shipping tables (of one store, or all), in yellow."""
    prefix = f"stores.{store}." if store else ""
    return [
        styled("[yellow]shipping:[/yellow] {}", gap)
        for gap in config_gaps(settings)
        if gap.startswith(prefix)
    ]


def methods_table(store: str, orders: list[dict[str, Any]], policy: ShopPolicy) -> Table:
    """Each shipping method in these orders (WooCommerce JSON), how often, and its speed."""
    from providers.woocommerce_shipping import shipping_line

    counted: Counter[tuple[str, str]] = Counter(shipping_line(o, []) for o in orders)
    shipping = policy.store(store).shipping
    table = Table(title=Text(f"Shipping methods in {store}"), show_edge=False, title_justify="left")
    for column in ("Method id", "Title", "Orders", "Speed"):
        table.add_column(column, overflow="fold")
    for (method_id, title), count in counted.most_common():
        speed = shipping.speed_for(method_id, title)
        shown = styled("[red]not mapped: such orders are held[/red]")
        if speed is not None:
            shown = Text(speed + (" (rush)" if shipping.is_rush(speed) else ""))
        table.add_row(method_id or NO_METHOD, title, str(count), shown)
    return table
