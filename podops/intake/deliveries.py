"""Webhook deliveries: each one is applied once (what identifies its content is
remembered in InboundDelivery), and a deleted order is cancelled like a
cancellation in the shop.

A delivery is identified by its content, not by the sender's delivery id:
WooCommerce builds X-WC-Webhook-Delivery-ID from the webhook id and the current
second, so every delivery of one webhook within a second (a bulk status change,
a bulk trash) shares it. Two deliveries with the same topic and the same bytes
are the same delivery (a replay); anything else is applied.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podops.incoming import IncomingOrder
from podops.intake.passes import store_actor
from podops.models import InboundDelivery, Order, Store, utcnow
from podops.routing import ShopPolicy
from podops.services.receiving import receive_orders

DELETED_STATUS = "trash"


def content_key(topic: str, raw: bytes) -> str:
    """What identifies a delivery: its topic and a digest of the exact bytes sent."""
    digest = hashlib.sha256(topic.encode() + b"\n" + raw).hexdigest()
    return f"sha256:{digest}"


def claim_delivery(session: Session, source: str, delivery_id: str) -> bool:
    """Remember an inbound delivery; False if it was handled before (a replay)."""
    seen = session.scalar(
        select(InboundDelivery.id).where(
            InboundDelivery.source == source, InboundDelivery.delivery_id == delivery_id
        )
    )
    if seen is not None:
        return False
    try:
        with session.begin_nested():
            session.add(InboundDelivery(source=source, delivery_id=delivery_id[:255]))
    except IntegrityError:
        return False
    return True


def receive_deletion(
    session: Session, store: str, external_id: str, policy: ShopPolicy, platform: str
) -> bool:
    """The shop deleted an order: treat it like a cancellation there (if we know it)."""
    order = session.scalar(
        select(Order).join(Store).where(Store.key == store, Order.external_id == external_id)
    )
    if order is None:
        return False
    gone = IncomingOrder(
        store=store,
        external_id=external_id,
        number=order.number,
        placed_at=order.placed_at,
        store_status=DELETED_STATUS,
        modified_at=utcnow(),  # a late retry of an earlier update must not undo it
    )
    result = receive_orders(session, [gone], policy, store_actor(store), platform=platform)
    return bool(result.updated)
