"""An order found at its provider after an unclear attempt: does it have the
design we send now?

A provider may create an order and answer oddly; the order fails, staff fix the
design (allowed before submission: a new print-file revision), and the next
attempt finds the order the first attempt created, with the old files. Marking
it submitted as is would print the old design with no word to anyone. So the
found order is compared with what we send now: by the print-file URLs the
provider reports (ShineOn), or else by the files each earlier attempt recorded
as sent (its `begin_submit` event). When they differ, a provider that takes
design changes (ShineOn before production) gets the new files; any other, or
one that refuses, leaves a plain problem on the order, an event and a notice.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlsplit

from sqlalchemy import select

from podops.db import Database
from podops.errors import PodopsError
from podops.events import EventName
from podops.fulfillment.attempt import Outcome
from podops.fulfillment.claim import Claimed
from podops.models import Event
from podops.ports.fulfillment import FulfillmentProvider, ProviderOrder
from podops.refs import FulfillmentRef


def check_found_design(
    db: Database, provider: FulfillmentProvider, claim: Claimed, outcome: Outcome
) -> Outcome:
    """`outcome` found an existing order: send it our files, or say it keeps others."""
    found = outcome.order
    if not outcome.found_existing or found is None:
        return outcome
    lines = _stale_lines(db, claim, found)
    if not lines:
        return outcome
    if not provider.capabilities.accepts_design_changes:
        reason = f"{provider.name} takes no design changes after submission"
        return replace(outcome, old_design=tuple(lines), old_design_reason=reason)
    try:
        updated = provider.update_design(found.provider_order_id, claim.request)
    except PodopsError as refused:
        return replace(outcome, old_design=tuple(lines), old_design_reason=refused.message)
    return replace(outcome, order=updated, design_resent=tuple(lines))


def _stale_lines(db: Database, claim: Claimed, found: ProviderOrder) -> list[str]:
    if found.print_files:
        ours = {item.line_reference: _file(item.print_file_url) for item in claim.request.items}
        return sorted(
            line
            for line, url in found.print_files.items()
            if line in ours and _file(url) != ours[line]
        )
    return sorted(
        {
            line
            for sent in _sent_before(db, claim)
            for line, path in sent.items()
            if line in claim.files and path != claim.files[line]
        }
    )


def _file(url: str) -> str:
    """A print-file link without its signature and expiry (they change per request)."""
    return urlsplit(url).path


def _sent_before(db: Database, claim: Claimed) -> list[dict[str, str]]:
    """The print files each attempt on the fulfillment recorded as sent (attempts
    written before fulfillments existed were the order's own: its first one's)."""
    first = FulfillmentRef.parse_provider(claim.reference).order.provider
    with db.unit_of_work() as session:
        details = session.scalars(
            select(Event.detail).where(
                Event.order_id == claim.order_id, Event.action == EventName.BEGIN_SUBMIT
            )
        ).all()
    return [
        {str(k): str(v) for k, v in detail["print_files"].items()}
        for detail in details
        if isinstance(detail, dict)
        and isinstance(detail.get("print_files"), dict)
        and detail.get("fulfillment", first) == claim.reference
    ]
