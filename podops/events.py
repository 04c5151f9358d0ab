"""Who acted, from where, and the audit event every change writes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from podops.models import Event, Order


class Channel(StrEnum):
    SLACK = "slack"
    SHEET = "sheet"
    CLI = "cli"
    SYSTEM = "system"
    STORE = "store"
    PROVIDER = "provider"
    CSV = "csv"


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
    action: str,
    *,
    before: str | None = None,
    after: str | None = None,
    **detail: Any,
) -> Event:
    event = Event(
        order_id=order.id if order is not None else None,
        actor=actor.name,
        channel=actor.channel.value,
        action=action,
        from_status=before,
        to_status=after,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    session.add(event)
    return event
