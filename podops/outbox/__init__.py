"""The transactional outbox: side effects written with the change that causes
them, delivered after commit, retried with back-off, never lost.

- `queue`: the topics, `enqueue` in the caller's transaction, what is parked;
- `messages`: one factory per kind of message (topic, dedup key, payload);
- `dispatch`: the drain, which makes no outside call inside a transaction.
"""

from podops.outbox.dispatch import (
    LEASE,
    MAX_ATTEMPTS,
    Change,
    Claim,
    Deferred,
    DrainReport,
    Envelope,
    Handler,
    OutboxDispatcher,
    Progress,
    backoff,
)
from podops.outbox.queue import Outgoing, Topic, backlog, enqueue, parked, requeue

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Change",
    "Claim",
    "Deferred",
    "DrainReport",
    "Envelope",
    "Handler",
    "OutboxDispatcher",
    "Outgoing",
    "Progress",
    "Topic",
    "backlog",
    "backoff",
    "enqueue",
    "parked",
    "requeue",
]
