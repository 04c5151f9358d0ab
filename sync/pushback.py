"""Push-back: the outbox handlers that tell the shop what became of its orders.

`Topic.STORE_STATUS` sets the shop's order status (completed, cancelled);
`Topic.STORE_TRACKING` attaches a parcel's tracking; `Topic.STORE_RETURN` tells a
shop that takes it (`ReturnNotes`) that goods came back, and records "nothing to push"
for the others. Delivery is at least
once; the store adapters look before they write, so a repeat is harmless.
"completed" waits until every tracking of the order reached the store (the
customer's completion e-mail then carries it): a tracking still retrying or
parked holds it back (`Deferred`: retried without ever being parked for
waiting), and a tracking delivered makes a held completion due at once. Once
the shop accepts "completed", our order is completed too (audited as the
store). A shop that is down raises a retryable StoreError: the outbox backs
off and tries again. The drain job runs every few seconds.

Each push follows the outbox's three steps: the order is read in a short
transaction, the shop is called with none open (a slow shop holds up no webhook
or Slack command), and the result is audited in the transaction that marks
the message delivered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from podops.errors import ConfigError, StoreError, StoreHoldsOrder
from podops.intake.pushback import (
    completion_may_go,
    completion_waits_for,
    record_push,
    status_pushed,
)
from podops.jobs import JobSpec
from podops.models import Order, Return, Shipment
from podops.outbox import (
    Deferred,
    DrainReport,
    Envelope,
    Handler,
    OutboxDispatcher,
    Progress,
    Topic,
)
from podops.ports.store import (
    PushResult,
    ReturnNotes,
    ReturnNotice,
    StoreClient,
    TrackingPush,
)

if TYPE_CHECKING:
    from podops.ports.context import Stores

STORE_TOPICS = [Topic.STORE_STATUS, Topic.STORE_TRACKING, Topic.STORE_RETURN]
DRAIN_EVERY_S = 5
BATCH = 200


class ClientFor(Protocol):
    """Stores.store_client: a store's adapter by name (and its row's platform)."""

    def __call__(self, name: str, *, stored_platform: str | None = None) -> StoreClient: ...


@dataclass(frozen=True, slots=True)
class ShopOrder:
    """An order as its shop knows it, read when the message is prepared."""

    order_id: int
    store: str
    platform: str
    external_id: str

    @classmethod
    def of(cls, order: Order) -> ShopOrder:
        return cls(order.id, order.store.key, order.store.platform, order.external_id)


@dataclass(frozen=True, slots=True)
class StatusPlan:
    order: ShopOrder
    status: str


@dataclass(frozen=True, slots=True)
class TrackingPlan:
    order: ShopOrder
    parcel: TrackingPush
    message_id: int


class StorePush:
    """The store topics' handlers, given a way to find each store's client."""

    def __init__(self, client_for: ClientFor) -> None:
        self.client_for = client_for
        self.unreachable: dict[str, str] = {}
        """Stores that failed retryably in this drain: their other messages wait,
        instead of each paying the client's full retries against a shop that is down
        (not after a StoreHoldsOrder: that shop answered; it holds that one order)."""

    def handlers(self) -> dict[str, Handler[Any, Any]]:
        return {
            Topic.STORE_STATUS: StatusPush(self),
            Topic.STORE_TRACKING: ParcelPush(self),
            Topic.STORE_RETURN: ReturnPush(self),
        }

    def push(self, order: ShopOrder, call: Callable[[StoreClient], PushResult]) -> PushResult:
        if order.store in self.unreachable:
            raise StoreError(self.unreachable[order.store], retryable=True)
        try:
            return call(self._client(order))
        except StoreError as exc:
            if exc.retryable and not isinstance(exc, StoreHoldsOrder):
                self.unreachable[order.store] = exc.message
            raise

    def _client(self, order: ShopOrder) -> StoreClient:
        try:
            return self.client_for(order.store, stored_platform=order.platform)
        except ConfigError as exc:
            raise StoreError(
                f"cannot push to store {order.store!r}: {exc}", retryable=False
            ) from exc


class StatusPush:
    """`Topic.STORE_STATUS`: the shop's order status; "completed" completes ours."""

    def __init__(self, shops: StorePush) -> None:
        self.shops = shops

    def prepare(self, session: Session, message: Envelope) -> StatusPlan | None:
        order = session.get(Order, message.payload["order_id"])
        if order is None:
            return None
        status = str(message.payload["status"])
        if status == "completed":
            waiting = completion_waits_for(session, order)
            if waiting is not None:
                raise Deferred(waiting)
        return StatusPlan(ShopOrder.of(order), status)

    def send(self, plan: StatusPlan, progress: Progress) -> PushResult:
        external_id = plan.order.external_id
        return self.shops.push(plan.order, lambda shop: shop.push_status(external_id, plan.status))

    def record(self, session: Session, plan: StatusPlan, result: PushResult) -> None:
        order = session.get(Order, plan.order.order_id)
        if order is not None:
            status_pushed(session, order, plan.status, result)


class ParcelPush:
    """`Topic.STORE_TRACKING`: one parcel's tracking on the shop's order."""

    def __init__(self, shops: StorePush) -> None:
        self.shops = shops

    def prepare(self, session: Session, message: Envelope) -> TrackingPlan | None:
        order = session.get(Order, message.payload["order_id"])
        shipment = session.get(Shipment, message.payload["shipment_id"])
        if order is None or shipment is None:
            return None
        parcel = TrackingPush(
            carrier=shipment.carrier,
            number=shipment.tracking_number,
            url=shipment.tracking_url,
            shipped_at=shipment.shipped_at,
            lines=tuple(
                (line.line_item.external_id, line.quantity)
                for line in shipment.lines
                if line.line_item.external_id
            ),
        )
        return TrackingPlan(ShopOrder.of(order), parcel, message.id)

    def send(self, plan: TrackingPlan, progress: Progress) -> PushResult:
        external_id, parcel = plan.order.external_id, plan.parcel
        return self.shops.push(plan.order, lambda shop: shop.push_tracking(external_id, parcel))

    def record(self, session: Session, plan: TrackingPlan, result: PushResult) -> None:
        order = session.get(Order, plan.order.order_id)
        if order is not None:
            what = f"tracking {plan.parcel.carrier} {plan.parcel.number}"
            record_push(session, order, what, result)
            completion_may_go(session, order.id, delivered=plan.message_id)


@dataclass(frozen=True, slots=True)
class ReturnPlan:
    order: ShopOrder
    notice: ReturnNotice


class ReturnPush:
    """`Topic.STORE_RETURN`: goods came back; a shop without returns is told nothing."""

    def __init__(self, shops: StorePush) -> None:
        self.shops = shops

    def prepare(self, session: Session, message: Envelope) -> ReturnPlan | None:
        order = session.get(Order, message.payload["order_id"])
        record = session.get(Return, message.payload["return_id"])
        if order is None or record is None:
            return None
        lines = tuple((line.line_item.reference, line.quantity) for line in record.lines)
        notice = ReturnNotice(f"return {record.id}", record.reason, lines, record.whole_order)
        return ReturnPlan(ShopOrder.of(order), notice)

    def send(self, plan: ReturnPlan, progress: Progress) -> PushResult:
        external_id, notice = plan.order.external_id, plan.notice

        def tell(shop: StoreClient) -> PushResult:
            if not isinstance(shop, ReturnNotes):
                return PushResult.NOTHING_TO_PUSH
            return shop.push_return(external_id, notice)

        return self.shops.push(plan.order, tell)

    def record(self, session: Session, plan: ReturnPlan, result: PushResult) -> None:
        order = session.get(Order, plan.order.order_id)
        if order is not None:
            detail = (
                {}
                if result != PushResult.NOTHING_TO_PUSH
                else {"why": f"{plan.order.platform} stores take no returns from podops"}
            )
            record_push(session, order, plan.notice.key, result, **detail)


def drain(runtime: Stores, *, rounds: int = 20) -> DrainReport:
    """Deliver every due store message (in batches), and say what happened."""
    dispatcher = OutboxDispatcher(runtime.db, StorePush(runtime.store_client).handlers())
    total = DrainReport()
    for _ in range(rounds):
        report = dispatcher.drain(limit=BATCH, topics=STORE_TOPICS)
        total.delivered += report.delivered
        total.retried += report.retried
        total.dead += report.dead
        if report.delivered + report.retried + report.dead < BATCH:
            break
    return total


def jobs(runtime: Stores) -> list[JobSpec]:
    return [
        JobSpec(
            name="store.pushback",
            func=partial(drain, runtime),
            trigger="interval",
            trigger_args={"seconds": DRAIN_EVERY_S},
        )
    ]
