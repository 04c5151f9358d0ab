"""Store sync passes: which fetched orders enter podops, and the sync cursor
(webhook deliveries: `deliveries.py`; what was pushed back: `pushback.py`).

Rules (docs/intake.md):
- an order not seen before enters only if its store status is one of the
  store's `fulfil_statuses`; otherwise it is skipped and counted (it comes
  back through the `modified_after` filter once its status changes);
- an order we know is always passed on, so a cancellation, refund or deletion
  in the shop reaches it (services.receive_orders cancels it before
  submission and raises an alert after);
- the cursor only moves after a complete pass, to the store's own clock at
  the start of that pass; the next pass re-reads a few minutes before it
  (receiving is idempotent, so the overlap is harmless). A store that is down
  leaves the cursor alone, so nothing is lost, only delayed;
- a store without a cursor is read from `first_sync_window` back (WooCommerce:
  `first_sync_days`), not its whole history, and a pass that fails on page N
  resumes at page N (`position.py`), never again from page 1.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random

from podops.db import Database
from podops.errors import ConcurrentModification, StoreError
from podops.events import Actor, Channel
from podops.incoming import IncomingOrder
from podops.intake.isolation import receive_isolated
from podops.intake.position import PassPosition, clear_position, load_position, save_position
from podops.models import Order, Store, utcnow
from podops.ports.store import OrderPage, StoreClient
from podops.routing import ShopPolicy
from podops.services.receiving import ensure_store, receive_orders
from podops.status import OrderStatus

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=5)
FLAGGED_STATUSES = frozenset({OrderStatus.ON_HOLD, OrderStatus.NEEDS_DESIGN})


CONFLICT_ATTEMPTS = 4
CONFLICTS = (ConcurrentModification, IntegrityError)
"""A webhook and a poll received the same order at the same moment (PostgreSQL:
duplicate key, or a changed version): the loser's transaction rolled back whole,
and running it again finds the order the winner stored."""
T = TypeVar("T")


def retry_conflicts(work: Callable[[], T]) -> T:
    """Run one transaction again (a few times) when a concurrent writer got there first."""
    retrying = Retrying(
        stop=stop_after_attempt(CONFLICT_ATTEMPTS),
        wait=wait_random(0.02, 0.2),
        retry=retry_if_exception_type(CONFLICTS),
        reraise=True,
    )
    return retrying(work)


def conflict_text(exc: BaseException) -> str:
    """What went wrong, without the SQL parameters (customer data) of an IntegrityError."""
    if isinstance(exc, ConcurrentModification):
        return exc.message
    return f"{type(exc).__name__}: the order was stored by someone else at the same moment"


def store_actor(store: str) -> Actor:
    return Actor(f"store:{store}", Channel.STORE)


@dataclass(slots=True)
class IntakeReport:
    """What one pass (or one webhook, or one file) did."""

    store: str
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pages: int = 0
    total: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    flagged: list[str] = field(default_factory=list)
    """Numbers of new orders that wait for staff (held with a problem, or needing design)."""
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    """(order number, reason) for orders that could not be stored at all (isolation.py)."""
    error: str | None = None

    def merge(self, other: IntakeReport) -> None:
        self.fetched += other.fetched
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.skipped.update(other.skipped)
        self.flagged.extend(other.flagged)
        self.new.extend(other.new)
        self.changed.extend(other.changed)
        self.refused.extend(other.refused)


def receive_batch(
    session: Session,
    store: str,
    orders: Iterable[IncomingOrder],
    policy: ShopPolicy,
    *,
    fulfil_statuses: Iterable[str] | None,
    platform: str,
    actor: Actor | None = None,
    arrived_at: datetime | None = None,
    hold_overdue: bool = False,
) -> IntakeReport:
    """Receive what the intake rules let in; `fulfil_statuses=None` lets everything in.

    `arrived_at` and `hold_overdue`: see services.receiving.receive_orders."""
    incoming = list(orders)
    report = IntakeReport(store=store, fetched=len(incoming))
    fulfil = None if fulfil_statuses is None else frozenset(fulfil_statuses)
    if fulfil is None:
        wanted = incoming
    else:
        others = [o for o in incoming if o.store_status not in fulfil]
        known = _known_ids(session, store, [o.external_id for o in others])
        wanted = [
            o
            for o in incoming
            if o.store_status in fulfil or o.external_id in known or o.receive_held
        ]
        report.skipped.update(
            o.store_status or "(none)"
            for o in others
            if o.external_id not in known and not o.receive_held
        )
    result = receive_orders(
        session,
        wanted,
        policy,
        actor or store_actor(store),
        platform=platform,
        fulfil_statuses=fulfil,
        arrived_at=arrived_at,
        hold_overdue=hold_overdue,
    )
    report.created = len(result.created)
    report.updated = len(result.updated)
    report.unchanged = result.unchanged
    report.flagged = [o.number for o in result.created if o.status in FLAGGED_STATUSES]
    report.new = [o.number for o in result.created]
    report.changed = [o.number for o in result.updated]
    return report


def _known_ids(session: Session, store: str, external_ids: list[str]) -> set[str]:
    if not external_ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        query = (
            select(Order.external_id)
            .join(Store)
            .where(Store.key == store, Order.external_id.in_(chunk))
        )
        found.update(session.scalars(query))
    return found


def store_is_watched(session: Session, key: str) -> bool:
    """Whether podops has completed a pass over this store: before that, orders past
    their submit time were placed before podops watched it (see sync_store)."""
    store = session.scalar(select(Store).where(Store.key == key))
    return store is not None and (store.sync_cursor is not None or store.last_synced_at is not None)


PageCallback = Callable[[IntakeReport, OrderPage], None]


def sync_store(
    db: Database,
    client: StoreClient,
    policy: ShopPolicy,
    fulfil_statuses: Iterable[str],
    *,
    on_page: PageCallback | None = None,
    clock: Callable[[], datetime] = utcnow,
    first_sync_window: timedelta | None = None,
) -> IntakeReport:
    """One pass over a store's changes since its cursor; the error is reported, not raised.

    Without a cursor the pass reads the changes within `first_sync_window` (None:
    whatever the store calls everything). A pass resumes where the last one failed
    (`position.py`). On a store's first pass (no sync state yet) orders already past
    their submit time are held: a shop that was fulfilling by hand must not get them
    twice."""
    with db.unit_of_work() as session:
        store = ensure_store(session, client.key, client.platform)
        cursor = store.sync_cursor
        first_sync = cursor is None and store.last_synced_at is None
        position = load_position(session, client.key)
    if position is None:
        window_start = clock() - first_sync_window if first_sync_window else None
        position = PassPosition(since=cursor - OVERLAP if cursor is not None else window_start)
    elif position.resumed:
        log.info("intake %s: resuming the pass at page %d", client.key, position.next_page)
    report = IntakeReport(store=client.key)
    receive = _PageReceiver(db, client, policy, list(fulfil_statuses), first_sync, position, clock)
    try:
        for page in _pages(client, position):
            report.merge(receive(page))
            report.pages += 1
            report.total = page.total
            if on_page is not None:
                on_page(report, page)
    except StoreError as exc:
        report.error = exc.message
        log.warning("intake %s: %s (cursor kept; the next pass retries)", client.key, exc.message)
        _record(db, client, cursor=cursor, error=exc.message, now=clock())
        return report
    done = position.started or position.newest or cursor
    _record(db, client, cursor=done, error=None, now=clock())
    return report


def _pages(client: StoreClient, position: PassPosition) -> Iterator[OrderPage]:
    """The pass's pages from its position; from page 1 again if the list shrank meanwhile."""
    resuming = position.resumed
    pages = client.fetch_changes(
        position.since, start_page=position.next_page, start_token=position.next_token
    )
    for page in pages:
        if resuming and page.total < position.total:
            log.info("intake %s: the shop's list shrank; the pass starts again", client.key)
            position.next_page, position.next_token = 1, None
            yield from client.fetch_changes(position.since, start_page=1)
            return
        resuming = False
        yield page


@dataclass(slots=True)
class _PageReceiver:
    """Receives one page and records the pass's position in the same transaction."""

    db: Database
    client: StoreClient
    policy: ShopPolicy
    fulfil: list[str]
    first_sync: bool
    position: PassPosition
    clock: Callable[[], datetime]

    def __call__(self, page: OrderPage) -> IntakeReport:
        position = self.position
        position.started = position.started or page.server_time
        if page.newest_change is not None:
            position.newest = max(position.newest or page.newest_change, page.newest_change)
        if page.counted:
            position.next_page, position.total = page.page + 1, page.total
            position.next_token = page.next_token
        try:
            # A page the database refuses is stored order by order: one bad order
            # never blocks the others, and the pass (and its cursor) moves on.
            return receive_isolated(
                page.orders,
                lambda orders: retry_conflicts(lambda: self._receive(orders)),
                IntakeReport(store=self.client.key),
                self.clock(),
            )
        except CONFLICTS as exc:
            raise StoreError(
                f"store {self.client.key!r}: {conflict_text(exc)}", retryable=True
            ) from exc

    def _receive(self, orders: list[IncomingOrder]) -> IntakeReport:
        with self.db.unit_of_work() as session:
            counts = receive_batch(
                session,
                self.client.key,
                orders,
                self.policy,
                fulfil_statuses=self.fulfil,
                platform=self.client.platform,
                hold_overdue=self.first_sync,
            )
            save_position(session, self.client.key, self.position)
            return counts


def _record(
    db: Database,
    client: StoreClient,
    *,
    cursor: datetime | None,
    error: str | None,
    now: datetime,
) -> None:
    with db.unit_of_work() as session:
        store = ensure_store(session, client.key, client.platform)
        store.last_error = error
        if error is None:
            store.last_synced_at = now
            clear_position(session, client.key)
            if cursor is not None and (store.sync_cursor is None or cursor > store.sync_cursor):
                store.sync_cursor = cursor
