"""The Products table each process routes by, read again when another process (or
this one) replaced rows: a new revision, looked for at most every `refresh_s`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from podops.db import Database
from podops.errors import DatabaseUnavailable
from podops.products.stored import load_table, table_revision
from podops.products.table import VariantTable

log = logging.getLogger(__name__)

REFRESH_S = 2.0


class LiveTable:
    """Callable giving the current table; a database that cannot be read leaves the
    last one in use (routing never fails for the table: the rules still route)."""

    def __init__(
        self,
        db: Database,
        *,
        refresh_s: float = REFRESH_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self.clock = clock
        self._table = VariantTable()
        self._checked_at: float | None = None
        self._lock = threading.Lock()

    def __call__(self) -> VariantTable:
        with self._lock:
            now = self.clock()
            if self._checked_at is not None and now - self._checked_at < self.refresh_s:
                return self._table
            self._checked_at = now
            try:
                self._table = self._read()
            except (DatabaseUnavailable, SQLAlchemyError) as exc:
                log.warning("products: table not read, routing by the last one: %s", exc)
            return self._table

    def invalidate(self) -> None:
        """Look again at the next call (this process just replaced rows)."""
        with self._lock:
            self._checked_at = None

    def _read(self) -> VariantTable:
        with self.db.reading() as session:
            if table_revision(session) == self._table.revision:
                return self._table
            return load_table(session)
