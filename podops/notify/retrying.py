"""One warning in the channel when an outbox message crosses the retrying threshold
(`podops.outbox.retrying`), so staff can release a held order or fix a store long
before the message is parked a day later.

Each message is warned about once, whatever restarts: its warning is an outbox
message keyed by the message's id (`notify.retrying:ID`), and the key stays after
delivery. Messages crossing at the same check are told in one post (a store
refusing every push must not flood the channel): the first one's warning lists
them all, the others' keys are written as already told. A warning whose messages
were all delivered or parked before it could be posted is dropped.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from podops.db import Database
from podops.models import utcnow
from podops.outbox import Outgoing, Topic, enqueue
from podops.outbox.messages import retrying_warning_message
from podops.outbox.retrying import Retrying, not_yet_warned, still_retrying, warning_key
from podops.ports.notify import EventNotice

CHECKED = 200  # messages warned about in one check at most; the rest at the next
LISTED = 8  # messages named in one warning; the rest are counted


def warn_new(db: Database, now: datetime | None = None) -> int:
    """Queue the warning of messages that crossed the threshold since the last check;
    the number of messages warned about."""
    now = now or utcnow()
    with db.unit_of_work() as session:
        found = not_yet_warned(session, now, CHECKED)
        if not found:
            return 0
        ids = [item.id for item in found]
        if enqueue(session, retrying_warning_message(ids)) is None:
            return 0  # another worker warned at the same moment
        told = f"told in {warning_key(ids[0])}"
        for item in found[1:]:
            marker = Outgoing(Topic.RETRYING, warning_key(item.id), {"message_ids": [item.id]})
            row = enqueue(session, marker)
            if row is not None:
                row.delivered_at, row.last_error = now, told
    return len(found)


def warning_text(items: list[Retrying]) -> str:
    """What the channel reads: which message, how long, the store's own words."""
    tail = "podops keeps retrying for about a day before parking; `podops status` lists them."
    if len(items) == 1:
        return f"{_line(items[0])}\n{tail}"
    lines = [f"{len(items)} store or Slack messages keep failing:"]
    lines += [f"• {_line(item)}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(f"… and {len(items) - LISTED} more")
    return "\n".join([*lines, tail])


def _line(item: Retrying) -> str:
    who = f"Order {item.order}: " if item.order else ""
    since = item.since.strftime("%Y-%m-%d %H:%M UTC")
    tries = f"{item.attempts} attempt{'' if item.attempts == 1 else 's'}"
    return f"{who}{item.kind} keeps failing ({tries} since {since}): {item.error}"


def warning_of(session: Session, ids: list[int]) -> EventNotice | None:
    """The warning about `ids` as it stands now; None when all were delivered or parked."""
    items = still_retrying(session, ids)
    if not items:
        return None
    return EventNotice(items[0].order, warning_text(items), problem=True)
