"""Who acted, from where, and the audit event every change writes.

`EventName` lists every event podops writes; the stored value is the plain
string (`"hold"`, `"sheet_note"`), so rows written before the enum read the
same. A lifecycle step is written under its `Action`'s name
(`EventName.of(Action.HOLD)`). An event built in more than one place has one
factory here, so its detail has one shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from podops.models import Event, Order
from podops.status import Action


class Channel(StrEnum):
    SLACK = "slack"
    SHEET = "sheet"
    CLI = "cli"
    SYSTEM = "system"
    STORE = "store"
    PROVIDER = "provider"
    CSV = "csv"


class EventName(StrEnum):
    """What an audit event records; `Event.action` holds the value."""

    # Lifecycle steps: one per `Action`, the same word.
    QUEUE = "queue"
    HOLD = "hold"
    RELEASE = "release"
    RELEASE_TO_DESIGN = "release_to_design"
    FLAG_DESIGN = "flag_design"
    DESIGN_READY = "design_ready"
    BEGIN_SUBMIT = "begin_submit"
    SUBMIT_OK = "submit_ok"
    SUBMIT_FAIL = "submit_fail"
    RETRY = "retry"
    START_PRODUCTION = "start_production"
    SHIP_PART = "ship_part"
    SHIP_ALL = "ship_all"
    COMPLETE = "complete"
    CANCEL = "cancel"
    REQUEST_CANCEL = "request_cancel"
    CONFIRM_CANCEL = "confirm_cancel"
    REFUSE_CANCEL = "refuse_cancel"
    RETURN = "return"
    FULFILLED_BY_SHOP = "fulfilled_by_shop"
    UNSHIP_PART = "unship_part"
    UNSHIP_ALL = "unship_all"
    # Intake and the shop.
    RECEIVE = "receive"
    STORE_STATUS = "store_status"
    STORE_CANCELLED_AFTER_SUBMISSION = "store_cancelled_after_submission"
    STORE_HELD_AFTER_SUBMISSION = "store_held_after_submission"
    STORE_REFUND = "store_refund"
    STORE_REFUNDED_AFTER_SUBMISSION = "store_refunded_after_submission"
    STORE_ITEMS_CHANGED = "store_items_changed"
    STORE_REFUNDS_UNREAD = "store_refunds_unread"
    """The shop lists refunds podops could not read, on an order it does not hold for it."""
    STORE_PUSH = "store_push"
    # Designs and print files.
    EDIT_PERSONALIZATION = "edit_personalization"
    RENDER = "render"
    RENDER_REFUSED = "render_refused"
    RENDER_FAILED = "render_failed"
    """Rendered, but the storage did not take the file: nothing recorded, retried."""
    DESIGN_REPLACED = "design_replaced"
    PHOTO_CROP = "photo_crop"
    PHOTO_ACCEPTED = "photo_accepted"
    PHOTO_LOW_DPI = "photo_low_dpi"
    # Submission and the provider.
    SUBMIT_BLOCKED = "submit_blocked"
    SUBMIT_UNBLOCKED = "submit_unblocked"
    READY_TO_DOWNLOAD = "ready_to_download"
    FOUND_AT_PROVIDER = "found_at_provider"
    PROVIDER_STATUS_UNKNOWN = "provider_status_unknown"
    PROVIDER_HAS_OLD_DESIGN = "provider_has_old_design"
    TRACKING_REJECTED = "tracking_rejected"
    # Shipping addresses (podops.address, services.address).
    EDIT_ADDRESS = "edit_address"
    STORE_ADDRESS = "store_address"
    ADDRESS_CHANGE_REFUSED = "address_change_refused"
    ADDRESS_VERIFIED = "address_verified"
    ADDRESS_CHECK_FAILED = "address_check_failed"
    ADDRESS_CHECK_DELAYED = "address_check_delayed"
    ADDRESS_ACCEPTED = "address_accepted"
    OUT_OF_STOCK_FALLBACK = "out_of_stock_fallback"
    PARTLY_CANCELLED = "partly_cancelled"
    ROUTED_AGAIN = "routed_again"
    # Remakes: lines made again after the order shipped.
    REMAKE = "remake"
    REMAKE_SHIPPED = "remake_shipped"
    # Shipping labels (podops.labels).
    LABEL_BOUGHT = "label_bought"
    LABEL_REFUSED = "label_refused"
    PARCEL_DELIVERED = "parcel_delivered"
    # Returns: goods that came back (the whole order is RETURN, a lifecycle step).
    RETURN_LINES = "return_lines"
    # Staff bookkeeping.
    HOLD_REASON = "hold_reason"
    SHIPPING_SPEED = "shipping_speed"
    SHEET_NOTE = "sheet_note"
    OUTBOX_RETRY = "outbox_retry"

    @classmethod
    def of(cls, action: Action) -> EventName:
        """The event a lifecycle step writes."""
        return cls(action.value)


@dataclass(frozen=True, slots=True)
class Actor:
    """A person or process, named the way staff recognise it (`slack:U123 (maria)`)."""

    name: str
    channel: Channel

    @classmethod
    def system(cls, job: str = "scheduler") -> Actor:
        return cls(job, Channel.SYSTEM)

    def __str__(self) -> str:
        return f"{self.name} via {self.channel.value}"


def record(
    session: Session,
    order: Order | None,
    actor: Actor,
    action: EventName,
    *,
    before: str | None = None,
    after: str | None = None,
    **detail: Any,
) -> Event:
    """Add one audit event; details that are None are left out."""
    event = Event(
        order_id=order.id if order is not None else None,
        actor=actor.name,
        channel=actor.channel.value,
        action=EventName(action).value,
        from_status=before,
        to_status=after,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    session.add(event)
    return event


def edit_personalization(
    session: Session,
    order: Order,
    actor: Actor,
    *,
    line: str,
    old: dict[str, Any],
    new: dict[str, Any],
    after_submission: str | None = None,
) -> Event:
    """Staff changed a line's personalization (`after_submission`: the provider that
    took the new design of an order it already had)."""
    return record(
        session,
        order,
        actor,
        EventName.EDIT_PERSONALIZATION,
        line=line,
        old=old,
        new=new,
        after_submission=after_submission,
    )


def design_replaced(
    session: Session,
    order: Order,
    actor: Actor,
    *,
    provider: str,
    files: list[str],
    provider_status: str | None = None,
) -> Event:
    """A provider that already had the order took new print files."""
    return record(
        session,
        order,
        actor,
        EventName.DESIGN_REPLACED,
        provider=provider,
        provider_status=provider_status,
        files=files,
    )
