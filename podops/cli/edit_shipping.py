"""`podops edit N shipping=SPEED`: the speed an order ships at, set by staff.

`shipping` is a reserved name in `podops edit` (not a personalization field):
the speed must be one of the order's store table (`stores.NAME.shipping`); an
unknown one is refused with the known ones listed. The countdown moves to the
new speed's rule (see docs/shipping.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podops import reports, services
from podops.cli.args import order_label
from podops.cli.styled import styled
from podops.speeds import speed_words
from podops.status import OrderStatus

if TYPE_CHECKING:
    from podops.events import Actor
    from podops.runtime.root import Runtime

SHIPPING_FIELD = "shipping"
"""The name `podops edit` reads as the shipping speed, never as a personalization field."""


def set_speed(rt: Runtime, reference: str, wanted: str, actor: Actor) -> None:
    """Set the order's speed and say where that leaves it (refusals raise, in words)."""
    from podops.cli.main import out

    with rt.db.unit_of_work() as session:
        changed = services.set_shipping_speed(session, reference, wanted, actor, rt.policy)
        order = services.get_order(session, reference)
        label = order.label
        ships = speed_words(order.shipping_speed, order.shipping_method_id, order.shipping_method)
        rush = " RUSH" if order.rush else ""
        status, when = OrderStatus(order.status), reports.countdown(order)
    if not changed:
        out.print(f"Nothing changed: {label} already ships {ships}{rush}.", markup=False)
        return
    submits = f", submits {when}" if when else ""
    out.print(
        styled(
            "{} ships {}{} now; it is [bold]{}[/bold]{}.",
            order_label(label),
            ships,
            rush,
            status.label,
            submits,
        )
    )
