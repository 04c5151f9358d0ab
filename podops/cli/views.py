"""How orders look on the terminal (rich) and as JSON, for the CLI."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from podops.address import check_words, one_line
from podops.cli.styled import styled
from podops.models import Event, LineItem, Order
from podops.photos import photo_statuses
from podops.placed_files import files_of, placements_text
from podops.reports import countdown, design_state, fulfillment_rows
from podops.services.returns import returns_in_words
from podops.speeds import speed_words
from podops.status import OrderStatus
from podops.tracking.shipments import ShipmentRow

STATUS_STYLE = {
    OrderStatus.PENDING: "cyan",
    OrderStatus.ON_HOLD: "yellow",
    OrderStatus.NEEDS_DESIGN: "magenta",
    OrderStatus.SUBMIT_FAILED: "bold red",
    OrderStatus.SUBMITTED: "blue",
    OrderStatus.IN_PRODUCTION: "blue",
    OrderStatus.PARTIALLY_SHIPPED: "green",
    OrderStatus.SHIPPED: "green",
    OrderStatus.COMPLETED: "dim green",
    OrderStatus.CANCELLED: "dim",
    OrderStatus.RETURNED: "dim",
}


def _submits(order: Order) -> str:
    when = countdown(order)
    return f"submits {when}" if when else ""


def styled_status(order: Order) -> Text:
    status = OrderStatus(order.status)
    return Text(status.label, style=STATUS_STYLE.get(status, ""))


def _local(moment: datetime | None, tz: tzinfo | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if tz else moment.isoformat()


def hold_text(order: Order, tz: tzinfo | None = None) -> str:
    """Why and by whom a held order is held ("" when it is not held)."""
    if OrderStatus(order.status) != OrderStatus.ON_HOLD:
        return ""
    who = f" (by {order.held_by}" if order.held_by else ""
    if who and order.held_at:
        who += f", {_local(order.held_at, tz)}"
    return f"{order.hold_reason or 'on hold'}{who + ')' if who else ''}"


def ships(order: Order, *, short: bool = False) -> Text:
    """The speed the order ships at (the store's method too, unless `short`), and the
    rush flag (a speed with its own countdown)."""
    if short:
        words = order.shipping_speed or "no speed"
    else:
        words = speed_words(order.shipping_speed, order.shipping_method_id, order.shipping_method)
    text = Text(words, style="" if order.shipping_speed else "yellow")
    if order.rush:
        text.append(" RUSH", style="bold red")
    return text


def print_order_list(console: Console, orders: list[Order]) -> None:
    if not orders:
        console.print("No orders match.")
        return
    table = Table(show_edge=False, pad_edge=False)
    columns = ("Order", "Store", "Status", "Customer", "Items", "Placed", "Submit", "Ships")
    for column in (*columns, "Flags"):
        table.add_column(column, overflow="fold", no_wrap=column == "Ships")
    for order in orders:
        table.add_row(
            order.number,
            order.store.key,
            styled_status(order),
            order.customer_name,
            str(order.quantity_total),
            order.placed_at.strftime("%Y-%m-%d %H:%M"),
            countdown(order),
            ships(order, short=True),
            _flags(order),
            end_section=False,
        )
    console.print(table)
    console.print(f"{len(orders)} order(s).")


def _flags(order: Order) -> str:
    """Problems, and the units back for an order some of which came back."""
    back = order.quantity_returned
    flags = [f"{back} of {order.quantity_total} returned"] if back else []
    return "; ".join([*flags, *order.problems])[:60]


def print_order(
    console: Console,
    order: Order,
    events: list[Event],
    *,
    tz: tzinfo | None = None,
    parcels: list[ShipmentRow] | None = None,
) -> None:
    address = order.shipping_address
    headline = styled("[bold]Order {}[/bold] ({})  ", order.number, order.store.key)
    console.print(Text.assemble(headline, styled_status(order), f"  {_submits(order)}"))
    console.print(f"Customer: {order.customer_name} <{order.customer_email}>", markup=False)
    if address:
        console.print("Ship to:  " + one_line(address), markup=False)
    checked = check_words(order.address_check, address)
    if checked:
        console.print(f"Address:  {checked}", markup=False)
    console.print(f"Total:    {order.total} {order.currency}")
    console.print(Text.assemble("Ships:    ", ships(order)))
    console.print(
        f"Placed:   {_local(order.placed_at, tz)}   Submit at: {_local(order.submit_at, tz)}"
    )
    if order.provider and len(order.fulfillments) <= 1:
        console.print(f"Provider: {order.provider} {order.provider_order_id or ''}", markup=False)
    for label, text in (
        ("Held", hold_text(order, tz)),
        ("Design", design_state(order)),
        ("Cancelled", order.cancel_reason),
        ("Last error", order.last_error),
    ):
        if text:
            console.print(f"{label}: {text}", markup=False)
    for problem in order.problems:
        console.print(styled("[yellow]! {}[/yellow]", problem))
    items = Table(title="Items", show_edge=False, title_justify="left")
    returned = any(item.quantity_returned for item in order.items)
    columns = ("Line", "SKU", "Name", "Qty", "Shipped", "Returned", "Personalization", "Print file")
    for column in columns:
        if column != "Returned" or returned:
            items.add_column(column, overflow="fold")
    for item in order.items:
        personalization = ", ".join(f"{k}={v}" for k, v in item.personalization.items())
        print_file = f"r{item.print_file_revision}" if item.print_file else "none"
        placements = placements_text(files_of(item))
        if placements:
            print_file += f" ({placements})"
        if item.print_file and not item.print_file_current:
            print_file += " (stale)"
        cells = [item.reference, item.sku, item.name, str(item.quantity)]
        cells.append(str(item.quantity_shipped))
        if returned:
            cells.append(str(item.quantity_returned))
        items.add_row(*cells, personalization, print_file)
    console.print(items)
    for item in order.items:
        for text in photo_lines(item):
            console.print(f"{item.reference} {text.strip()}", markup=False)
    _print_fulfillments(console, order, tz)
    _print_shipments(console, parcels or [], tz)
    if order.returns:
        console.print(f"Returned: {returns_in_words(order)}", markup=False, soft_wrap=True)
    timeline = Table(title="Timeline", show_edge=False, title_justify="left")
    for column in ("When", "Who", "What", "Status", "Detail"):
        timeline.add_column(column, overflow="fold")
    for event in events:
        change = f"{event.from_status or ''} -> {event.to_status}" if event.to_status else ""
        detail = ", ".join(f"{k}: {v}" for k, v in event.detail.items())
        timeline.add_row(
            _local(event.at, tz), f"{event.actor} ({event.channel})", event.action, change, detail
        )
    console.print(timeline)


def _print_shipments(console: Console, parcels: list[ShipmentRow], tz: tzinfo | None) -> None:
    """Each parcel as lines (links are never folded): what it holds, its tracking link
    and the packing slip it was packed with."""
    if not parcels:
        return
    console.print("Shipments:")
    for n, parcel in enumerate(parcels, 1):
        units = ", ".join(f"{line} x{qty}" for line, qty in parcel.lines.items())
        head = f"  {n}. {parcel.carrier} {parcel.number}  {_local(parcel.shipped_at, tz)}"
        console.print(f"{head}  ({units})", markup=False, soft_wrap=True)
        console.print(f"     tracking: {parcel.link or '(no link)'}", markup=False, soft_wrap=True)
        slip = parcel.packing_slip or "(none: not packed from a packing slip of podops)"
        console.print(f"     packing slip: {slip}", markup=False, soft_wrap=True)
        if parcel.label is not None:
            label = parcel.label
            where = label.link or "(its file was not stored)"
            console.print(f"     label: {label.words}: {where}", markup=False, soft_wrap=True)


def _print_fulfillments(console: Console, order: Order, tz: tzinfo | None) -> None:
    """One line per fulfillment (what one provider makes), then the lines held here;
    lines, not a table, so references and reasons are never folded."""
    rows = fulfillment_rows(order)
    if len(rows) < 2 and not any(row.held for row in rows):
        return
    console.print("Fulfillments:")
    for row in rows:
        units = ", ".join(f"{line} x{qty}" for line, qty in row.lines.items())
        status = Text(row.status_label, style=PART_STYLE.get(row.status, ""))
        if row.held:
            console.print(Text.assemble("  ", status, f"  ({units})"), soft_wrap=True)
            continue
        head = f"  {row.label}  {row.provider}  {row.reference}  "
        tail = f"  ({units})" + (f"  {row.note}" if row.note else "")
        console.print(Text.assemble(head, status, tail), soft_wrap=True)


PART_STYLE = {
    "submit_failed": "bold red",
    "waiting": "cyan",
    "held": "yellow",
    "shipped": "green",
    "cancelled": "dim",
}


def _held(order: Order) -> bool:
    return OrderStatus(order.status) == OrderStatus.ON_HOLD


def order_as_dict(
    order: Order,
    *,
    events: list[Event] | None = None,
    parcels: list[ShipmentRow] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": order.number,
        "store": order.store.key,
        "status": OrderStatus(order.status).value,
        "store_status": order.store_status,
        "placed_at": order.placed_at.isoformat(),
        "submit_at": order.submit_at.isoformat() if order.submit_at else None,
        "customer": {"name": order.customer_name, "email": order.customer_email},
        "shipping_address": order.shipping_address,
        "address_check": check_words(order.address_check, order.shipping_address) or None,
        "currency": order.currency,
        "total": str(order.total),
        "shipping": {
            "method_id": order.shipping_method_id,
            "method": order.shipping_method,
            "speed": order.shipping_speed,
            "rush": order.rush,
        },
        "provider": order.provider,
        "provider_order_id": order.provider_order_id,
        "fulfillments": [
            {
                "part": row.seq,
                "provider": row.provider,
                "reference": row.reference,
                "status": row.status,
                "provider_order_id": row.provider_order_id,
                "lines": row.lines,
                "last_error": row.error,
                "old_address": row.old_address or None,
            }
            for row in fulfillment_rows(order)
            if not row.held
        ],
        "problems": list(order.problems),
        "hold_reason": order.hold_reason if _held(order) else None,
        "held_by": order.held_by if _held(order) else None,
        "under_hold": order.held_from if _held(order) else None,
        "cancel_reason": order.cancel_reason,
        "last_error": order.last_error,
        "items": [
            {
                "reference": item.reference,
                "sku": item.sku,
                "name": item.name,
                "product_key": item.product_key,
                "quantity": item.quantity,
                "quantity_shipped": item.quantity_shipped,
                "quantity_returned": item.quantity_returned,
                "personalization": item.personalization,
                "image_urls": item.image_urls,
                "photos": item.photos,
                "print_file": item.print_file,
                "print_files": [
                    {"placement": f.placement, "path": f.path, "sha256": f.sha256}
                    for f in files_of(item)
                ],
                "print_file_revision": item.print_file_revision,
                "print_file_current": item.print_file_current,
                "problems": list(item.problems),
            }
            for item in order.items
        ],
        "shipments": [
            {
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "tracking_url": s.tracking_url,
                "shipped_at": s.shipped_at.isoformat(),
                "lines": {line.line_item.reference: line.quantity for line in s.lines},
            }
            for s in order.shipments
        ],
    }
    if parcels is not None:
        for shipment, parcel in zip(data["shipments"], parcels, strict=True):
            shipment["packing_slip"] = parcel.packing_slip or None
            label = parcel.label
            shipment["label"] = (
                {
                    "carrier": label.carrier,
                    "service": label.service,
                    "price": label.price,
                    "link": label.link or None,
                }
                if label is not None
                else None
            )
    data["returns"] = [
        {
            "reason": r.reason,
            "at": r.created_at.isoformat(),
            "by": r.actor,
            "whole_order": r.whole_order,
            "lines": {line.line_item.reference: line.quantity for line in r.lines},
        }
        for r in order.returns
    ]
    if events is not None:
        data["events"] = [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "channel": e.channel,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "detail": e.detail,
            }
            for e in events
        ]
    return data


def photo_lines(item: LineItem) -> list[str]:
    """`  photo       44 DPI at this size (at least 150 wanted), zoom=2 x=0% y=0%` per
    measured photo of the line: what a crop did to the resolution."""
    lines = []
    for status in photo_statuses(item.photos, item.image_urls):
        if status.fit is None:
            continue
        accepted = " (accepted)" if status.accepted else ""
        lines.append(
            f"  {status.field:<11} {status.dpi} DPI at this size "
            f"(at least {status.fit.min_dpi} wanted){accepted}, {status.crop.text}"
        )
    return lines
