"""One order to one provider, exactly once: the call, and what to do when it is unclear.

After an ambiguous failure (timeout, dropped connection, 5xx) the order may or
may not exist at the provider, so we look it up by our own reference before
any retry; a "duplicate reference" answer means it exists and is fetched. A
refusal ends the attempt with the provider's words; retryable failures get a
bounded number of attempts with back-off, then fail with the last reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

from podops.errors import ProviderError
from podops.ports.fulfillment import (
    DuplicateReference,
    FulfillmentProvider,
    ProviderBusy,
    ProviderOrder,
    SubmitRequest,
    VariantUnavailable,
)

log = logging.getLogger(__name__)

MAX_WAIT_S = 60.0


@dataclass(frozen=True, slots=True)
class RetryPlan:
    attempts: int = 4
    base_wait_s: float = 1.0

    def wait(self, attempt: int, hinted: float | None) -> float:
        exponential = self.base_wait_s * 2 ** (attempt - 1) * random.uniform(0.8, 1.2)
        return min(MAX_WAIT_S, max(exponential, hinted or 0.0))


@dataclass(frozen=True, slots=True)
class Outcome:
    """The outcome: the provider's order, or the reason in words it could not be placed."""

    order: ProviderOrder | None
    reason: str = ""
    found_existing: bool = False
    retryable: bool = False
    """The provider could not be reached or answered with errors: try again later."""
    claim_lost: bool = False
    """Another worker took the order over before this call: nothing was sent, record nothing."""
    design_resent: tuple[str, ...] = ()
    """Lines whose print files the found order lacked and the provider took from us."""
    old_design: tuple[str, ...] = ()
    """Lines whose older print files the found order keeps (the provider refused ours)."""
    old_design_reason: str = ""
    unavailable: tuple[str, ...] | None = None
    """The provider refused a variant as out of stock: the SKUs it named (empty: it
    named none). Nothing was created there, so another provider may take the lines."""


CLAIM_LOST = Outcome(None, "another worker took this order over", claim_lost=True)


def place_once(
    provider: FulfillmentProvider,
    request: SubmitRequest,
    plan: RetryPlan,
    *,
    lookup_first: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    still_mine: Callable[[], bool] = lambda: True,
    turn: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> Outcome:
    """Place `request` at `provider` unless it is already there; never create two.

    Each attempt runs inside `turn()` (the provider's concurrency slot), and
    `still_mine` is asked first thing inside it, right before the calls: a wait
    for the slot can be long, and once another worker has taken the order over,
    this one stops (that worker looks it up first).
    """
    uncertain = lookup_first
    last_reason = ""
    for attempt in range(1, plan.attempts + 1):
        with turn():
            if not still_mine():
                return CLAIM_LOST
            result = _attempt(provider, request, uncertain)
        if isinstance(result, Outcome):
            return result
        last_reason, uncertain = result.reason, uncertain or result.uncertain
        if attempt < plan.attempts:
            sleep(plan.wait(attempt, result.hinted))
    return Outcome(None, f"gave up after {plan.attempts} attempts: {last_reason}", retryable=True)


@dataclass(frozen=True, slots=True)
class _Failed:
    """An attempt worth repeating: why, how long the provider asked us to wait, and
    whether the order may now exist (so the next attempt looks it up first)."""

    reason: str
    hinted: float | None
    uncertain: bool


def _attempt(
    provider: FulfillmentProvider, request: SubmitRequest, uncertain: bool
) -> Outcome | _Failed:
    try:
        if uncertain:
            existing = provider.find_by_reference(request.reference)
            if existing is not None:
                return Outcome(existing, found_existing=True)
        return Outcome(provider.submit(request))
    except DuplicateReference as exc:
        return _fetch_duplicate(provider, request, exc)
    except VariantUnavailable as exc:
        return Outcome(None, exc.message, unavailable=exc.skus)
    except ProviderBusy as exc:
        return _Failed(exc.message, exc.retry_after_s, False)
    except ProviderError as exc:
        if not exc.retryable:
            return Outcome(None, exc.message)
        return _Failed(exc.message, None, True)
    except Exception as exc:  # an adapter bug must not hide whether the order exists
        log.exception("provider %s failed on %s", provider.name, request.reference)
        return _Failed(f"unexpected error: {exc}", None, True)


def _fetch_duplicate(
    provider: FulfillmentProvider, request: SubmitRequest, exc: DuplicateReference
) -> Outcome:
    try:
        existing = provider.find_by_reference(request.reference)
    except ProviderError as lookup_error:
        return Outcome(
            None,
            f"{exc.message}; and looking it up failed: {lookup_error.message} "
            "(retry once the provider answers; it will not create a second order)",
            retryable=lookup_error.retryable,
        )
    if existing is None:
        return Outcome(None, f"{exc.message}, but no order {request.reference} can be found")
    return Outcome(existing, found_existing=True)


def finish_found(
    provider: FulfillmentProvider, request: SubmitRequest, outcome: Outcome
) -> Outcome:
    """An order found half-placed (created, not yet sent to production or confirmed)
    gets its second step here, once its design was found current: never by the lookup
    itself, which a cancel also makes. A found order that keeps an old design stays
    unfinished (staff are told), so the old design is not sent to production."""
    found = outcome.order
    if not outcome.found_existing or found is None or not found.unfinished or outcome.old_design:
        return outcome
    finish = getattr(provider, "finish_placement", None)
    if finish is None:
        return outcome
    try:
        return replace(outcome, order=finish(found, request))
    except ProviderError as exc:
        return Outcome(None, exc.message, retryable=exc.retryable)
