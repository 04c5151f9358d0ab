"""Where an unfinished sync pass stands, so a pass that fails on page N resumes at N.

A pass reads the orders changed since one moment (`since`), page by page; each
page is received in its own transaction, and the same transaction records the
next page to read here (a `SyncState` row per store). A pass that fails keeps
its position: the next pass reads from the same `since` at the page that did not
commit, instead of from page 1. Only a completed pass moves the store's cursor
(to the store's clock when the pass *began*, kept here too), and removes the
position.

Pages stay put while a pass is paused because WooCommerce lists the changes
oldest-created first and an order never leaves a `modified_after` set (its
modification time only grows): a new or newly changed order can push later
orders one page on (they are read twice, harmlessly), never back. Only an order
deleted from the shop can pull them back: when the list has shrunk since the
pass paused, the pass starts again from page 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from podops.models import SyncState

PREFIX = "intake.pass."


@dataclass(slots=True)
class PassPosition:
    """A pass in progress: what it reads, the next page, and its future cursor."""

    since: datetime | None
    next_page: int = 1
    total: int = 0
    """How many changes the list held when the last page committed."""
    started: datetime | None = None
    """The store's clock when the pass began: the cursor once the pass completes."""
    newest: datetime | None = None
    """The latest modification seen (the cursor when the store sends no clock)."""
    next_token: str | None = None
    """A store paging by cursor: where the next page starts (OrderPage.next_token)."""

    @property
    def resumed(self) -> bool:
        return self.next_page > 1

    def to_json(self) -> dict[str, Any]:
        return {
            "since": _iso(self.since),
            "next_page": self.next_page,
            "total": self.total,
            "started": _iso(self.started),
            "newest": _iso(self.newest),
            "next_token": self.next_token,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> PassPosition:
        return cls(
            since=_moment(value.get("since")),
            next_page=max(1, int(value.get("next_page") or 1)),
            total=int(value.get("total") or 0),
            started=_moment(value.get("started")),
            newest=_moment(value.get("newest")),
            next_token=str(value["next_token"]) if value.get("next_token") else None,
        )


def load_position(session: Session, store: str) -> PassPosition | None:
    row = session.get(SyncState, PREFIX + store)
    return PassPosition.from_json(row.value) if row is not None and row.value else None


def save_position(session: Session, store: str, position: PassPosition) -> None:
    row = session.get(SyncState, PREFIX + store) or SyncState(key=PREFIX + store)
    row.value = position.to_json()
    session.add(row)


def clear_position(session: Session, store: str) -> None:
    session.execute(delete(SyncState).where(SyncState.key == PREFIX + store))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None
