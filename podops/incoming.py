"""The shape in which stores and CSV files hand new orders to the core.

Store adapters map their own JSON onto these; the core validates and flags
rather than drops (an order with a problem is imported and marked).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(slots=True)
class IncomingLineItem:
    external_id: str
    sku: str
    name: str
    quantity: int
    unit_price: Decimal = Decimal("0.00")
    personalization: dict[str, str] = field(default_factory=dict)
    image_urls: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


@dataclass(slots=True)
class IncomingOrder:
    store: str
    external_id: str
    number: str
    placed_at: datetime
    store_status: str = "processing"
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    shipping_address: dict[str, Any] = field(default_factory=dict)
    currency: str = "USD"
    total: Decimal = Decimal("0.00")
    shipping_total: Decimal = Decimal("0.00")
    note: str = ""
    items: list[IncomingLineItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    needs_design: bool = False
    """True for outside orders (marketplace, phone) that arrive without a design."""
    modified_at: datetime | None = None
    """When the store last changed the order: a delivery older than one already
    applied (webhook retries arrive out of order) is ignored."""
