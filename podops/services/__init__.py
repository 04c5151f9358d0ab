"""Services: the only code that changes orders. Each call runs inside one unit
of work (the caller's `Database.unit_of_work()`), moves the order through the
lifecycle table, writes an audit event and schedules side effects in the outbox.
"""

from podops.services.lookup import find_orders, get_order
from podops.services.orders import (
    cancel,
    design_ready,
    edit_personalization,
    flag_design,
    hold,
    release,
)
from podops.services.receiving import ReceiveResult, receive_order, receive_orders
from podops.services.shipping import (
    DuplicateTracking,
    complete,
    record_tracking,
    return_order,
    start_production,
)
from podops.services.submission import (
    begin_submit,
    mark_submit_failed,
    mark_submitted,
    retry_submission,
)

__all__ = [
    "DuplicateTracking",
    "ReceiveResult",
    "begin_submit",
    "cancel",
    "complete",
    "design_ready",
    "edit_personalization",
    "find_orders",
    "flag_design",
    "get_order",
    "hold",
    "mark_submit_failed",
    "mark_submitted",
    "receive_order",
    "receive_orders",
    "record_tracking",
    "release",
    "retry_submission",
    "return_order",
    "start_production",
]
