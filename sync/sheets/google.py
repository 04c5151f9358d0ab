"""Google Sheets adapter (gspread): the spreadsheet port over the Sheets API v4.

Stays inside Google's quotas (60 reads and 60 writes a minute per user): the
tab layout is fetched and checked once per process, then again every
`recheck_seconds` (an hour) and after any failed write, so a frozen row,
hidden key column, checkbox validation or protection someone removed comes
back without a restart; in between it is cached, and each cycle makes one
`values:batchGet` and one `values:batchUpdate` (RAW, so text is never run as a
formula), and the grid grows with one `:batchUpdate` only when rows run out.
Reads and writes are each paced under those quotas on a `Limits` backend, shared
by every podops process on PostgreSQL (the quota is the service account's, not a
process's); a 429 pauses that kind of call for all of them.
Bodies are split below `body_limit` (Google recommends under 2 MB). A 429 or a
5xx is retried a bounded number of times with jittered exponential back-off
(gspread's own BackOffHTTPClient would retry forever, so it is not used).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gspread
import requests
from gspread.exceptions import APIError
from gspread.urls import (
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from podops.errors import ConfigError
from podops.ports.sheet import (
    CellBlock,
    Prepared,
    ReadRange,
    SheetError,
    SheetStats,
    TabMissing,
    TabSpec,
)
from podops.settings import SheetConfig
from podops.shared_limits import Limits, LocalLimits, Pace, Rate, Throttled
from podops.sheet.rows import cell_text
from sync.sheets.google_layout import (
    PROTECTION_TAG,
    filter_view_requests,
    format_count,
    format_requests,
    setup_requests,
)

BODY_LIMIT = 1_800_000
HEADROOM = 200
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
QUOTA_RATE = Rate(0.9, burst=6)
"""Per kind (reads, writes): at most 60 in any minute (6 at once, then 54 paced)."""
QUOTA_PAUSE_S = 10.0
"""After a 429 (Google sends no Retry-After), every process waits this long."""


def column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(tab: str, row: int, col: int, last_col: int, last_row: int | None) -> str:
    title = "'" + tab.replace("'", "''") + "'"
    end = "" if last_row is None else str(last_row)
    return f"{title}!{column_letter(col)}{row}:{column_letter(last_col)}{end}"


@dataclass(slots=True)
class TabMeta:
    sheet_id: int
    rows: int
    cols: int
    frozen: int
    protected: bool
    formats: int
    filter_views: set[str] = field(default_factory=set)
    """Titles of the tab's filter views (staff may add their own: only ours are added)."""


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, APIError):
        return exc.response.status_code in RETRYABLE
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


class GoogleSheet:
    """One spreadsheet, addressed by id, through a gspread client."""

    def __init__(
        self,
        client: gspread.Client,
        spreadsheet_id: str,
        *,
        body_limit: int = BODY_LIMIT,
        attempts: int = 5,
        wait_min: float = 1.0,
        wait_max: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        recheck_seconds: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
        limits: Limits | None = None,
    ) -> None:
        self.http = client.http_client
        self.id = spreadsheet_id
        self.body_limit = body_limit
        self.description = f"Google spreadsheet {spreadsheet_id}"
        self.stats = SheetStats()
        self._meta: dict[str, TabMeta] | None = None
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        self._next_check = 0.0
        shared = limits or LocalLimits()
        self._paces = {
            kind: Pace(shared, f"sheets:{kind}", QUOTA_RATE) for kind in ("read", "write")
        }
        self._retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_random_exponential(multiplier=wait_min, max=wait_max),
            retry=retry_if_exception(_transient),
            sleep=sleep,
            before_sleep=lambda _state: self._count_retry(),
            reraise=True,
        )

    def _count_retry(self) -> None:
        self.stats.retries += 1

    def _call(self, kind: str, sent: int, call: Callable[[], requests.Response]) -> Any:
        """Run one API call with bounded retries; map failures to SheetError.

        Bytes are counted from what goes over the wire (`sent`, the response body)."""

        pace = self._paces["read" if kind == "read" else "write"]

        def attempt() -> requests.Response:
            try:
                pace.acquire()
            except Throttled as exc:
                raise SheetError(f"Google Sheets quota: {exc}", retryable=True) from exc
            if kind == "read":
                self.stats.reads += 1
            else:
                self.stats.writes += 1
            self.stats.bytes_sent += sent
            try:
                return call()
            except APIError as exc:
                if exc.response.status_code == 429:
                    pace.pause(QUOTA_PAUSE_S)
                raise

        try:
            response = self._retrying(attempt)
        except APIError as exc:
            if kind == "write":
                self._meta = None  # check the layout again before the next write
            raise self._error(exc) from exc
        except requests.RequestException as exc:
            if kind == "write":
                self._meta = None
            raise SheetError(f"cannot reach Google Sheets: {exc}", retryable=True) from exc
        self.stats.bytes_received += len(response.content)
        return response.json()

    def _error(self, exc: APIError) -> SheetError:
        status = exc.response.status_code
        message = str(exc.error.get("message", "")) if isinstance(exc.error, dict) else str(exc)
        if status == 429:
            return SheetError(
                f"Google Sheets quota exceeded, will try again: {message}", retryable=True
            )
        if status in RETRYABLE:
            return SheetError(f"Google Sheets is unavailable ({status}): {message}", retryable=True)
        if status == 403:
            return SheetError(
                "the service account may not open the spreadsheet; share it with the service "
                f"account's email as an editor ({message})",
                retryable=False,
            )
        if status == 404:
            return SheetError(f"no spreadsheet with id {self.id}", retryable=False)
        if "Unable to parse range" in message:
            self._meta = None
            return TabMissing(f"a tab is missing from the spreadsheet: {message}")
        if "exceeds grid limits" in message:
            self._meta = None
            return SheetError(f"the sheet is smaller than expected: {message}", retryable=True)
        return SheetError(
            f"Google Sheets refused the request ({status}): {message}", retryable=False
        )

    def _load_meta(self) -> dict[str, TabMeta]:
        params: dict[str, Any] = {"includeGridData": "false"}
        url = SPREADSHEET_URL % self.id
        data = self._call("read", 0, lambda: self.http.request("get", url, params=params))
        tabs: dict[str, TabMeta] = {}
        for sheet in data.get("sheets", []):
            props = sheet["properties"]
            grid = props.get("gridProperties", {})
            tabs[props["title"]] = TabMeta(
                sheet_id=int(props["sheetId"]),
                rows=int(grid.get("rowCount", 0)),
                cols=int(grid.get("columnCount", 0)),
                frozen=int(grid.get("frozenRowCount", 0)),
                protected=any(
                    p.get("description") == PROTECTION_TAG for p in sheet.get("protectedRanges", [])
                ),
                formats=len(sheet.get("conditionalFormats", [])),
                filter_views={str(v.get("title", "")) for v in sheet.get("filterViews", [])},
            )
        self._meta = tabs
        return tabs

    def prepare(
        self, tabs: Sequence[TabSpec], rows: Mapping[str, int], *, recheck: bool = False
    ) -> Prepared:
        checking = self._meta is None or recheck or self._clock() >= self._next_check
        meta = self._meta if self._meta is not None and not checking else self._load_meta()
        if checking:
            self._next_check = self._clock() + self.recheck_seconds
        prepared = Prepared()
        batch: list[dict[str, Any]] = []
        for tab in tabs:
            wanted = rows.get(tab.title, 1)
            found = meta.get(tab.title)
            if found is None:
                found = self._add_tab(tab, wanted, meta, batch)
                prepared.created.add(tab.title)
                prepared.repairs.append(f"created the {tab.title} tab")
            elif not found.protected:
                batch.extend(setup_requests(tab, found.sheet_id, with_formats=found.formats == 0))
                found.protected, found.frozen = True, 1
                prepared.repairs.append(f"restored protection and checks on the {tab.title} tab")
            elif checking:
                batch.extend(self._recheck(tab, found, prepared))
            if checking or not found.protected:
                batch.extend(self._views(tab, found, prepared))
            batch.extend(self._grow(tab, found, wanted))
        if batch:
            self._send(SPREADSHEET_BATCH_UPDATE_URL, json.dumps({"requests": batch}).encode())
        return prepared

    @staticmethod
    def _recheck(tab: TabSpec, found: TabMeta, prepared: Prepared) -> list[dict[str, Any]]:
        """Set again what people may have undone (frozen row, hidden key, checkboxes,
        text columns): one `:batchUpdate` at startup, hourly and after a failed write.

        Hidden columns and validation rules are not in the plain metadata, so they are
        set again rather than compared; each request sets a state, so this is harmless."""
        colours = bool(tab.status_column) and found.formats == 0
        if found.frozen != 1:
            prepared.repairs.append(f"restored the frozen header row on the {tab.title} tab")
        if colours:
            prepared.repairs.append(f"restored the status colours on the {tab.title} tab")
        found.frozen = 1
        batch = setup_requests(tab, found.sheet_id, with_formats=colours, with_protection=False)
        wanted = format_count(tab)
        if not colours and 0 < found.formats < wanted:  # a sheet from before a colour rule
            batch.extend(format_requests(tab, found.sheet_id, start=found.formats))
            prepared.repairs.append(f"added the tracking colours on the {tab.title} tab")
        found.formats = max(found.formats, wanted if tab.status_column else 0)
        return batch

    @staticmethod
    def _views(tab: TabSpec, found: TabMeta, prepared: Prepared) -> list[dict[str, Any]]:
        """The Orders tab's filter views that are missing (deleted, or a sheet from before
        them), added by title; ones staff made themselves are left alone."""
        requests = filter_view_requests(tab, found.sheet_id, found.filter_views)
        if requests:
            found.filter_views |= {r["addFilterView"]["filter"]["title"] for r in requests}
            prepared.repairs.append(f"added {len(requests)} filter view(s) on the {tab.title} tab")
        return requests

    def _add_tab(
        self, tab: TabSpec, wanted: int, meta: dict[str, TabMeta], batch: list[dict[str, Any]]
    ) -> TabMeta:
        used = {m.sheet_id for m in meta.values()}
        sheet_id = zlib.crc32(tab.title.encode()) & 0x3FFFFFFF
        while sheet_id in used:
            sheet_id += 1
        rows = max(wanted + HEADROOM, 100)
        found = TabMeta(sheet_id, rows, len(tab.headers), 1, True, format_count(tab))
        grid = {"rowCount": rows, "columnCount": len(tab.headers), "frozenRowCount": 1}
        batch.append(
            {
                "addSheet": {
                    "properties": {"sheetId": sheet_id, "title": tab.title, "gridProperties": grid}
                }
            }
        )
        batch.extend(setup_requests(tab, sheet_id, with_formats=True))
        views = filter_view_requests(tab, sheet_id, set())
        batch.extend(views)
        found.filter_views = {r["addFilterView"]["filter"]["title"] for r in views}
        meta[tab.title] = found
        return found

    @staticmethod
    def _grow(tab: TabSpec, found: TabMeta, wanted: int) -> Iterator[dict[str, Any]]:
        if wanted > found.rows:
            extra = wanted - found.rows + max(HEADROOM, wanted // 10)
            yield {
                "appendDimension": {"sheetId": found.sheet_id, "dimension": "ROWS", "length": extra}
            }
            found.rows += extra
        if len(tab.headers) > found.cols:
            extra = len(tab.headers) - found.cols
            yield {
                "appendDimension": {
                    "sheetId": found.sheet_id,
                    "dimension": "COLUMNS",
                    "length": extra,
                }
            }
            found.cols += extra

    def read(self, ranges: Sequence[ReadRange]) -> list[list[list[str]]]:
        """One `values:batchGet`; a formula cell reads as its formula (`=...`), as in xlsx.

        FORMULA rendering is what lets a formula someone typed be told from a value
        (FORMATTED_VALUE would give its result, and =NOW() would change every cycle);
        dates still come as the text shown, numbers and booleans as `cell_text` shows."""
        names = [a1(r.tab, r.first_row, r.first_col, r.last_col, r.last_row) for r in ranges]
        params: dict[str, Any] = {
            "valueRenderOption": "FORMULA",
            "dateTimeRenderOption": "FORMATTED_STRING",
            "majorDimension": "ROWS",
        }
        url = SPREADSHEET_VALUES_BATCH_URL % self.id
        params["ranges"] = names
        data = self._call("read", 0, lambda: self.http.request("get", url, params=params))
        found = data.get("valueRanges", [])
        return [
            [
                [value if type(value) is str else cell_text(value) for value in row]
                for row in (found[i].get("values", []) if i < len(found) else [])
            ]
            for i in range(len(ranges))
        ]

    def write(self, blocks: Sequence[CellBlock]) -> None:
        for data in self._bodies(blocks):
            body = '{"valueInputOption":"RAW","data":[' + ",".join(data) + "]}"
            self._send(SPREADSHEET_VALUES_BATCH_UPDATE_URL, body.encode())

    def _send(self, url_template: str, body: bytes) -> None:
        """POST a JSON body already encoded (so it is serialized once, and measured exactly)."""
        url = url_template % self.id
        headers = {"Content-Type": "application/json"}
        self._call(
            "write", len(body), lambda: self.http.request("post", url, data=body, headers=headers)
        )

    def _bodies(self, blocks: Sequence[CellBlock]) -> Iterator[list[str]]:
        """Group blocks into request bodies under the limit, splitting tall blocks by rows.

        Each row is serialized once; an entry is the JSON text of one `ValueRange`."""
        data: list[str] = []
        size = 0
        for block in blocks:
            width = max((len(r) for r in block.values), default=0)
            rows: list[str] = []
            start, chunk = 0, 0
            for index, row in enumerate(block.values):
                text = json.dumps(row, ensure_ascii=False, separators=(",", ":"))
                row_size = len(text.encode()) + 1
                if size + chunk + row_size > self.body_limit and (size or chunk):
                    if rows:
                        data.append(self._entry(block, start, index, width, rows))
                    yield data
                    data, size, chunk, start, rows = [], 0, 0, index, []
                rows.append(text)
                chunk += row_size
            if rows:
                data.append(self._entry(block, start, len(block.values), width, rows))
                size += chunk + 80
        if data:
            yield data

    @staticmethod
    def _entry(block: CellBlock, start: int, stop: int, width: int, rows: list[str]) -> str:
        first = block.row + start
        rng = a1(block.tab, first, block.col, block.col + max(width, 1) - 1, block.row + stop - 1)
        return (
            '{"range":'
            + json.dumps(rng)
            + ',"majorDimension":"ROWS","values":['
            + ",".join(rows)
            + "]}"
        )


def connect(config: SheetConfig, limits: Limits | None = None) -> GoogleSheet:
    """The adapter for `config`, authenticated as the service account."""
    if not config.spreadsheet_id:
        raise ConfigError("sheet.spreadsheet_id is empty; copy it from the spreadsheet's URL")
    if config.service_account_json is None:
        raise ConfigError(
            "sheet.backend is google but PODOPS_SHEET__SERVICE_ACCOUNT_JSON is not set "
            "(the service account key: a file path or the JSON itself)"
        )
    secret = config.service_account_json.get_secret_value().strip()
    try:
        info = (
            json.loads(secret)
            if secret.startswith("{")
            else json.loads(Path(secret).read_text("utf-8"))
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the service account key: {type(exc).__name__}") from None
    try:
        client = gspread.service_account_from_dict(info)
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"the service account key is not usable: {exc}") from None
    client.http_client.set_timeout(30)
    return GoogleSheet(client, config.spreadsheet_id, limits=limits)
