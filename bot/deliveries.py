"""Exactly-once for Slack actions: each command, button click or modal
submission is claimed once by its identity (trigger id) in InboundDelivery, so
a Slack retry (X-Slack-Retry-Num) or a re-delivered payload never acts twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from podops.db import Database
from podops.models import InboundDelivery

SOURCE = "slack"


def delivery_id(body: dict[str, Any]) -> str:
    """The identity of one human action in a Slack payload."""
    if body.get("trigger_id"):
        return f"trigger:{body['trigger_id']}"
    view = body.get("view") or {}
    if view.get("id"):
        return f"view:{view['id']}:{view.get('hash', '')}"
    actions = body.get("actions") or [{}]
    return f"action:{(body.get('user') or {}).get('id')}:{actions[0].get('action_ts')}"


def claim(db: Database, key: str) -> bool:
    """True the first time `key` is seen; False for a repeat."""
    key = key[:255]
    try:
        with db.unit_of_work() as session:
            seen = session.scalar(
                select(InboundDelivery.id).where(
                    InboundDelivery.source == SOURCE, InboundDelivery.delivery_id == key
                )
            )
            if seen is not None:
                return False
            session.add(InboundDelivery(source=SOURCE, delivery_id=key))
    except IntegrityError:
        return False
    return True
