"""What a tab looks like in Google Sheets: the `:batchUpdate` requests that set it up.

Frozen bold header, hidden key column, warning-only protection of what podops fills
in, checkboxes, plain-text columns for pasted tracking numbers, status colours.
"""

from __future__ import annotations

from typing import Any

from podops.ports.sheet import TabSpec
from podops.sheet.rows import STATUS_COLOURS

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
    if with_formats and tab.status_column:
        target = columns(tab.headers.index(tab.status_column), 1)
        for rank, (label, colour) in enumerate(STATUS_COLOURS.items()):
            condition = {"type": "TEXT_EQ", "values": [{"userEnteredValue": label}]}
            rule = {
                "ranges": [target],
                "booleanRule": {
                    "condition": condition,
                    "format": {"backgroundColor": _hex_colour(colour)},
                },
            }
            batch.append({"addConditionalFormatRule": {"rule": rule, "index": rank}})
    return batch


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
