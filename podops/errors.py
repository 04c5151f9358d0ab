"""The domain's exception tree.

Every error a person may see carries a stable `code` and a message written for
people ("order 1234 is shipped; it can no longer be cancelled"). Adapters map
their own failures onto these at the boundary (`raise ... from`), and each
channel (CLI, Slack, sheet) turns them into words in one place.
"""

from __future__ import annotations

from enum import StrEnum

from podops.logs import mask_secrets


class ErrorCode(StrEnum):
    NOT_FOUND = "not_found"
    AMBIGUOUS = "ambiguous"
    ILLEGAL_TRANSITION = "illegal_transition"
    CONFLICT = "conflict"
    INVALID = "invalid"
    LOCKED = "locked"
    CONFIG = "config"
    DATABASE = "database"
    RENDER = "render"
    PROVIDER = "provider"
    STORAGE = "storage"
    STORE = "store"
    FORBIDDEN = "forbidden"


class PodopsError(Exception):
    """Base of every error podops explains to a person."""

    code: ErrorCode = ErrorCode.INVALID

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DomainRefusal(PodopsError):
    """The business rules refuse the request (CLI exit 1)."""


class OrderNotFound(DomainRefusal):
    code = ErrorCode.NOT_FOUND

    def __init__(self, reference: str, suggestions: list[str] | None = None) -> None:
        self.reference = reference
        self.suggestions = suggestions or []
        message = f"no order {reference}"
        if self.suggestions:
            message += f" (did you mean {' or '.join(self.suggestions)}?)"
        super().__init__(message)


class AmbiguousReference(DomainRefusal):
    code = ErrorCode.AMBIGUOUS


class IllegalTransition(DomainRefusal):
    code = ErrorCode.ILLEGAL_TRANSITION


class OrderLocked(DomainRefusal):
    """The order was submitted; its design can no longer change."""

    code = ErrorCode.LOCKED


class ConcurrentModification(DomainRefusal):
    code = ErrorCode.CONFLICT


class InvalidInput(DomainRefusal):
    """Input from a person or an outside system failed validation."""

    code = ErrorCode.INVALID


class Forbidden(DomainRefusal):
    code = ErrorCode.FORBIDDEN


class ConfigError(PodopsError):
    """The config file or environment is unreadable or invalid (CLI exit 2)."""

    code = ErrorCode.CONFIG


class DatabaseUnavailable(PodopsError):
    """The database cannot be reached or is not set up (CLI exit 3)."""

    code = ErrorCode.DATABASE


class RenderRefused(DomainRefusal):
    """A print file cannot be made from this template, text or image."""

    code = ErrorCode.RENDER


class OutsideServiceError(PodopsError):
    """A store, provider, Slack or the sheet failed; `retryable` says whether to try again.

    The message is where outside text enters podops (an answer's body, quoted by the
    adapter), and it is stored (`last_error`, events) and shown (Slack, the sheet): a
    service that echoes our request quotes the key we sent, so every configured
    secret is masked here, whichever adapter built the message."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(mask_secrets(message))
        self.retryable = retryable


class StoreError(OutsideServiceError):
    code = ErrorCode.STORE


class StoreHoldsOrder(StoreError):
    """The shop is up but holds this one order (a hold in Shopify): the push is retried
    with back-off like an outage, and its message says who holds it and what to
    release, but the store's other messages go on (the shop is not down)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class ProviderError(OutsideServiceError):
    code = ErrorCode.PROVIDER


class StorageUnavailable(OutsideServiceError):
    """The file storage (an S3 bucket, or the local folder) did not take or give a file:
    unreachable, refusing, or out of space. Nothing was stored; the caller retries."""

    code = ErrorCode.STORAGE

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message, retryable=retryable)
