"""Orders shaped like the WooCommerce REST API v3 examples, for the fake shop and tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def gmt(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def sample_order(
    order_id: int,
    *,
    status: str = "processing",
    created: datetime | None = None,
    modified: datetime | None = None,
    sku: str = "TEE-BLK-M",
    meta: list[dict[str, Any]] | None = None,
    shipping: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An order shaped like the `GET /orders/<id>` example in the WooCommerce docs."""
    created = created or datetime.now(UTC)
    billing = {
        "first_name": "Zoë",
        "last_name": "Müller",
        "company": "",
        "address_1": "9 Rue de la Paix",
        "address_2": "",
        "city": "Paris",
        "state": "",
        "postcode": "75002",
        "country": "FR",
        "email": f"zoe{order_id}@example.com",
        "phone": "+33 1 23 45 67 89",
    }
    ship = {k: v for k, v in billing.items() if k != "email"} if shipping is None else shipping
    meta_data = (
        meta
        if meta is not None
        else [
            {"id": 1, "key": "Name", "value": "Zoë", "display_key": "Name", "display_value": "Zoë"},
            {
                "id": 2,
                "key": "_reduced_stock",
                "value": "1",
                "display_key": "_reduced_stock",
                "display_value": "1",
            },
        ]
    )
    return {
        "id": order_id,
        "parent_id": 0,
        "number": str(order_id),
        "order_key": f"wc_order_{order_id}",
        "created_via": "checkout",
        "version": "8.9.0",
        "status": status,
        "currency": "EUR",
        "date_created": gmt(created),
        "date_created_gmt": gmt(created),
        "date_modified": gmt(modified or created),
        "date_modified_gmt": gmt(modified or created),
        "discount_total": "0.00",
        "discount_tax": "0.00",
        "shipping_total": "4.90",
        "shipping_tax": "0.00",
        "cart_tax": "0.00",
        "total": "43.90",
        "total_tax": "0.00",
        "prices_include_tax": False,
        "customer_id": 0,
        "customer_ip_address": "",
        "customer_user_agent": "",
        "customer_note": "",
        "billing": billing,
        "shipping": ship,
        "payment_method": "bacs",
        "payment_method_title": "Direct Bank Transfer",
        "transaction_id": "",
        "date_paid": None,
        "date_paid_gmt": None,
        "date_completed": None,
        "date_completed_gmt": None,
        "cart_hash": "",
        "meta_data": [],
        "line_items": [
            {
                "id": order_id * 10 + 1,
                "name": "Custom Tee - Black, M",
                "product_id": 93,
                "variation_id": 0,
                "quantity": 2,
                "tax_class": "",
                "subtotal": "39.00",
                "subtotal_tax": "0.00",
                "total": "39.00",
                "total_tax": "0.00",
                "taxes": [],
                "meta_data": meta_data,
                "sku": sku,
                "price": 19.5,
            }
        ],
        "tax_lines": [],
        "shipping_lines": [],
        "fee_lines": [],
        "coupon_lines": [],
        "refunds": [],
        "_links": {"self": [{"href": f"/wp-json/wc/v3/orders/{order_id}"}]},
    }


def refund_line(line_id: int, item: dict[str, Any], quantity: int) -> dict[str, Any]:
    """A refund's line as WooCommerce lists it: negative amounts and quantity, and the
    refunded order line's id in the `_refunded_item_id` meta."""
    each = Decimal(item["subtotal"]) / int(item["quantity"])
    total = f"{-each * quantity:.2f}"
    return {
        "id": line_id, "name": item["name"],
        "product_id": item["product_id"], "variation_id": item["variation_id"],
        "quantity": -quantity, "tax_class": "", "subtotal": total, "subtotal_tax": "0.00",
        "total": total, "total_tax": "0.00", "taxes": [],
        "meta_data": [{"id": line_id, "key": "_refunded_item_id", "value": str(item["id"])}],
        "sku": item["sku"], "price": float(-each),
    }  # fmt: skip
