"""A fake Google Sheets API v4 server on 127.0.0.1, faithful to what gspread 6.2 sends.

Paths as in gspread/urls.py: `/v4/spreadsheets/{id}` (metadata),
`/{id}:batchUpdate`, `/{id}/values:batchGet`, `/{id}/values:batchUpdate`,
`/{id}/values/{range}` (GET/PUT) and `/{id}/values/{range}:append`, with the
range percent-encoded. Responses and errors use the recorded shapes
(`{"error": {"code", "message", "status"}}`); writes beyond the grid fail as
Google's do; a batchUpdate applies atomically. The fake counts requests and
bytes, records each valueInputOption, and can answer 429 RESOURCE_EXHAUSTED.

Formulas (typed by a person, or written USER_ENTERED) behave as in Google: read
as FORMATTED_VALUE they give their computed value (the fake computes NOW(),
TODAY(), arithmetic and ="text"; anything else shows #NAME?), read as FORMULA
they give the formula text, and other cells their unformatted value (numbers
and booleans as JSON numbers and booleans).
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote

from tests.fakes.sheets_values import computed, shown

REAL_BASE = "https://sheets.googleapis.com"
_RANGE = re.compile(r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<bare>[^!']+))(?:!(?P<cells>.*))?$")
_CELLS = re.compile(r"^(?P<c1>[A-Z]*)(?P<r1>\d*)(?::(?P<c2>[A-Z]*)(?P<r2>\d*))?$")


FILTER_CONDITIONS = frozenset(
    {
        "NUMBER_GREATER",
        "NUMBER_LESS",
        "NUMBER_EQ",
        "NUMBER_NOT_EQ",
        "TEXT_CONTAINS",
        "TEXT_NOT_CONTAINS",
        "TEXT_STARTS_WITH",
        "TEXT_ENDS_WITH",
        "TEXT_EQ",
        "DATE_EQ",
        "BLANK",
        "NOT_BLANK",
        "CUSTOM_FORMULA",
    }
)
"""BooleanCondition types whose docs say "Supported by ... filters" (a subset)."""


class ApiFailure(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message


def col_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def col_letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


@dataclass
class Tab:
    sheet_id: int
    title: str
    rows: int = 1000
    cols: int = 26
    frozen: int = 0
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    protected: list[dict[str, Any]] = field(default_factory=list)
    formats: list[dict[str, Any]] = field(default_factory=list)
    validations: list[dict[str, Any]] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)
    formulas: set[tuple[int, int]] = field(default_factory=set)
    filter_views: list[dict[str, Any]] = field(default_factory=list)

    def last_row(self) -> int:
        return self.extent()[0]

    def last_col(self) -> int:
        return self.extent()[1]

    def extent(self) -> tuple[int, int]:
        """(last row, last column) holding a value; one pass over the cells."""
        if not self.cells:
            return 0, 0
        rows, cols = zip(*self.cells, strict=True)
        return max(rows), max(cols)


@dataclass
class Logged:
    method: str
    path: str
    bytes_in: int
    bytes_out: int
    status: int


class FakeSheets:
    """State and behaviour of one spreadsheet; served by `serve()`."""

    def __init__(self, spreadsheet_id: str = "sheet-123") -> None:
        self.id = spreadsheet_id
        self.tabs: list[Tab] = [Tab(0, "Sheet1")]
        self.log: list[Logged] = []
        self.input_options: list[str] = []
        self.fail_queue: list[int] = []
        self.fail_writes: list[int] = []
        """Statuses the next POST requests answer with (reads go through)."""
        self.lock = threading.Lock()
        self._next_protect = 1000

    # ---- test helpers (what a person does in the browser) ----
    def tab(self, title: str) -> Tab:
        for tab in self.tabs:
            if tab.title == title:
                return tab
        raise ApiFailure(400, "INVALID_ARGUMENT", f"Unable to parse range: {title}")

    def values(self, title: str) -> list[list[str]]:
        """What a person sees: formulas show their computed value."""
        tab = self.tab(title)
        last_row, last_col = tab.extent()
        return [
            [self.cell(tab, r, c, "FORMATTED_VALUE") for c in range(1, last_col + 1)]
            for r in range(1, last_row + 1)
        ]

    @staticmethod
    def cell(tab: Tab, row: int, col: int, render: str) -> Any:
        """One cell as `valueRenderOption` renders it."""
        value = tab.cells.get((row, col), "")
        if tab.formulas and (row, col) in tab.formulas:
            return value if render == "FORMULA" else computed(str(value))
        return value if render == "FORMULA" else shown(value)

    def set(self, title: str, row: int, col: int, value: Any) -> None:
        """Type into a cell as in the browser: text starting with `=` is a formula."""
        tab = self.tab(title)
        tab.rows = max(tab.rows, row)  # pasting below the grid grows it, as in the browser
        tab.cols = max(tab.cols, col)
        tab.formulas.discard((row, col))
        if value in ("", None):
            tab.cells.pop((row, col), None)
        else:
            tab.cells[(row, col)] = value
            if isinstance(value, str) and value.startswith("="):
                tab.formulas.add((row, col))

    def delete_tab(self, title: str) -> None:
        self.tabs = [t for t in self.tabs if t.title != title]

    def fail_next(self, count: int = 1, status: int = 429) -> None:
        self.fail_queue.extend([status] * count)

    def reset_log(self) -> None:
        self.log.clear()

    @property
    def bytes(self) -> int:
        return sum(entry.bytes_in + entry.bytes_out for entry in self.log)

    # ---- API ----
    def handle(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Any:
        prefix = f"/v4/spreadsheets/{self.id}"
        if not path.startswith(prefix):
            raise ApiFailure(404, "NOT_FOUND", "Requested entity was not found.")
        rest = path[len(prefix) :]
        if method == "GET" and rest == "":
            return self.metadata()
        if method == "POST" and rest == ":batchUpdate":
            return self.batch_update(body)
        if method == "GET" and rest == "/values:batchGet":
            extents: dict[int, tuple[int, int]] = {}
            render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
            if render not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
                raise ApiFailure(400, "INVALID_ARGUMENT", "Invalid valueRenderOption")
            return {
                "spreadsheetId": self.id,
                "valueRanges": [
                    self.get_range(r, extents, render) for r in query.get("ranges", [])
                ],
            }
        if method == "POST" and rest == "/values:batchUpdate":
            return self.values_batch_update(body)
        if rest.startswith("/values/"):
            name = unquote(rest[len("/values/") :])
            if method == "GET":
                return self.get_range(name)
            option = query.get("valueInputOption", [""])[0]
            if method == "PUT":
                return self.write(name, body.get("values", []), option)
            if method == "POST" and name.endswith(":append"):
                return self.append(name[: -len(":append")], body.get("values", []), option)
        raise ApiFailure(404, "NOT_FOUND", f"no route {method} {rest}")

    def metadata(self) -> dict[str, Any]:
        sheets = []
        for index, tab in enumerate(self.tabs):
            grid: dict[str, Any] = {"rowCount": tab.rows, "columnCount": tab.cols}
            if tab.frozen:
                grid["frozenRowCount"] = tab.frozen
            entry: dict[str, Any] = {
                "properties": {
                    "sheetId": tab.sheet_id,
                    "title": tab.title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": grid,
                }
            }
            if tab.protected:
                entry["protectedRanges"] = copy.deepcopy(tab.protected)
            if tab.formats:
                entry["conditionalFormats"] = copy.deepcopy(tab.formats)
            if tab.filter_views:
                entry["filterViews"] = copy.deepcopy(tab.filter_views)
            sheets.append(entry)
        return {
            "spreadsheetId": self.id,
            "properties": {"title": "podops", "locale": "en_US", "timeZone": "Etc/GMT"},
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.id}/edit",
        }

    def parse(self, name: str) -> tuple[Tab, int, int, int | None, int | None]:
        match = _RANGE.match(name)
        cells = _CELLS.match((match.group("cells") or "") if match else "")
        if not match or not cells:
            raise ApiFailure(400, "INVALID_ARGUMENT", f"Unable to parse range: {name}")
        title = (
            match.group("quoted").replace("''", "'")
            if match.group("quoted")
            else match.group("bare")
        )
        try:
            tab = self.tab(title)
        except ApiFailure:
            raise ApiFailure(400, "INVALID_ARGUMENT", f"Unable to parse range: {name}") from None
        c1 = col_number(cells.group("c1")) if cells.group("c1") else 1
        r1 = int(cells.group("r1")) if cells.group("r1") else 1
        has_end = cells.group(0).find(":") >= 0
        c2 = (
            col_number(cells.group("c2"))
            if cells.group("c2")
            else (None if has_end or not cells.group("c1") else c1)
        )
        r2 = (
            int(cells.group("r2"))
            if cells.group("r2")
            else (None if has_end or not cells.group("r1") else r1)
        )
        return tab, r1, c1, r2, c2

    def get_range(
        self,
        name: str,
        extents: dict[int, tuple[int, int]] | None = None,
        render: str = "FORMATTED_VALUE",
    ) -> dict[str, Any]:
        """One range as `render` gives it; `extents` caches tab sizes within one request."""
        tab, r1, c1, r2, c2 = self.parse(name)
        extents = {} if extents is None else extents
        if tab.sheet_id not in extents:
            extents[tab.sheet_id] = tab.extent()
        filled_rows, filled_cols = extents[tab.sheet_id]
        last_r = min(r2 or tab.rows, filled_rows)
        last_c = min(c2 or tab.cols, filled_cols)
        cells, formulas, raw = tab.cells, tab.formulas, render != "FORMATTED_VALUE"
        rows = []
        for r in range(r1, last_r + 1):
            if formulas:
                row = [self.cell(tab, r, c, render) for c in range(c1, last_c + 1)]
            elif raw:
                row = [cells.get((r, c), "") for c in range(c1, last_c + 1)]
            else:
                row = [shown(cells.get((r, c), "")) for c in range(c1, last_c + 1)]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        end = f"{col_letters(c2 or tab.cols)}{r2 or tab.rows}"
        answer: dict[str, Any] = {
            "range": f"{tab.title}!{col_letters(c1)}{r1}:{end}",
            "majorDimension": "ROWS",
        }
        if rows:
            answer["values"] = rows
        return answer

    def write(self, name: str, values: list[list[Any]], option: str) -> dict[str, Any]:
        tab, r1, c1, height, width = self.check_write(name, values, option)
        self.input_options.append(option)
        cells, formulas = tab.cells, tab.formulas
        entered = option == "USER_ENTERED"
        for r, row in enumerate(values, start=r1):
            for c, value in enumerate(row, start=c1):
                if value is None:
                    continue
                key = (r, c)
                if formulas:
                    formulas.discard(key)
                if value == "":
                    cells.pop(key, None)
                    continue
                cells[key] = value
                if entered and isinstance(value, str) and value.startswith("="):
                    formulas.add(key)
        end = f"{col_letters(c1 + max(width, 1) - 1)}{r1 + max(height, 1) - 1}"
        return {
            "spreadsheetId": self.id,
            "updatedRange": f"{tab.title}!{col_letters(c1)}{r1}:{end}",
            "updatedRows": height,
            "updatedColumns": width,
            "updatedCells": height * width,
        }

    def check_write(
        self, name: str, values: list[list[Any]], option: str
    ) -> tuple[Tab, int, int, int, int]:
        """Refuse a write as Google does (bad option, beyond the grid) before any cell changes."""
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiFailure(400, "INVALID_ARGUMENT", "Invalid valueInputOption")
        tab, r1, c1, _, _ = self.parse(name)
        height, width = len(values), max((len(v) for v in values), default=0)
        if r1 + height - 1 > tab.rows or c1 + width - 1 > tab.cols:
            raise ApiFailure(
                400,
                "INVALID_ARGUMENT",
                f"Range ('{tab.title}'!{col_letters(c1)}{r1 + height - 1}) exceeds grid limits. "
                f"Max rows: {tab.rows}, max columns: {tab.cols}",
            )
        return tab, r1, c1, height, width

    def append(self, name: str, values: list[list[Any]], option: str) -> dict[str, Any]:
        tab, *_ = self.parse(name)
        start = tab.last_row() + 1
        tab.rows = max(tab.rows, start + len(values) - 1)
        result = self.write(f"'{tab.title}'!A{start}", values, option)
        return {"spreadsheetId": self.id, "updates": result}

    def values_batch_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """All or nothing: every range is checked before the first cell changes."""
        option = body.get("valueInputOption") or ""
        data = body.get("data", [])
        for entry in data:
            self.check_write(entry["range"], entry.get("values", []), option)
        responses = [self.write(entry["range"], entry.get("values", []), option) for entry in data]
        return {
            "spreadsheetId": self.id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
            "totalUpdatedColumns": max((r["updatedColumns"] for r in responses), default=0),
            "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
            "totalUpdatedSheets": len({r["updatedRange"].split("!")[0] for r in responses}),
            "responses": responses,
        }

    def by_id(self, sheet_id: int) -> Tab:
        for tab in self.tabs:
            if tab.sheet_id == sheet_id:
                return tab
        raise ApiFailure(400, "INVALID_ARGUMENT", f"No grid with id: {sheet_id}")

    def batch_update(self, body: dict[str, Any]) -> dict[str, Any]:
        # These requests change tab structure, never cells: the backup shares the cells.
        backup = [
            replace(
                tab,
                protected=copy.deepcopy(tab.protected),
                formats=copy.deepcopy(tab.formats),
                validations=copy.deepcopy(tab.validations),
                hidden=set(tab.hidden),
                filter_views=copy.deepcopy(tab.filter_views),
            )
            for tab in self.tabs
        ]
        try:
            replies = [self.apply_request(request) for request in body.get("requests", [])]
        except (ApiFailure, KeyError) as exc:
            self.tabs = backup
            if isinstance(exc, ApiFailure):
                raise
            raise ApiFailure(400, "INVALID_ARGUMENT", f"Invalid request: missing {exc}") from None
        return {"spreadsheetId": self.id, "replies": replies}

    def add_filter_view(self, view: dict[str, Any]) -> dict[str, Any]:
        """AddFilterViewRequest: the view's `range` names its sheet; an id is given when
        the request has none, and one already used is refused. Titles may repeat (Google
        allows it). Each filterSpec needs a column inside the range and a criteria object;
        a condition's type must be one filters take (BooleanCondition docs)."""
        tab = self.by_id(view["range"]["sheetId"])
        used = {v["filterViewId"] for t in self.tabs for v in t.filter_views}
        view_id = view.get("filterViewId")
        if view_id in used:
            raise ApiFailure(
                400, "INVALID_ARGUMENT", f"Invalid requests[0].addFilterView: id {view_id} in use"
            )
        if view_id is None:
            view_id = self._next_protect
            self._next_protect += 1
        for spec in view.get("filterSpecs", []):
            column = spec["columnIndex"]
            if not 0 <= column < tab.cols:
                raise ApiFailure(400, "INVALID_ARGUMENT", f"column {column} is outside the grid")
            condition = spec["filterCriteria"].get("condition")
            if condition is not None and condition["type"] not in FILTER_CONDITIONS:
                raise ApiFailure(
                    400,
                    "INVALID_ARGUMENT",
                    f"Invalid requests[0].addFilterView: condition {condition['type']} "
                    "is not supported by filters",
                )
        stored = dict(copy.deepcopy(view), filterViewId=view_id)
        tab.filter_views.append(stored)
        return {"addFilterView": {"filter": copy.deepcopy(stored)}}

    def apply_request(self, request: dict[str, Any]) -> dict[str, Any]:
        ((kind, spec),) = request.items()
        if kind == "addSheet":
            props = spec["properties"]
            if any(t.title == props["title"] for t in self.tabs):
                raise ApiFailure(
                    400,
                    "INVALID_ARGUMENT",
                    f'A sheet with the name "{props["title"]}" already exists. '
                    "Please enter another name.",
                )
            grid = props.get("gridProperties", {})
            sheet_id = props.get("sheetId", max((t.sheet_id for t in self.tabs), default=0) + 1)
            tab = Tab(
                sheet_id,
                props["title"],
                grid.get("rowCount", 1000),
                grid.get("columnCount", 26),
                grid.get("frozenRowCount", 0),
            )
            self.tabs.append(tab)
            return {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": tab.title,
                        "index": len(self.tabs) - 1,
                        "sheetType": "GRID",
                        "gridProperties": {"rowCount": tab.rows, "columnCount": tab.cols},
                    }
                }
            }
        if kind == "deleteSheet":
            self.tabs.remove(self.by_id(spec["sheetId"]))
            return {}
        if kind == "appendDimension":
            tab = self.by_id(spec["sheetId"])
            if spec["dimension"] == "ROWS":
                tab.rows += spec["length"]
            else:
                tab.cols += spec["length"]
            return {}
        if kind == "updateSheetProperties":
            tab = self.by_id(spec["properties"]["sheetId"])
            grid = spec["properties"].get("gridProperties", {})
            tab.frozen = grid.get("frozenRowCount", tab.frozen)
            tab.rows = grid.get("rowCount", tab.rows)
            tab.cols = grid.get("columnCount", tab.cols)
            return {}
        if kind == "updateDimensionProperties":
            rng = spec["range"]
            tab = self.by_id(rng["sheetId"])
            if spec["properties"].get("hiddenByUser"):
                tab.hidden.update(range(rng["startIndex"], rng["endIndex"]))
            else:
                tab.hidden.difference_update(range(rng["startIndex"], rng["endIndex"]))
            return {}
        if kind == "addProtectedRange":
            protected = dict(spec["protectedRange"], protectedRangeId=self._next_protect)
            self._next_protect += 1
            self.by_id(protected["range"]["sheetId"]).protected.append(protected)
            return {"addProtectedRange": {"protectedRange": protected}}
        if kind == "setDataValidation":
            tab = self.by_id(spec["range"]["sheetId"])
            # A rule replaces the one on the same cells; no rule clears them.
            tab.validations = [v for v in tab.validations if v["range"] != spec["range"]]
            if spec.get("rule"):
                tab.validations.append(spec)
            return {}
        if kind == "addConditionalFormatRule":
            self.by_id(spec["rule"]["ranges"][0]["sheetId"]).formats.append(spec["rule"])
            return {}
        if kind == "addFilterView":
            return self.add_filter_view(spec["filter"])
        if kind == "deleteFilterView":
            for tab in self.tabs:
                kept = [v for v in tab.filter_views if v["filterViewId"] != spec["filterId"]]
                if len(kept) < len(tab.filter_views):
                    tab.filter_views = kept
                    return {}
            raise ApiFailure(400, "INVALID_ARGUMENT", f"No filter view with id: {spec['filterId']}")
        if kind == "repeatCell":
            self.by_id(spec["range"]["sheetId"])
            return {}
        raise ApiFailure(400, "INVALID_ARGUMENT", f"Invalid requests[0]: unknown request {kind}")
