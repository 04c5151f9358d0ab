"""Outbox handlers for everything people are told (order events, countdown alerts,
edit previews, the daily summary, digests of many orders, warnings about messages
that keep failing), bound to one `Notifier`.

Each follows the outbox's three steps: what to post is read in a short
transaction (the order's card, its alert's ref), posted with no transaction
open, and what must be remembered (a new alert's ref) stored afterwards.

Each handler makes at-least-once delivery effectively once: every post carries a
key derived from the outbox message's dedup_key, and on a retry (`attempts > 1`:
an earlier attempt may have reached Slack, even one whose worker died before our
commit) the notifier first looks for that key and reuses the message it finds.
The alert is posted once and then only updated; progress within a multi-step
message is committed in its payload after each step, so a retry resumes where
the last attempt stopped, and the keyed look-up covers the step a crash cut.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from podops import reports
from podops.models import Order
from podops.notify.alerts import remember_alert
from podops.notify.digests import digest_of
from podops.notify.retrying import warning_of
from podops.outbox import Change, Envelope, Handler, Progress, Topic
from podops.outbox.messages import summary_from_payload
from podops.ports.notify import (
    AlertGone,
    ChartRenderer,
    DailySummary,
    Digest,
    EventNotice,
    Notifier,
    OrderCard,
    PostKey,
)
from podops.ports.storage import FileStorage, file_name
from podops.status import BEFORE_SUBMISSION, OrderStatus


def post_key(message: Envelope, part: str = "") -> PostKey:
    """The key of one post a message makes (`part` tells apart several posts)."""
    value = f"{message.dedup_key}#{part}" if part else message.dedup_key
    return PostKey(value, message.created_at, look_first=message.attempts > 1)


@dataclass(frozen=True, slots=True)
class AlertState:
    """An order as its alert shows it, read when the message is prepared."""

    order_id: int
    ref: str | None  # where its alert lives, if it has one
    card: OrderCard
    actionable: bool  # before submission: staff can still act on it

    @classmethod
    def of(cls, session: Session, order: Order) -> AlertState:
        return cls(
            order.id,
            order.alert_ref,
            reports.order_card(session, order),
            OrderStatus(order.status) in BEFORE_SUBMISSION,
        )


def forget_alert(order_id: int) -> Change:
    """The order's alert was deleted: staff get a fresh one on its next change."""
    return lambda session: remember_alert(session, order_id, None)


def keep_alert(order_id: int, ref: str) -> Change:
    return lambda session: remember_alert(session, order_id, ref)


class Posting:
    """What the notification handlers share: the notifier, and keeping the alert alive."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def refresh_alert(self, message: Envelope, alert: AlertState, progress: Progress) -> str | None:
        """Update the order's alert; if it was deleted, forget it and post a fresh one
        while staff can still act on the order. The alert's ref, or None."""
        ref = str(alert.ref)
        try:
            self.notifier.update_alert(ref, alert.card)
            return ref
        except AlertGone:
            progress.store(forget_alert(alert.order_id))
        if not alert.actionable:
            return None
        fresh = self.notifier.post_alert(alert.card, post_key(message, "alert"))
        progress.store(keep_alert(alert.order_id, fresh))
        return fresh


@dataclass(frozen=True, slots=True)
class EventPlan:
    message: Envelope
    notice: EventNotice
    alert: AlertState | None  # None: the order has no alert to thread under


class PostedAsItGoes:
    def record(self, session: Session, plan: object, result: None) -> None:
        """Nothing left to store: what a retry needs was committed while posting."""


class EventHandler(PostedAsItGoes, Posting):
    """`Topic.NOTIFY`: one change, under the order's alert (refreshed too)."""

    def prepare(self, session: Session, message: Envelope) -> EventPlan | None:
        found = reports.event_notice(session, int(message.payload["event_id"]))
        if found is None:
            return None
        order, notice = found
        if not order.alert_ref:  # without an alert, only problems are worth a post
            return EventPlan(message, notice, None) if notice.problem else None
        return EventPlan(message, notice, AlertState.of(session, order))

    def send(self, plan: EventPlan, progress: Progress) -> None:
        message, notice, alert = plan.message, plan.notice, plan.alert
        if alert is None:
            self.notifier.post_event(notice, None, post_key(message))
            return
        thread = self.refresh_alert(message, alert, progress)
        if thread:
            try:
                self.notifier.post_event(notice, thread, post_key(message))
                return
            except AlertGone:
                progress.store(forget_alert(alert.order_id))
        # In the channel when the alert is gone for good.
        self.notifier.post_event(notice, None, post_key(message, "channel"))


@dataclass(frozen=True, slots=True)
class AlertPlan:
    message: Envelope
    alert: AlertState


class AlertHandler(Posting):
    """`Topic.ALERT`: the countdown alert, posted once, then only updated."""

    def prepare(self, session: Session, message: Envelope) -> AlertPlan | None:
        order = session.get(Order, int(message.payload["order_id"]))
        if order is None:
            return None
        if not order.alert_ref and OrderStatus(order.status) not in BEFORE_SUBMISSION:
            return None  # submitted meanwhile: nothing to count down
        return AlertPlan(message, AlertState.of(session, order))

    def send(self, plan: AlertPlan, progress: Progress) -> str | None:
        """The ref of a newly posted alert, to remember; None after a refresh."""
        if plan.alert.ref:
            self.refresh_alert(plan.message, plan.alert, progress)
            return None
        return self.notifier.post_alert(plan.alert.card, post_key(plan.message))

    def record(self, session: Session, plan: AlertPlan, result: str | None) -> None:
        if result is not None:
            remember_alert(session, plan.alert.order_id, result)


@dataclass(frozen=True, slots=True)
class PreviewPlan:
    message: Envelope
    order_id: int
    alert_ref: str | None
    notice: EventNotice


class PreviewHandler(PostedAsItGoes, Posting):
    """`Topic.PREVIEW`: the edit's text, then each preview image, in the order's
    thread; the thread, the text and each image are committed as they go. Previews
    are read from the storage (a bucket, on another host's render)."""

    def __init__(self, notifier: Notifier, storage: FileStorage | None = None) -> None:
        super().__init__(notifier)
        self.storage = storage

    def prepare(self, session: Session, message: Envelope) -> PreviewPlan | None:
        order = session.get(Order, int(message.payload["order_id"]))
        if order is None:
            return None
        notice = EventNotice(order.number, str(message.payload["text"]))
        return PreviewPlan(message, order.id, order.alert_ref, notice)

    def send(self, plan: PreviewPlan, progress: Progress) -> None:
        payload = plan.message.payload
        thread = self._announce(plan, progress)
        files: list[str] = list(payload.get("files", []))
        for index in range(int(payload.get("done", 0)), len(files)):
            location = files[index]
            data = self._read(location)
            if data is not None:
                name = file_name(location)
                self.notifier.post_image(
                    thread,
                    data,
                    filename=name,
                    title=name.rsplit(".", 1)[0],
                    in_thread=True,
                    key=post_key(plan.message, f"file{index}"),
                )
            progress.save(done=index + 1)

    def _read(self, location: str) -> bytes | None:
        """The preview's bytes; None when it is gone (posted without it). A storage
        that cannot answer raises StorageUnavailable: the message is retried."""
        try:
            if self.storage is not None:
                return self.storage.read(location)
            return Path(location).read_bytes()
        except FileNotFoundError:
            return None

    def _announce(self, plan: PreviewPlan, progress: Progress) -> str:
        """The edit's text, in the alert's thread (or the channel): the thread's ref."""
        message, payload = plan.message, plan.message.payload
        thread = payload.get("thread") or plan.alert_ref
        if thread and payload.get("announced"):
            return str(thread)
        if thread:
            try:
                self.notifier.post_event(plan.notice, thread, post_key(message, "text"))
            except AlertGone:
                if thread == plan.alert_ref:
                    progress.store(forget_alert(plan.order_id))
                thread = None
        if not thread:
            thread = self.notifier.post_event(plan.notice, None, post_key(message, "text"))
        progress.save(thread=thread, announced=True)
        return str(thread)


@dataclass(frozen=True, slots=True)
class SummaryPlan:
    message: Envelope
    summary: DailySummary
    ref: str | None  # the summary's post, once made


class SummaryHandler(PostedAsItGoes, Posting):
    """`Topic.SUMMARY`: the numbers, then the chart under them."""

    def __init__(self, notifier: Notifier, chart: ChartRenderer) -> None:
        super().__init__(notifier)
        self.chart = chart

    def prepare(self, session: Session, message: Envelope) -> SummaryPlan:
        payload = message.payload
        return SummaryPlan(message, summary_from_payload(payload["summary"]), payload.get("ref"))

    def send(self, plan: SummaryPlan, progress: Progress) -> None:
        ref = plan.ref
        if ref is None:
            ref = self.notifier.post_summary(plan.summary, post_key(plan.message))
            progress.save(ref=ref)
        self.notifier.post_image(
            ref,
            self.chart(plan.summary),
            filename=f"orders-{plan.summary.day.isoformat()}.png",
            title="Orders per day",
            in_thread=False,
            key=post_key(plan.message, "chart"),
        )


class WeeklyHandler(PostedAsItGoes, Posting):
    """`Topic.WEEKLY`: the week's lines, then each chart under them, each committed as
    it goes so a retry resumes at the next chart."""

    def prepare(self, session: Session, message: Envelope) -> Envelope:
        return message

    def send(self, plan: Envelope, progress: Progress) -> None:
        payload = plan.payload
        ref = payload.get("ref")
        if ref is None:
            ref = self.notifier.post_report(
                str(payload["title"]), [str(line) for line in payload["lines"]], post_key(plan)
            )
            progress.save(ref=ref)
        charts = list(payload.get("charts", []))
        for index in range(int(payload.get("done", 0)), len(charts)):
            chart = charts[index]
            self.notifier.post_image(
                str(ref),
                base64.b64decode(chart["png"]),
                filename=str(chart["filename"]),
                title=str(chart["title"]),
                in_thread=False,
                key=post_key(plan, f"chart{index}"),
            )
            progress.save(done=index + 1)


@dataclass(frozen=True, slots=True)
class DigestPlan:
    message: Envelope
    digest: Digest


class DigestHandler(PostedAsItGoes, Posting):
    """`Topic.DIGEST`: one post listing many orders in the same situation."""

    def prepare(self, session: Session, message: Envelope) -> DigestPlan | None:
        digest = digest_of(session, message.payload)
        return DigestPlan(message, digest) if digest is not None else None

    def send(self, plan: DigestPlan, progress: Progress) -> None:
        self.notifier.post_digest(plan.digest, post_key(plan.message))


@dataclass(frozen=True, slots=True)
class WarningPlan:
    message: Envelope
    notice: EventNotice


class RetryingWarningHandler(PostedAsItGoes, Posting):
    """`Topic.RETRYING`: messages that keep failing, told in the channel (not a
    thread: it must be seen); dropped when they were delivered meanwhile."""

    def prepare(self, session: Session, message: Envelope) -> WarningPlan | None:
        notice = warning_of(session, [int(i) for i in message.payload["message_ids"]])
        return WarningPlan(message, notice) if notice is not None else None

    def send(self, plan: WarningPlan, progress: Progress) -> None:
        self.notifier.post_event(plan.notice, None, post_key(plan.message))


class NotifyHandlers:
    """The outbox handlers of the notification topics, bound to one Notifier."""

    def __init__(
        self, notifier: Notifier, chart: ChartRenderer, storage: FileStorage | None = None
    ) -> None:
        self.notifier = notifier
        self.chart = chart
        self.storage = storage

    def as_dict(self) -> dict[str, Handler[Any, Any]]:
        return {
            Topic.NOTIFY: EventHandler(self.notifier),
            Topic.ALERT: AlertHandler(self.notifier),
            Topic.PREVIEW: PreviewHandler(self.notifier, self.storage),
            Topic.SUMMARY: SummaryHandler(self.notifier, self.chart),
            Topic.DIGEST: DigestHandler(self.notifier),
            Topic.WEEKLY: WeeklyHandler(self.notifier),
            Topic.RETRYING: RetryingWarningHandler(self.notifier),
        }
