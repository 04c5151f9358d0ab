"""Services: the only code that changes orders. Each call runs inside one unit
of work (the caller's `Database.unit_of_work()`), moves the order through the
lifecycle table, writes an audit event and schedules side effects in the outbox.
`tests/core/test_only_services_change_orders.py` holds every other module to it.

- `order_changes`    the one path a lifecycle step takes: table, status, event, notice
- `lookup`           finding orders by reference (read-only)
- `receiving`        new orders from shops and files, in bulk; `new_orders` decides
                     what each becomes (lines, problems, first status)
- `store_changes`    a known order changed in its shop (cancelled, held, back)
- `orders`           staff actions before submission: hold, release, cancel, edit
- `field_edits`      staff edits of a line's fields, limited to its template's fields
- `address`          shipping address changes (staff, the shop, a provider) and what
                     the address still lacks; `address_checks` records verifications;
                     `split_address` a split order's new address, part by part
- `notes`            staff's notes on lines (the sheet's Notes column)
- `shipping_speed`   the speed an order ships at: staff set it; an unmapped one holds
- `designs`          print files recorded on lines, render refusals, late designs
- `photos`           staff's crop of a photo, its resolution check, "accept anyway"
- `readiness`        whether a due order has its print files (problems on the order)
- `fulfillments`     an order's fulfillments (one per provider): planned when it
                     leaves, each moved by its own table, the order following them
- `submission`       the steps around a provider call, and the claim a worker holds
- `provider_answers` what a provider reports: cancellation, status words, polling
- `shipping`         production, tracking by parcel, completion, returns
- `bulk_tracking`    many parcels at once (the Tracking tab, CSV files)
- `remakes`          lines made again after the order shipped: a fulfillment of its own
- `returns`          goods that came back (whole order or lines and units), with the reason
- `fulfilled_by_shop` orders the shop already fulfilled by hand: completed, nothing sent
"""

from podops.services.address import change_address, set_address
from podops.services.bulk_tracking import PlannedParcel, record_parcels
from podops.services.designs import (
    AcceptedEdit,
    claim_revision,
    record_late_design,
    record_print_file,
    record_render_failure,
    record_render_refusal,
    release_design_hold,
)
from podops.services.field_edits import FieldEdit, edit_fields
from podops.services.fulfilled_by_shop import record_fulfilled_by_shop
from podops.services.fulfillments import (
    fulfillment_by_reference,
    lock_order,
    plan_fulfillments,
    route_lines,
)
from podops.services.lookup import find_orders, get_order
from podops.services.notes import line_note, set_line_note
from podops.services.orders import (
    cancel,
    design_ready,
    edit_personalization,
    flag_design,
    hold,
    release,
)
from podops.services.photos import (
    accept_photo,
    record_photo_fits,
    remember_photo_fits,
    set_crop_settings,
    set_crops,
)
from podops.services.provider_answers import (
    confirm_cancel,
    record_cancelled_at_provider,
    record_found_at_provider,
    record_provider_cost,
    record_provider_status,
    refuse_cancel,
    stamp_polled,
)
from podops.services.readiness import set_readiness
from podops.services.receiving import ReceiveResult, receive_order, receive_orders
from podops.services.remakes import RemakeLine, record_remake_parcel, remake
from podops.services.returns import ReturnWanted, return_order
from podops.services.shipping import (
    DuplicateTracking,
    complete,
    record_tracking,
    start_production,
)
from podops.services.shipping_speed import hold_for_shipping, set_shipping_speed
from podops.services.split_address import PartAnswer, parts_behind, record_split_address
from podops.services.submission import (
    begin_submit,
    confirm_claim,
    drop_claim,
    fall_back,
    mark_submit_failed,
    mark_submitted,
    retry_submission,
    take_claim,
)

__all__ = [
    "AcceptedEdit",
    "DuplicateTracking",
    "FieldEdit",
    "PartAnswer",
    "PlannedParcel",
    "ReceiveResult",
    "RemakeLine",
    "ReturnWanted",
    "accept_photo",
    "begin_submit",
    "cancel",
    "change_address",
    "claim_revision",
    "complete",
    "confirm_cancel",
    "confirm_claim",
    "design_ready",
    "drop_claim",
    "edit_fields",
    "edit_personalization",
    "fall_back",
    "find_orders",
    "flag_design",
    "fulfillment_by_reference",
    "get_order",
    "hold",
    "hold_for_shipping",
    "line_note",
    "lock_order",
    "mark_submit_failed",
    "mark_submitted",
    "parts_behind",
    "plan_fulfillments",
    "receive_order",
    "receive_orders",
    "record_cancelled_at_provider",
    "record_found_at_provider",
    "record_fulfilled_by_shop",
    "record_late_design",
    "record_parcels",
    "record_photo_fits",
    "record_print_file",
    "record_provider_cost",
    "record_provider_status",
    "record_remake_parcel",
    "record_render_failure",
    "record_render_refusal",
    "record_split_address",
    "record_tracking",
    "refuse_cancel",
    "release",
    "release_design_hold",
    "remake",
    "remember_photo_fits",
    "retry_submission",
    "return_order",
    "route_lines",
    "set_address",
    "set_crop_settings",
    "set_crops",
    "set_line_note",
    "set_readiness",
    "set_shipping_speed",
    "stamp_polled",
    "start_production",
    "take_claim",
]
