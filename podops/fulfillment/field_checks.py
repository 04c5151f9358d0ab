"""Checking a staff edit against the line's template before it is saved.

Every surface (the CLI's `podops edit`, the Slack edit form, the sheet's field
columns) asks here first, outside any transaction: the line's template says
which fields it prints (`services.field_edits.plan_field_edit` sorts and refuses),
and each new photo link is fetched and decoded by the renderer's own rules
(through the `DesignChecks` port) so a dead, private or non-image link is refused
with the reason instead of being saved and failing at the next render. The
surface then saves the checked edit with `services.edit_fields` in its own unit
of work.
"""

from __future__ import annotations

from collections.abc import Mapping

from podops import services
from podops.db import Database
from podops.errors import InvalidInput
from podops.ports.render import DesignChecks, TemplateFields
from podops.refs import OrderRef
from podops.services.field_edits import FieldEdit, plan_field_edit
from podops.services.orders import line_of


class FieldChecks:
    """Template fields and photo links, checked for staff edits (see the module docstring)."""

    def __init__(self, db: Database, checks: DesignChecks) -> None:
        self.db = db
        self.checks = checks

    def template_fields(self, product_key: str) -> TemplateFields:
        """The fields a product prints (RenderRefused when it has no usable template)."""
        return self.checks.template_fields(product_key)

    def check(
        self,
        reference: str | OrderRef,
        position: int,
        changes: Mapping[str, str],
        *,
        fetch_photos: bool = True,
    ) -> FieldEdit:
        """The edit sorted by the line's template, its photo links fetched and decoded;
        InvalidInput or RenderRefused with the reason, before anything is saved.
        `fetch_photos=False` checks the fields only (fast enough for Slack's ack)."""
        with self.db.reading() as session:
            order = services.get_order(session, reference)
            item = line_of(order, position)
            canonical, label = OrderRef.of(order), item.reference
            product_key = item.product_key
            current = (dict(item.personalization), dict(item.image_urls))
        if not product_key:
            raise InvalidInput(
                f"line {label} has no product to print (no routing rule for its SKU): "
                "route it before editing its fields"
            )
        fields = self.checks.template_fields(product_key)
        edit = plan_field_edit(fields, canonical, position, current, changes)
        for name, url in edit.links.items() if fetch_photos else ():
            self.checks.check_photo(product_key, name, url)
        return edit

    def check_lines(
        self, reference: str | OrderRef, changes: Mapping[int, Mapping[str, str]]
    ) -> list[FieldEdit]:
        """Several lines' edits, all checked before any is saved."""
        return [self.check(reference, position, changes[position]) for position in sorted(changes)]
