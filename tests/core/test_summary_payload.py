"""The daily summary goes to Slack through the outbox as JSON: every part of it must
come back out (the rush line was once built, queued and silently dropped)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

from podops.outbox.messages import summary_from_payload, summary_to_payload
from podops.ports.notify import DailySummary, NamedOrder


def _named(number: str, **extra: object) -> NamedOrder:
    return NamedOrder(number, "Ana Li", "Waiting", 2, **extra)  # type: ignore[arg-type]


def test_every_field_of_the_summary_survives_the_outbox() -> None:
    summary = DailySummary(
        day=date(2026, 12, 1),
        received=12,
        submitted=9,
        shipped=7,
        cancelled=1,
        submit_failures=2,
        pending_by_age={"<1d": 3, "1-3d": 1},
        late=[_named("1001", note="no tracking after 9 days")],
        failed=[_named("1002")],
        per_day=[(date(2026, 11, 30), 5), (date(2026, 12, 1), 7)],
        rush_received=4,
        rush_waiting=[_named("1003", rush=True)],
        split=[_named("1004", note="part 1 shipped, part 2 failed")],
        remakes=[("misprint", "provider", 2)],
        per_store=[{"main": 3, "etsy": 2}, {"main": 7}],
        late_per_day=[1, 0],
        timezone="Europe/Berlin",
        returned=[_named("1005")],
        delivered=[_named("1006")],
        parcels_delivered=3,
        retrying=2,
        retrying_first=["1007 (tracking)"],
    )
    defaults = [
        f.name
        for f in dataclasses.fields(DailySummary)
        if getattr(summary, f.name) in ([], 0, "", {})
    ]
    assert defaults == [], f"set every field so a dropped one shows: {defaults}"

    carried = summary_from_payload(json.loads(json.dumps(summary_to_payload(summary))))

    assert carried == summary
