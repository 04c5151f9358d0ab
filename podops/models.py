"""The persistent model: stores, orders, line items, fulfillments, shipments, events,
outbox.

SQLAlchemy 2 typed models. Money is Decimal with its currency; timestamps are
timezone-aware UTC; statuses are stored by value; constraints are named so
Alembic migrations stay stable across SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from podops.fulfillment_status import FulfillmentKind, FulfillmentStatus
from podops.refs import FulfillmentRef, LineRef, OrderRef
from podops.status import FINISHED, NOT_SHIPPED, OrderStatus, status_in

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


POSTGRESQL_ONLY_INDEXES = frozenset(
    {"ix_orders_customer_name_trgm", "ix_orders_customer_email_trgm"}
)
"""Trigram indexes the 0012 migration makes on PostgreSQL when pg_trgm can be installed
(an operator class SQLAlchemy's metadata cannot state portably); `alembic check` skips
them."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: podops stores only aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Numeric(12, 2, asdecimal=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Store(Base):
    """A shop podops pulls orders from; `key` is its name in the config."""

    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    last_synced_at: Mapped[datetime | None]
    sync_cursor: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="store")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("store_id", "number", name="uq_orders_store_number"),
        UniqueConstraint("store_id", "external_id", name="uq_orders_store_external_id"),
        Index("ix_orders_status_submit_at", "status", "submit_at"),
        Index("ix_orders_number", "number"),
        Index("ix_orders_placed_at", "placed_at"),
        # Work that grows with open orders, not history (bench/scale.py): the not-shipped
        # list and the daily summary walk only open orders, newest or oldest first; the
        # sheet finds recently finished orders by when they finished.
        Index(
            "ix_orders_open_placed_at",
            "placed_at",
            "id",
            postgresql_where=text(status_in(NOT_SHIPPED)),
            sqlite_where=text(status_in(NOT_SHIPPED)),
        ),
        Index(
            "ix_orders_finished_updated_at",
            "updated_at",
            postgresql_where=text(status_in(FINISHED)),
            sqlite_where=text(status_in(FINISHED)),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    number: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[OrderStatus] = mapped_column(
        Enum(
            OrderStatus,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        )
    )
    store_status: Mapped[str | None] = mapped_column(String(32))
    store_modified_at: Mapped[datetime | None]
    placed_at: Mapped[datetime]
    submit_at: Mapped[datetime | None]
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_email: Mapped[str] = mapped_column(String(320), default="")
    customer_phone: Mapped[str] = mapped_column(String(64), default="")
    shipping_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    store_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The shipping address as the shop last sent it, once staff changed ours (None:
    `shipping_address` is the shop's): a later poll then tells a change made in the
    shop from the old address coming again (`services.address`)."""
    address_check: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The last address verification: which address (digest), its state (verified,
    failed, unavailable, accepted), the carrier's reason, tries (`fulfillment.address_check`)."""
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    shipping_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    shipping_method_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    shipping_method: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """The store's shipping line as the customer chose it (its title; the id above)."""
    shipping_speed: Mapped[str | None] = mapped_column(String(32))
    """The speed the store's table maps it to, or staff set (`podops.speeds`); None: no
    table maps the store's method (the order waits for a person)."""
    rush: Mapped[bool] = mapped_column(default=False, server_default="0")
    """Its speed has its own countdown (a rush speed): flagged on every card and row."""
    problems: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    hold_reason: Mapped[str | None] = mapped_column(Text)
    """Why the order is held (set only while it is on_hold)."""
    held_by: Mapped[str | None] = mapped_column(String(128))
    """Who held it: a person, the shop (its store status), or intake at receipt."""
    held_at: Mapped[datetime | None]
    held_from: Mapped[str | None] = mapped_column(String(32))
    """The status under the hold: where release returns the order. Design steps on a
    held order move this (pending <-> needs_design), never the hold (status.UNDER_HOLD)."""
    hold_remaining_s: Mapped[int | None] = mapped_column(Integer)
    """Countdown seconds left when held; release restarts the countdown with them."""
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    alert_ref: Mapped[str | None] = mapped_column(String(128))
    shipped_at: Mapped[datetime | None]
    """When the order's last unit left (its fulfillments keep their own times)."""
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    store: Mapped[Store] = relationship(back_populates="orders")
    items: Mapped[list[LineItem]] = relationship(
        back_populates="order", order_by="LineItem.position", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", order_by="Shipment.id", cascade="all, delete-orphan"
    )
    returns: Mapped[list[Return]] = relationship(
        back_populates="order", order_by="Return.id", cascade="all, delete-orphan"
    )
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        back_populates="order",
        order_by="Fulfillment.seq",
        cascade="all, delete-orphan",
        lazy="selectin",  # the order's provider, reference and errors read them
    )

    __mapper_args__ = {"version_id_col": version}

    # Read-only views of the fulfillments: the submission state lives there alone.

    @property
    def parts(self) -> list[Fulfillment]:
        """The fulfillments of the order's own lines that are not cancelled."""
        return [
            f
            for f in self.fulfillments
            if f.kind == FulfillmentKind.ORDER and f.status != FulfillmentStatus.CANCELLED
        ]

    @property
    def provider(self) -> str | None:
        """Where the order went (`cc`, or `cc, so` for a split order); before its
        fulfillments exist, where its routed lines go."""
        sent = self.parts or [f for f in self.fulfillments if f.kind == FulfillmentKind.ORDER]
        names = [f.provider for f in sent] or [i.provider for i in self.items if i.provider]
        return ", ".join(dict.fromkeys(names)) or None

    @property
    def provider_order_id(self) -> str | None:
        """The providers' order ids of its fulfillments (comma-separated)."""
        ids = [f.provider_order_id for f in self.fulfillments if f.provider_order_id]
        return ", ".join(ids) or None

    @property
    def last_error(self) -> str | None:
        """The last error of each live fulfillment that has one (naming the part when
        split); a fulfillment cancelled for another (out of stock) keeps its own."""
        failed = [
            f for f in self.fulfillments if f.last_error and f.status != FulfillmentStatus.CANCELLED
        ]
        if not failed:
            return None
        if len(self.fulfillments) == 1:
            return failed[0].last_error
        return "; ".join(f"{f.label}: {f.last_error}" for f in failed)

    @property
    def label(self) -> str:
        return f"order {self.number}"

    @property
    def quantity_total(self) -> int:
        return sum(item.quantity for item in self.items)

    @property
    def quantity_shipped(self) -> int:
        return sum(item.quantity_shipped for item in self.items)

    @property
    def quantity_returned(self) -> int:
        return sum(item.quantity_returned for item in self.items)


class LineItem(Base):
    __tablename__ = "line_items"
    __table_args__ = (
        UniqueConstraint("order_id", "position", name="uq_line_items_order_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    external_id: Mapped[str] = mapped_column(String(64), default="")
    sku: Mapped[str] = mapped_column(String(128), default="")
    name: Mapped[str] = mapped_column(String(300), default="")
    product_key: Mapped[str] = mapped_column(String(128), default="")
    provider_sku: Mapped[str | None] = mapped_column(String(128))
    provider: Mapped[str | None] = mapped_column(String(64))
    """Where routing sends the line; None: no rule matched its SKU, so it stays here
    (held, with the reason in its problems) while the order's other lines go."""
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_shipped: Mapped[int] = mapped_column(Integer, default=0)
    quantity_returned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Units of it that came back (`services.returns`); never more than shipped."""
    unit_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    personalization: Mapped[dict[str, Any]] = mapped_column(default=dict)
    image_urls: Mapped[dict[str, Any]] = mapped_column(default=dict)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    print_file: Mapped[str | None] = mapped_column(Text)
    print_file_sha256: Mapped[str | None] = mapped_column(String(64))
    print_file_revision: Mapped[int] = mapped_column(Integer, default=0)
    print_file_revisions_claimed: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    """The highest revision number a render of the line was given, recorded or not
    (`services.designs.claim_revision`): no two renders share one, on any host."""
    print_file_current: Mapped[bool] = mapped_column(default=False)
    placed_files: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    """Every print file of the current revision when the template has named placements
    (`[{"placement", "path", "sha256", "preview"}]`, the first being `print_file`);
    empty: the one `print_file`, at the front (`podops.placed_files`)."""
    refused_design_sha256: Mapped[str | None] = mapped_column(String(64))
    """Fingerprint of the design the renderer last refused; not retried until it changes."""
    preview_file: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    """Per image field: staff's crop, the fit the last render measured and an accepted
    low resolution (`podops.photos`; written by `podops.services.photos`)."""

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def reference(self) -> str:
        """The order-line reference staff type in the sheet: `10001-01`."""
        return LineRef(OrderRef.any_store(self.order.number), self.position).label

    @property
    def quantity_open(self) -> int:
        return self.quantity - self.quantity_shipped


class Fulfillment(Base):
    """What one provider makes of an order: its lines and quantities, sent once under
    its own reference, with its own claim, status and tracking (see
    `podops.fulfillment_status`). The first fulfillment of an order is sent as the
    order's reference (`main-1234`), later ones as `FulfillmentRef` says."""

    __tablename__ = "fulfillments"
    __table_args__ = (
        UniqueConstraint("order_id", "seq", name="uq_fulfillments_order_seq"),
        Index("ix_fulfillments_status", "status"),
        Index("ix_fulfillments_last_polled_at", "last_polled_at"),
        Index(
            "ix_fulfillments_remakes_created_at",
            "created_at",
            postgresql_where=text("kind = 'remake'"),
            sqlite_where=text("kind = 'remake'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    """1, 2, ... within the order; the first keeps the order's own reference."""
    kind: Mapped[FulfillmentKind] = mapped_column(
        Enum(
            FulfillmentKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        ),
        default=FulfillmentKind.ORDER,
    )
    status: Mapped[FulfillmentStatus] = mapped_column(
        Enum(
            FulfillmentStatus,
            native_enum=False,
            length=32,
            values_callable=lambda e: [m.value for m in e],
            validate_strings=True,
        )
    )
    provider: Mapped[str] = mapped_column(String(64))
    provider_order_id: Mapped[str | None] = mapped_column(String(128))
    provider_status: Mapped[str | None] = mapped_column(String(64))
    submit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    """Who holds the `submitting` claim; a worker calls the provider only while it matches."""
    claimed_at: Mapped[datetime | None]
    """When the claim was last confirmed; older than the stuck threshold means abandoned."""
    last_polled_at: Mapped[datetime | None]
    """When tracking was last asked for; polling takes the longest-unasked first."""
    last_error: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    remake_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="SET NULL")
    )
    reason: Mapped[str | None] = mapped_column(Text)
    """Why a remake was made (misprint, damaged in transit, lost, customer error)."""
    paid_by: Mapped[str | None] = mapped_column(String(16))
    """Who pays a remake: provider, carrier or shop."""
    cost: Mapped[Decimal | None] = mapped_column(Money)
    """What the provider charges for it, as it reported (at submission or in a status
    answer); None: it reported no charge (a report shows the margin as unknown)."""
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The address this part's provider has when it is not the order's: a split order's
    address change that another provider took, this one refused or could not be reached
    for (None: the order's address). Running the same change again sends it here only."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    order: Mapped[Order] = relationship(back_populates="fulfillments")
    lines: Mapped[list[FulfillmentLine]] = relationship(
        back_populates="fulfillment", cascade="all, delete-orphan", order_by="FulfillmentLine.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def ref(self) -> FulfillmentRef:
        return FulfillmentRef(OrderRef.of(self.order), self.seq)

    @property
    def reference(self) -> str:
        """Our reference at the provider: `main-1234` for the first, see `FulfillmentRef`."""
        return self.ref.provider

    @property
    def label(self) -> str:
        """`part 2` as staff read it beside the order."""
        return f"part {self.seq}"

    @property
    def address(self) -> dict[str, Any]:
        """The address this part ships to: its own when its provider kept an older one,
        else the order's."""
        if self.shipping_address is not None:
            return dict(self.shipping_address)
        return dict(self.order.shipping_address)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class FulfillmentLine(Base):
    """How many units of one order line a fulfillment makes."""

    __tablename__ = "fulfillment_lines"
    __table_args__ = (
        UniqueConstraint("fulfillment_id", "line_item_id", name="uq_fulfillment_lines_line"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fulfillment_id: Mapped[int] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="CASCADE"), index=True
    )
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)
    provider_sku: Mapped[str | None] = mapped_column(String(128))
    """The SKU this fulfillment's provider is sent (a fallback rule may name another)."""

    fulfillment: Mapped[Fulfillment] = relationship(back_populates="lines")
    line_item: Mapped[LineItem] = relationship()


class Shipment(Base):
    """A parcel: carrier, tracking number and which quantities of which lines it holds."""

    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("order_id", "carrier", "tracking_number", name="uq_shipments_tracking"),
        Index("ix_shipments_tracking_number", "tracking_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str] = mapped_column(String(128))
    tracking_url: Mapped[str] = mapped_column(Text, default="")
    shipped_at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    fulfillment_id: Mapped[int | None] = mapped_column(
        ForeignKey("fulfillments.id", ondelete="SET NULL")
    )
    """The fulfillment whose provider reported the parcel (None: staff recorded it)."""
    delivery_status: Mapped[str | None] = mapped_column(String(32))
    """The carrier's last word on the parcel (a label's tracker: in_transit, delivered...)."""
    delivered_at: Mapped[datetime | None]
    """When the carrier delivered it (a label's tracker said so): the reports' delivered."""

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan"
    )


class Label(Base):
    """A shipping label bought (or being bought) for one parcel of an order.

    The row exists before anything is bought, and holds the label service's shipment
    id as soon as there is one, so a lost answer is looked up instead of bought again.
    While a label is being bought `open_order_id` holds its order's id; the unique
    index on it lets only one label of an order be in flight (two staff pressing
    "buy" at once get one label). Bought, failed and voided labels set it to NULL."""

    __tablename__ = "labels"
    __table_args__ = (
        Index("uq_labels_open_order_id", "open_order_id", unique=True),
        Index("ix_labels_service_shipment_id", "service_shipment_id"),
        Index("ix_labels_bought_at", "bought_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    open_order_id: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    """claimed, created (shipment made, rates known), buying, bought, failed, voided."""
    token: Mapped[str] = mapped_column(String(32))
    requested_by: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    lines: Mapped[list[Any]] = mapped_column(default=list)
    """[[line_item_id, quantity], ...]: what the parcel holds."""
    rate_rule: Mapped[str] = mapped_column(String(64), default="")
    service_shipment_id: Mapped[str | None] = mapped_column(String(64))
    rate_id: Mapped[str | None] = mapped_column(String(64))
    carrier: Mapped[str] = mapped_column(String(64), default="")
    service: Mapped[str] = mapped_column(String(64), default="")
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    tracker_id: Mapped[str | None] = mapped_column(String(64))
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """File format ("pdf", "png", "zpl") -> path of the stored label."""
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    bought_at: Mapped[datetime | None]
    voided_at: Mapped[datetime | None]
    refund_status: Mapped[str | None] = mapped_column(String(32))

    order: Mapped[Order] = relationship()


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipments.id", ondelete="CASCADE"), index=True
    )
    line_item_id: Mapped[int] = mapped_column(ForeignKey("line_items.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    line_item: Mapped[LineItem] = relationship()


class Return(Base):
    """Goods that came back from the customer: which units of which lines, why, who
    recorded it. Apart from remakes (`Fulfillment` of kind remake): a return makes
    nothing again."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    whole_order: Mapped[bool] = mapped_column(default=False)
    """The return took the order's last units: it moved to `returned`."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    order: Mapped[Order] = relationship(back_populates="returns")
    lines: Mapped[list[ReturnLine]] = relationship(
        back_populates="returned", cascade="all, delete-orphan", order_by="ReturnLine.id"
    )


class ReturnLine(Base):
    """How many units of one order line a return brought back."""

    __tablename__ = "return_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    line_item_id: Mapped[int] = mapped_column(
        ForeignKey("line_items.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int] = mapped_column(Integer)

    returned: Mapped[Return] = relationship(back_populates="lines")
    line_item: Mapped[LineItem] = relationship()


class Event(Base):
    """Append-only audit log: who did what to which order, when, from where."""

    __tablename__ = "events"
    __table_args__ = (
        Index(
            "ix_events_sheet_notes",
            "order_id",
            postgresql_where=text("action = 'sheet_note'"),
            sqlite_where=text("action = 'sheet_note'"),
        ),
        # A report reads the few quality events of its period's orders from here
        # (`podops.reporting.frames`), not every event of the period.
        Index("ix_events_action_order_id", "action", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxMessage(Base):
    """A side effect (store push, Slack message, ...) written in the same
    transaction as the change that caused it, delivered after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(64))
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InboundDelivery(Base):
    """Webhook and Slack deliveries already handled, so a retry is not applied twice."""

    __tablename__ = "inbound_deliveries"
    __table_args__ = (UniqueConstraint("source", "delivery_id", name="uq_inbound_deliveries_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncState(Base):
    """Small named state that jobs keep between runs (cursors, sheet snapshots)."""

    __tablename__ = "sync_state"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class JobLease(Base):
    """Who runs a singleton job now; the SQLite stand-in for an advisory lock."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]


class ProductVariant(Base):
    """One row of the Products table (a CSV file or the sheet's Products tab): a SKU
    routed to a provider's own product code and our template, before the config's
    routing rules. A row with a `problem` is kept to show staff why; it routes nothing."""

    __tablename__ = "product_variants"
    __table_args__ = (Index("ix_product_variants_sku", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    """Where the row was typed: `csv` or `sheet`."""
    row: Mapped[int]
    """Its row number there (the header is row 1), so staff find it."""
    sku: Mapped[str] = mapped_column(String(255))
    provider: Mapped[str] = mapped_column(String(64))
    provider_sku: Mapped[str] = mapped_column(String(255))
    product_key: Mapped[str] = mapped_column(String(128))
    countries: Mapped[list[Any]] = mapped_column(default=list)
    problem: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    """A warning that does not stop the row (its provider's catalog could not be asked)."""


class LimitBucket(Base):
    """One shared rate limit (a provider, a Slack channel, the sheet's quota) on
    PostgreSQL, kept by `podops.shared_limits`: times are the database's clock in
    epoch seconds, so hosts whose clocks differ still share one pace."""

    __tablename__ = "limit_buckets"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    tat: Mapped[float] = mapped_column(Double)
    """When the bucket is empty again (GCRA's theoretical arrival time)."""
    blocked_until: Mapped[float] = mapped_column(Double)
    """Nothing before this moment: the outside system answered 429 with retry-after."""
    start: Mapped[float] = mapped_column(Double)
    """The turn the last caller was given (or would have been, when refused)."""
    updated_at: Mapped[float] = mapped_column(Double)


class LimitSlot(Base):
    """One of a provider's concurrency slots, shared by every process on PostgreSQL;
    a slot whose holder died is free again when its lease expires."""

    __tablename__ = "limit_slots"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[float] = mapped_column(Double)
