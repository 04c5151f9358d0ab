"""What the service is doing, for `podops status`: read from the database only,
so it works from any machine that can reach it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from podops import outbox, queries
from podops.events import EventName
from podops.intake.pushback import held_completions
from podops.models import Event, Order, OutboxMessage, Store, SyncState, utcnow
from podops.outbox.retrying import Retrying, retrying
from podops.runtime.job_health import HEARTBEAT_PREFIX, JobError, job_errors
from podops.settings import Settings
from podops.status import OrderStatus

ALIVE_WITHIN = timedelta(minutes=2)  # heartbeats come every 30 s
STALE_SHOWN_FOR = timedelta(days=1)  # an instance that vanished (killed) is shown this long
JOB_ERRORS_FOR = timedelta(days=1)
FAILURE_ACTIONS = (
    EventName.SUBMIT_FAIL,
    EventName.RENDER_REFUSED,
    EventName.RENDER_FAILED,
    EventName.SUBMIT_BLOCKED,
    EventName.STORE_CANCELLED_AFTER_SUBMISSION,
    EventName.STORE_REFUNDED_AFTER_SUBMISSION,
    EventName.STORE_ITEMS_CHANGED,
    EventName.STORE_REFUNDS_UNREAD,
)


@dataclass
class StatusReport:
    instances: list[tuple[str, str, datetime]] = field(default_factory=list)
    """Instances seen recently: (holder, role, last heartbeat)."""
    vanished: list[tuple[str, str, datetime]] = field(default_factory=list)
    """Instances that stopped beating without a clean shutdown (killed, crashed, cut off)."""
    job_errors: list[JobError] = field(default_factory=list)
    stores: list[tuple[str, datetime | None, str | None]] = field(default_factory=list)
    backlog: dict[str, int] = field(default_factory=dict)
    dead_letters: list[tuple[str, str]] = field(default_factory=list)
    retrying: list[Retrying] = field(default_factory=list)
    """Messages that keep failing but are still retried (podops.outbox.retrying)."""
    retrying_total: int = 0
    counts: dict[OrderStatus, int] = field(default_factory=dict)
    next_submissions: list[tuple[str, datetime]] = field(default_factory=list)
    recent_errors: list[tuple[datetime, str, str]] = field(default_factory=list)
    held_completions: list[tuple[str, str]] = field(default_factory=list)
    """(order, why): "completed" not pushed because the order's tracking is parked."""


def build(session: Session, now: datetime | None = None) -> StatusReport:
    now = now or utcnow()
    report = StatusReport()
    beats = session.scalars(select(SyncState).where(SyncState.key.like(HEARTBEAT_PREFIX + "%")))
    for state in beats:
        seen = datetime.fromisoformat(state.value["at"])
        row = (state.key.removeprefix(HEARTBEAT_PREFIX), str(state.value["role"]), seen)
        if now - seen <= ALIVE_WITHIN:
            report.instances.append(row)
        elif now - seen <= STALE_SHOWN_FOR:
            report.vanished.append(row)
    report.job_errors = job_errors(session, now - JOB_ERRORS_FOR)
    report.stores = [
        (store.key, store.last_synced_at, store.last_error)
        for store in session.scalars(select(Store).order_by(Store.key))
    ]
    report.backlog = outbox.backlog(session)
    dead = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.dead_at.is_not(None))
        .order_by(OutboxMessage.dead_at.desc())
        .limit(5)
    )
    report.dead_letters = [(m.topic, m.last_error or "") for m in dead]
    report.retrying, report.retrying_total = retrying(session, now)
    report.held_completions = held_completions(session)
    report.counts = queries.counts_by_status(session)
    pending = session.execute(
        select(Order.number, Order.submit_at)
        .where(Order.status == OrderStatus.PENDING, Order.submit_at.is_not(None))
        .order_by(Order.submit_at)
        .limit(5)
    )
    report.next_submissions = [(number, at) for number, at in pending if at is not None]
    errors = session.execute(
        select(Event.at, Order.number, Event.detail)
        .join(Order, Order.id == Event.order_id)
        .where(Event.action.in_(FAILURE_ACTIONS))
        .order_by(Event.at.desc())
        .limit(5)
    )
    report.recent_errors = [
        (at, number, str(detail.get("reason") or detail.get("problems") or detail.get("problem")))
        for at, number, detail in errors
    ]
    return report


SHOPIFY_VISIBLE_DAYS = 60
"""Shopify shows orders older than this only to an app with the read_all_orders scope."""


def shopify_window_notes(settings: Settings, synced: dict[str, datetime | None]) -> list[str]:
    """A Shopify store whose first sync is still ahead and reaches back further than
    the 60 days Shopify shows without `read_all_orders`: say so before orders seem lost."""
    notes = []
    for key, store in settings.stores.items():
        if store.platform != "shopify" or synced.get(key) is not None:
            continue
        days = store.first_sync_days
        if days == 0 or days > SHOPIFY_VISIBLE_DAYS:
            reach = "the whole history" if days == 0 else f"{days} days back"
            notes.append(
                f"store {key}: the first sync reads {reach}, but Shopify shows orders older "
                f"than {SHOPIFY_VISIBLE_DAYS} days only to an app with the read_all_orders "
                "scope (docs/intake.md, Shopify)"
            )
    return notes
