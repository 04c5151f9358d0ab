"""Outbox handlers for everything people are told (order events, countdown alerts,
edit previews, the daily summary), bound to one `Notifier`.

Each handler makes at-least-once delivery effectively once: every post carries a
key derived from the outbox message's dedup_key, and on a retry (`attempts > 1`:
an earlier attempt may have reached Slack, even one whose worker died before our
commit) the notifier first looks for that key and reuses the message it finds.
The alert is posted once and then only updated; progress within a multi-step
message is kept in its payload so a retry after a failure resumes, and the
keyed look-up covers a retry after a crash.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session, object_session

from podops import reports
from podops.models import Order, OutboxMessage
from podops.notify.alerts import ALERT_TOPIC, PREVIEW_TOPIC, remember_alert
from podops.notify.summary import SUMMARY_TOPIC, summary_from_payload
from podops.outbox import Handler, Topic
from podops.ports.notify import AlertGone, ChartRenderer, EventNotice, Notifier, PostKey
from podops.status import BEFORE_SUBMISSION, OrderStatus


def _session(message: OutboxMessage) -> Session:
    session = object_session(message)
    assert session is not None, "outbox handlers run inside the dispatcher's unit of work"
    return session


def post_key(message: OutboxMessage, part: str = "") -> PostKey:
    """The key of one post a message makes (`part` tells apart several posts)."""
    value = f"{message.dedup_key}#{part}" if part else message.dedup_key
    return PostKey(value, message.created_at, look_first=message.attempts > 1)


class NotifyHandlers:
    """Outbox handlers for the notification topics, bound to one Notifier."""

    def __init__(self, notifier: Notifier, chart: ChartRenderer) -> None:
        self.notifier = notifier
        self.chart = chart

    def as_dict(self) -> dict[str, Handler]:
        return {
            Topic.NOTIFY: self.order_event,
            ALERT_TOPIC: self.alert,
            PREVIEW_TOPIC: self.previews,
            SUMMARY_TOPIC: self.summary,
        }

    def order_event(self, message: OutboxMessage) -> None:
        session = _session(message)
        found = reports.event_notice(session, int(message.payload["event_id"]))
        if found is None:
            return
        order, notice = found
        if not order.alert_ref:
            if notice.problem:
                self.notifier.post_event(notice, None, post_key(message))
            return
        thread = self._refresh_alert(message, order)
        self._post_in_thread(message, order, notice, thread)

    def alert(self, message: OutboxMessage) -> None:
        session = _session(message)
        order = session.get(Order, int(message.payload["order_id"]))
        if order is None:
            return
        if order.alert_ref:
            self._refresh_alert(message, order)
        elif OrderStatus(order.status) in BEFORE_SUBMISSION:
            card = reports.order_card(session, order)
            remember_alert(session, order.id, self.notifier.post_alert(card, post_key(message)))

    def _refresh_alert(self, message: OutboxMessage, order: Order) -> str | None:
        """Update the order's alert; if it was deleted, forget it and post a fresh one
        while staff can still act on the order. The alert's ref, or None."""
        session = _session(message)
        card = reports.order_card(session, order)
        ref = str(order.alert_ref)
        try:
            self.notifier.update_alert(ref, card)
            return ref
        except AlertGone:
            remember_alert(session, order.id, None)
        if OrderStatus(order.status) not in BEFORE_SUBMISSION:
            return None
        fresh = self.notifier.post_alert(card, post_key(message, "alert"))
        remember_alert(session, order.id, fresh)
        return fresh

    def _post_in_thread(
        self, message: OutboxMessage, order: Order, notice: EventNotice, thread: str | None
    ) -> None:
        """The event under the alert; in the channel when the alert is gone for good."""
        if thread:
            try:
                self.notifier.post_event(notice, thread, post_key(message))
                return
            except AlertGone:
                remember_alert(_session(message), order.id, None)
        self.notifier.post_event(notice, None, post_key(message, "channel"))

    def previews(self, message: OutboxMessage) -> None:
        payload = dict(message.payload)
        session = _session(message)
        order = session.get(Order, int(payload["order_id"]))
        if order is None:
            return
        thread = payload.get("thread") or order.alert_ref
        notice = EventNotice(order.number, str(payload["text"]))
        if thread and not payload.get("announced"):
            try:
                self.notifier.post_event(notice, thread, post_key(message, "text"))
            except AlertGone:
                if thread == order.alert_ref:
                    remember_alert(session, order.id, None)
                thread = None
        if not thread:
            thread = self.notifier.post_event(notice, None, post_key(message, "text"))
        payload.update(thread=thread, announced=True)
        message.payload = payload
        files: list[str] = list(payload.get("files", []))
        for index in range(int(payload.get("done", 0)), len(files)):
            path = Path(files[index])
            if path.is_file():
                self.notifier.post_image(
                    thread,
                    path.read_bytes(),
                    filename=path.name,
                    title=path.stem,
                    in_thread=True,
                    key=post_key(message, f"file{index}"),
                )
            message.payload = {**payload, "done": index + 1}

    def summary(self, message: OutboxMessage) -> None:
        payload = dict(message.payload)
        result = summary_from_payload(payload["summary"])
        ref = payload.get("ref") or self.notifier.post_summary(result, post_key(message))
        message.payload = {**payload, "ref": ref}
        chart = self.chart(result.per_day)
        name = f"orders-{result.day.isoformat()}.png"
        self.notifier.post_image(
            ref,
            chart,
            filename=name,
            title="Orders per day",
            in_thread=False,
            key=post_key(message, "chart"),
        )
