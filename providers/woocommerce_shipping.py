"""The shipping line of a WooCommerce order: which method the customer paid for.

`shipping_lines[]` entries carry `method_id` (`flat_rate`, `free_shipping`, a
plugin's id), `instance_id` (which configured instance of it, a digit string
in WooCommerce 3.4+) and `method_title` (what the customer saw, "Express").
The id is read as `method_id:instance_id` when both are there, so a store's
table can tell two flat rates apart (or name just `flat_rate`, or the title).
The first line is used; lines naming different methods are flagged for a
person rather than one of them silently winning.
"""

from __future__ import annotations

from typing import Any

from podops.incoming import shown


def shipping_line(data: dict[str, Any], problems: list[str]) -> tuple[str, str]:
    """(method id, title) of the order's shipping line; ("", "") when it has none."""
    raw = data.get("shipping_lines")
    if raw is None:
        return "", ""
    if not isinstance(raw, list):
        problems.append(f"shipping lines {shown(raw)} are not a list; no shipping method read")
        return "", ""
    found: list[tuple[str, str]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        read = _read(entry, problems)
        if read != ("", "") and read not in found:
            found.append(read)
    if len(found) > 1:
        names = ", ".join(title or method for method, title in found)
        problems.append(
            f"the store sent {len(found)} shipping methods ({names}); podops uses the first: "
            "check the shipping speed"
        )
    return found[0] if found else ("", "")


def _read(entry: dict[str, Any], problems: list[str]) -> tuple[str, str]:
    method, instance, title = (entry.get(k) for k in ("method_id", "instance_id", "method_title"))
    texts = []
    for name, value in (("method id", method), ("instance id", instance), ("title", title)):
        if value is None or isinstance(value, str):
            texts.append((value or "").strip())
        elif isinstance(value, int) and not isinstance(value, bool):
            texts.append(str(value))
        else:
            problems.append(f"shipping method {name} {shown(value)} is not text; not used")
            texts.append("")
    method_id, instance_id, method_title = texts
    if method_id and instance_id and instance_id != "0":
        method_id = f"{method_id}:{instance_id}"
    return method_id, method_title
