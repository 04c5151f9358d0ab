"""The guards RELIABILITY.md relies on, and how to take each one out.

A guard is the piece of code that keeps an order single or present when
something fails (the lookup by reference before a retry, the claim token, ...).
The page is only worth something if the suite notices when a guard is gone, so
`test_guards.py` runs a guard's scenarios again in a subprocess with the guard
removed and expects them to fail.

The removal is test code, never a switch the production code reads: the
`hooks/sitecustomize.py` hook (on PYTHONPATH only for these runs)
calls `remove(name)` at interpreter start in the pytest process and in every
worker, `podops run` and CLI process it starts, replacing the guard function
by a variant without the guard.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GUARD_ENV = "RELIABILITY_WITHOUT_GUARD"
HOOK_DIR = Path(__file__).parent / "hooks"
"""On PYTHONPATH, its sitecustomize removes a guard or arms a kill point at start-up."""
MARKER_ENV = "RELIABILITY_GUARD_MARKER"
"""A file each process appends to once the guard is removed: the proof it was."""


@dataclass(frozen=True)
class Guard:
    name: str
    what: str
    scenarios: tuple[str, ...]
    """pytest node ids (relative to the repository) that must fail without the guard."""
    remove: Callable[[], None]


def _without_lookup_before_retry() -> None:
    """place_once never looks an order up by our reference (neither before a retry
    nor after a "duplicate reference" answer): every attempt creates."""
    from podops.fulfillment import attempt, countdown

    original = attempt.place_once

    class Blind:
        def __init__(self, provider: Any) -> None:
            self._provider = provider

        def __getattr__(self, name: str) -> Any:
            return getattr(self._provider, name)

        def find_by_reference(self, reference: str) -> None:
            return None

    def place_without_lookup(provider: Any, request: Any, plan: Any, **kwargs: Any) -> Any:
        kwargs["lookup_first"] = False
        return original(Blind(provider), request, plan, **kwargs)

    countdown.place_once = place_without_lookup  # type: ignore[assignment]


def _without_claim_token() -> None:
    """A worker never notices that its claim was taken over: it always calls."""
    from podops import services
    from podops.services import submission

    def always_mine(*_: Any, **__: Any) -> bool:
        return True

    services.confirm_claim = always_mine  # type: ignore[assignment]
    submission.confirm_claim = always_mine  # type: ignore[assignment]


def _without_delivery_dedup() -> None:
    """Every webhook delivery is applied, a replayed delivery id included."""
    import sync.webhooks

    def always_new(*_: Any, **__: Any) -> bool:
        return True

    sync.webhooks.claim_delivery = always_new  # type: ignore[assignment]


def _without_outbox_dedup_key() -> None:
    """The outbox handlers forget their message's key on a retry: Slack posts are
    never looked up first, and the store is never asked what it already has."""
    import providers.woocommerce
    from podops.notify import handlers
    from podops.ports.notify import PostKey

    keyed = handlers.post_key

    def post_key_unlooked(message: Any, part: str = "") -> PostKey:
        key = keyed(message, part)
        return PostKey(key.value, key.since, look_first=False)

    handlers.post_key = post_key_unlooked  # type: ignore[assignment]
    unique = itertools.count()
    providers.woocommerce._squash = lambda text: f"{text}\0{next(unique)}"  # type: ignore[attr-defined]


def _without_cursor_movement() -> None:
    """An intake pass never moves the store's cursor: every pass reads from the start."""
    from podops.intake import passes

    record = passes._record

    def record_without_cursor(*args: Any, **kwargs: Any) -> None:
        kwargs["cursor"] = None
        record(*args, **kwargs)

    passes._record = record_without_cursor  # type: ignore[assignment]


def _without_label_claim() -> None:
    """A label request never takes its order's in-flight slot: two presses both buy."""
    from podops.services import labels

    labels.in_flight_key = lambda order: None  # type: ignore[assignment]


def _without_label_lookup() -> None:
    """After a lost buy answer the desk never looks the shipment up: it buys again."""
    from podops.labels.desk import LabelDesk

    LabelDesk._look_before_buying = lambda self, shipment_id, lost: None  # type: ignore[method-assign]


LABELS = "tests/shipping/test_labels.py"
CRASHES = "tests/reliability/test_crashes.py"
KILL_POINTS = "tests/reliability/test_crashes_at_kill_points.py"
GUARDS = {
    guard.name: guard
    for guard in (
        Guard(
            "lookup before retry",
            "an order whose answer was lost is looked up by our reference before any new attempt",
            (
                f"{CRASHES}::test_kill_during_submission_batch",
                f"{KILL_POINTS}::test_kill_between_the_providers_answer_and_its_commit",
            ),
            _without_lookup_before_retry,
        ),
        Guard(
            "claim token",
            "a worker calls the provider only while its claim on the order is still its own",
            (
                "tests/reliability/test_outages_slow_provider.py"
                "::test_claims_waiting_for_a_slow_providers_slot_are_taken_over_and_sent_once",
            ),
            _without_claim_token,
        ),
        Guard(
            "webhook delivery de-duplication",
            "a replayed webhook delivery is applied once",
            (
                "tests/reliability/test_abuse_requests.py"
                "::test_a_replayed_delivery_is_applied_once_even_when_it_cannot_be_dated",
            ),
            _without_delivery_dedup,
        ),
        Guard(
            "the outbox's dedup key",
            "a message whose answer was lost is looked up by its key before it is sent again",
            (
                f"{CRASHES}::test_kill_during_slack_drain",
                f"{CRASHES}::test_kill_during_store_pushback",
                f"{KILL_POINTS}::test_kill_between_a_store_write_and_its_outbox_record"
                "[shop stored a tracking]",
            ),
            _without_outbox_dedup_key,
        ),
        Guard(
            "cursor movement",
            "an intake pass moves the store's cursor, so the next one asks only for what changed",
            (f"{CRASHES}::test_kill_during_intake",),
            _without_cursor_movement,
        ),
        Guard(
            "label claim",
            "one label of an order is in flight at a time: two presses of buy get one label",
            (f"{LABELS}::test_two_staff_pressing_buy_at_once_get_one_label",),
            _without_label_claim,
        ),
        Guard(
            "label lookup before buying again",
            "a buy whose answer was lost is looked up at EasyPost before any new buy",
            (
                f"{LABELS}::test_a_buy_whose_answer_is_lost_is_looked_up_not_bought_again",
                f"{LABELS}::test_a_label_left_in_flight_is_resumed_by_looking_it_up",
            ),
            _without_label_lookup,
        ),
    )
}


def remove(name: str) -> None:
    """Take the named guard out of this process, and say so in the marker file."""
    GUARDS[name].remove()
    marker = os.environ.get(MARKER_ENV)
    if marker:
        with open(marker, "a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {name}\n")
