"""Every kind of outbox message, built by one factory each: its topic, dedup key and
payload are written here and nowhere else (the keys are stored, so they never
change). The summary's payload is read back here too.

The dedup key says what makes a message the same message: one alert per order,
one notice per event, one push per parcel, one "completed" per order, one
summary per day, one digest per burst.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from podops.outbox.queue import Outgoing, Topic
from podops.outbox.retrying import warning_key
from podops.ports.notify import DailySummary, NamedOrder


def event_message(order_id: int, event_id: int) -> Outgoing:
    """Tell staff about one audited change (threaded under the order's alert)."""
    return Outgoing(
        Topic.NOTIFY,
        f"notify:event:{event_id}",
        {"order_id": order_id, "event_id": event_id},
        order_id,
    )


def alert_message(order_id: int) -> Outgoing:
    """The countdown alert of an order about to be submitted (posted once, then updated)."""
    return Outgoing(Topic.ALERT, f"{Topic.ALERT}:{order_id}", {"order_id": order_id}, order_id)


def preview_message(order_id: int, text: str, files: Sequence[str | Path], key: str) -> Outgoing:
    """Re-rendered previews of an edit, in the order's thread; `key` names the edit."""
    payload = {"order_id": order_id, "text": text, "files": [str(f) for f in files]}
    return Outgoing(Topic.PREVIEW, f"{Topic.PREVIEW}:{key}", payload, order_id)


def provider_address_message(order_id: int, event_id: int, address: dict[str, Any]) -> Outgoing:
    """The address the shop changed after submission, for the order's provider (one
    per change: the event that recorded it names it)."""
    payload = {"order_id": order_id, "event_id": event_id, "address": dict(address)}
    key = f"{Topic.PROVIDER_ADDRESS}:{event_id}"
    return Outgoing(Topic.PROVIDER_ADDRESS, key, payload, order_id)


def retrying_warning_message(message_ids: list[int]) -> Outgoing:
    """One Slack warning about messages that keep failing; its key is the first
    message's warning key, so each message is warned about once (see
    `podops.notify.retrying`). No order: it must not wait behind the order's own
    failing notice in the drain."""
    key = warning_key(message_ids[0])
    return Outgoing(Topic.RETRYING, key, {"message_ids": list(message_ids)})


def summary_key(day: date) -> str:
    """The daily summary of `day` is sent once."""
    return f"{Topic.SUMMARY}:{day.isoformat()}"


def summary_message(summary: DailySummary, *, demo: bool = False) -> Outgoing:
    """The daily summary (numbers now, chart drawn when posted); the demo's own key
    never stands in the way of the real day's summary."""
    key = f"{Topic.SUMMARY}:demo:{summary.day.isoformat()}" if demo else summary_key(summary.day)
    return Outgoing(Topic.SUMMARY, key, {"summary": summary_to_payload(summary)})


def digest_message(kind: str, order_ids: list[int], key: str) -> Outgoing:
    """Many orders in the same situation (`kind`: see podops.notify.digests), told in
    one post that lists them; `key` names the burst (its first order or message)."""
    payload = {"kind": kind, "order_ids": order_ids}
    return Outgoing(Topic.DIGEST, f"{Topic.DIGEST}:{kind}:{key}", payload)


def store_status_message(order_id: int, status: str, *, reason: str | None = None) -> Outgoing:
    """Set the shop's order status ("completed", "cancelled" with the reason)."""
    payload: dict[str, Any] = {"order_id": order_id, "status": status}
    if reason is not None:
        payload["reason"] = reason
    key = f"{Topic.STORE_STATUS}:{order_id}:{status}"
    return Outgoing(Topic.STORE_STATUS, key, payload, order_id)


def store_hold_message(order_id: int, held: bool, moment: datetime) -> Outgoing:
    """Tell a shop that takes staff holds (Shopify with `push_holds`) that staff held or
    released the order; `moment` keys each hold and release apart (an order held,
    released and held again is told three times). Other shops answer nothing to push."""
    status = "held" if held else "released"
    key = f"{Topic.STORE_STATUS}:{order_id}:{status}:{moment.isoformat()}"
    return Outgoing(Topic.STORE_STATUS, key, {"order_id": order_id, "status": status}, order_id)


def store_reopen_message(order_id: int, label_id: int) -> Outgoing:
    """The order is open again in the shop ("processing"): a voided label took back a
    parcel the shop had heard of (one message per voided label)."""
    payload: dict[str, Any] = {"order_id": order_id, "status": "processing"}
    key = f"{Topic.STORE_STATUS}:{order_id}:processing:label{label_id}"
    return Outgoing(Topic.STORE_STATUS, key, payload, order_id)


def store_tracking_message(order_id: int, shipment_id: int) -> Outgoing:
    """Attach one parcel's tracking to the shop's order."""
    return Outgoing(
        Topic.STORE_TRACKING,
        f"{Topic.STORE_TRACKING}:{shipment_id}",
        {"order_id": order_id, "shipment_id": shipment_id},
        order_id,
    )


def store_return_message(order_id: int, return_id: int) -> Outgoing:
    """Tell the shop that goods came back (one message per return recorded)."""
    return Outgoing(
        Topic.STORE_RETURN,
        f"{Topic.STORE_RETURN}:{return_id}",
        {"order_id": order_id, "return_id": return_id},
        order_id,
    )


def summary_to_payload(summary: DailySummary) -> dict[str, Any]:
    data = asdict(summary)
    data["day"] = summary.day.isoformat()
    data["per_day"] = [[d.isoformat(), n] for d, n in summary.per_day]
    return data


def summary_from_payload(data: dict[str, Any]) -> DailySummary:
    return DailySummary(
        day=date.fromisoformat(data["day"]),
        received=data["received"],
        submitted=data["submitted"],
        shipped=data["shipped"],
        cancelled=data["cancelled"],
        submit_failures=data["submit_failures"],
        pending_by_age=dict(data["pending_by_age"]),
        late=[NamedOrder(**o) for o in data["late"]],
        failed=[NamedOrder(**o) for o in data["failed"]],
        per_day=[(date.fromisoformat(d), int(n)) for d, n in data["per_day"]],
        rush_received=int(data.get("rush_received", 0)),
        rush_waiting=[NamedOrder(**o) for o in data.get("rush_waiting", [])],
        split=[NamedOrder(**o) for o in data.get("split", [])],
        remakes=[(str(r), str(p), int(n)) for r, p, n in data.get("remakes", [])],
        per_store=[{str(k): int(v) for k, v in day.items()} for day in data.get("per_store", [])],
        late_per_day=[int(n) for n in data.get("late_per_day", [])],
        timezone=str(data.get("timezone", "UTC")),
        returned=[NamedOrder(**o) for o in data.get("returned", [])],
        delivered=[NamedOrder(**o) for o in data.get("delivered", [])],
        parcels_delivered=int(data.get("parcels_delivered", 0)),
        retrying=int(data.get("retrying", 0)),
        retrying_first=[str(r) for r in data.get("retrying_first", [])],
    )
