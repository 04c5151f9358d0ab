"""What a tab looks like in Google Sheets: the `:batchUpdate` requests that set it up.

Frozen bold header, hidden key column, warning-only protection of what podops fills
in, checkboxes, plain-text columns for pasted tracking numbers, status colours (and the
tracking cells of shipped rows in their status's green), and on the Orders tab one filter
view per order state.
"""

from __future__ import annotations

from typing import Any

from podops.ports.sheet import TabSpec
from podops.sheet.rows import FILTER_VIEWS, RETURN, SHIPPED_TRACKING, STATUS_COLOURS

PROTECTION_TAG = "podops: filled in by podops"


def _hex_colour(hex_rgb: str) -> dict[str, float]:
    red, green, blue = (int(hex_rgb[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {"red": round(red, 3), "green": round(green, 3), "blue": round(blue, 3)}


def setup_requests(
    tab: TabSpec, sheet_id: int, *, with_formats: bool, with_protection: bool = True
) -> list[dict[str, Any]]:
    """Frozen bold header, hidden key, protection, checkboxes, text columns, colours.

    Everything but protection and colours can be sent again harmlessly (each request
    sets a state), which is how a periodic check repairs what people undid."""

    def columns(index: int, first_row: int = 0) -> dict[str, Any]:
        return {
            "sheetId": sheet_id,
            "startRowIndex": first_row,
            "startColumnIndex": index,
            "endColumnIndex": index + 1,
        }

    batch: list[dict[str, Any]] = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": sheet_id, "gridProperties": {"frozenRowCount": 1}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
        {
            "repeatCell": {
                "range": {"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1},
                "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                "fields": "userEnteredFormat.textFormat.bold",
            }
        },
    ]
    for index, header in enumerate(tab.headers):
        if header in tab.hidden:
            batch.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": index,
                            "endIndex": index + 1,
                        },
                        "properties": {"hiddenByUser": True},
                        "fields": "hiddenByUser",
                    }
                }
            )
        if header in tab.checkboxes:
            rule = {"condition": {"type": "BOOLEAN"}, "strict": True, "showCustomUi": True}
            batch.append({"setDataValidation": {"range": columns(index, 1), "rule": rule}})
        if header in tab.text_columns:
            batch.append(
                {
                    "repeatCell": {
                        "range": columns(index, 1),
                        "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
    if with_protection:
        batch.extend(_protections(tab, sheet_id))
    if with_formats:
        batch.extend(format_requests(tab, sheet_id))
    return batch


def format_requests(tab: TabSpec, sheet_id: int, start: int = 0) -> list[dict[str, Any]]:
    """The colour rules, in order; `start`: the rules from there on (a sheet made before
    the tracking colours has only the status ones: the rest are added)."""
    if not tab.status_column:
        return []
    status_at = tab.headers.index(tab.status_column)
    rules: list[dict[str, Any]] = []
    for label, colour in STATUS_COLOURS.items():
        condition = {"type": "TEXT_EQ", "values": [{"userEnteredValue": label}]}
        rules.append(_rule([_column(sheet_id, status_at)], condition, colour))
    tracking = [tab.headers.index(h) for h in ("tracking", "tracking link") if h in tab.headers]
    if tracking:
        letter = _letter(status_at + 1)
        for label in SHIPPED_TRACKING:
            formula = f'=${letter}2="{label}"'
            condition = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}
            ranges = [_column(sheet_id, i) for i in tracking]
            rules.append(_rule(ranges, condition, STATUS_COLOURS[label]))
    return [
        {"addConditionalFormatRule": {"rule": rule, "index": rank}}
        for rank, rule in enumerate(rules)
        if rank >= start
    ]


def format_count(tab: TabSpec) -> int:
    return len(format_requests(tab, 0))


def filter_view_requests(tab: TabSpec, sheet_id: int, have: set[str]) -> list[dict[str, Any]]:
    """`addFilterView` for each state view of `FILTER_VIEWS` the tab lacks (by title):
    rows whose status is one of the view's, newest first is the tab's own order."""
    if not tab.status_column or RETURN not in tab.headers:
        return []
    letter = _letter(tab.headers.index(tab.status_column) + 1)
    returned = _letter(tab.headers.index(RETURN) + 1)
    requests = []
    for title, labels in FILTER_VIEWS.items():
        if title in have:
            continue
        tests = [f'${letter}2="{label}"' for label in labels]
        if title == "returned":
            tests.append(f'${returned}2<>""')
        formula = f"=OR({','.join(tests)})"
        condition = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}
        view = {
            "title": title,
            "range": {"sheetId": sheet_id, "startRowIndex": 0},
            "filterSpecs": [
                {
                    "columnIndex": tab.headers.index(tab.status_column),
                    "filterCriteria": {"condition": condition},
                }
            ],
        }
        requests.append({"addFilterView": {"filter": view}})
    return requests


def _column(sheet_id: int, index: int) -> dict[str, Any]:
    return {
        "sheetId": sheet_id,
        "startRowIndex": 1,
        "startColumnIndex": index,
        "endColumnIndex": index + 1,
    }


def _rule(ranges: list[dict[str, Any]], condition: dict[str, Any], colour: str) -> dict[str, Any]:
    return {
        "ranges": ranges,
        "booleanRule": {"condition": condition, "format": {"backgroundColor": _hex_colour(colour)}},
    }


def _letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _protections(tab: TabSpec, sheet_id: int) -> list[dict[str, Any]]:
    """Warning-only protection on every run of columns people should not edit."""
    spans: list[tuple[int, int]] = []
    for index, header in enumerate(tab.headers):
        if tab.protect_all or header not in tab.editable:
            if spans and spans[-1][1] == index:
                spans[-1] = (spans[-1][0], index + 1)
            else:
                spans.append((index, index + 1))
    if tab.protect_all:
        spans = [(0, len(tab.headers))]
    return [
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {
                        "sheetId": sheet_id,
                        "startColumnIndex": start,
                        "endColumnIndex": stop,
                    },
                    "description": PROTECTION_TAG,
                    "warningOnly": True,
                }
            }
        }
        for start, stop in spans
    ]
