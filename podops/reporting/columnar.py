"""The report's large reads, column by column: ADBC drivers hand a query's result
as Arrow columns (SQLite's reads it in C; PostgreSQL's through COPY in binary), so
no Python object is made per row or value.

A reader opens its own driver connection from the database URL (SQLAlchemy's
`sqlite[+driver]:///PATH` or `postgresql[+driver]://...`, translated here) and
reads in one read-only transaction on it. A report reads its frames on several
readers at once (`column_readers`), all of them in one snapshot. A database it cannot open
that way (SQLite in memory, another backend) is read through the SQLAlchemy
connection instead, with the same numbers.

Imported only by `frames` (pyarrow and the drivers are loaded by reports alone:
`tests/reporting/test_imports.py`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.engine import URL, Dialect, make_url

NULL_REAL = "-9e999"
"""SQLite's minus infinity: what a NULL float column is read as on SQLite (the ADBC
driver types a column by its first values, and a NULL there would make a float
column an integer one); read back as NaN. No time or amount is ever -inf."""


WORK_MEM = "64MB"
"""PostgreSQL's work_mem while a report reads (set for its transaction alone)."""


def driver_target(url: str | URL) -> tuple[str, str] | None:
    """(driver, what it opens) for a SQLAlchemy database URL: ("sqlite", a read-only
    file URI) or ("postgresql", a libpq URI); None when no columnar driver opens it
    (SQLite in memory, another backend)."""
    parsed = make_url(url) if isinstance(url, str) else url
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return None
        return "sqlite", f"{Path(database).resolve().as_uri()}?mode=ro"
    if backend == "postgresql":
        return "postgresql", parsed.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
    return None


class ColumnReader:
    """One driver connection, one read-only transaction: each `read` gives a query's
    columns as float64 numpy arrays (NULL as NaN)."""

    def __init__(
        self, driver: str, target: str, dialect: Dialect, snapshot: str | None = None
    ) -> None:
        self.driver = driver
        self.snapshot = snapshot
        """PostgreSQL: the snapshot (`export_snapshot` of another reader) this one reads."""
        # Compiled with literal values and no parameters, so in a parameter style
        # that leaves a literal "%" as it is (psycopg's would double it).
        self.dialect: Dialect = type(dialect)(paramstyle="named")  # type: ignore[call-arg]
        if driver == "sqlite":
            import adbc_driver_sqlite.dbapi as sqlite_adbc

            self.connection = sqlite_adbc.connect(target)
        else:
            import adbc_driver_postgresql.dbapi as postgresql_adbc

            self.connection = postgresql_adbc.connect(target)
        self._begun = False

    def restart(self) -> None:
        """End this reader's transaction: the next read begins another."""
        self.connection.rollback()
        self._begun = False

    def close(self) -> None:
        try:
            self.connection.rollback()
        finally:
            self.connection.close()

    def _sql(self, query: Select[Any]) -> str:
        # Literal values (times through their column types, strings quoted by the
        # dialect): the drivers bind parameters in their own styles.
        compiled = query.compile(
            dialect=self.dialect,
            compile_kwargs={"literal_binds": True, "render_postcompile": True},
        )
        return str(compiled)

    def _begin(self, cursor: Any) -> None:
        if not self._begun and self.driver == "postgresql":
            # One snapshot for every frame; hash joins of a year's lines in memory
            # (the default 4 MB spilled them to disk in batches, several times
            # slower), for this transaction only.
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            if self.snapshot is not None:
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        self._begun = True

    def export_snapshot(self) -> str:
        """PostgreSQL: begin this reader's transaction and name its snapshot, for
        another reader to read the same data (`ColumnReader(snapshot=...)`)."""
        with self.connection.cursor() as cursor:
            self._begin(cursor)
            cursor.execute("SELECT pg_export_snapshot()")
            return str(cursor.fetchall()[0][0])

    def pin(self) -> None:
        """Begin this reader's transaction and take its snapshot now (SQLite takes it
        at the first read; PostgreSQL at the first query after the settings)."""
        with self.connection.cursor() as cursor:
            self._begin(cursor)
            cursor.execute("SELECT 1")
            cursor.fetchall()
            if self.driver == "sqlite":
                cursor.execute("SELECT 1 FROM sqlite_master LIMIT 1")
                cursor.fetchall()

    def read(
        self,
        query: Select[Any],
        floats: Sequence[str],
        times: Sequence[str],
        codes: Mapping[str, Sequence[str]],
        texts: Sequence[str] = (),
    ) -> tuple[list[np.ndarray], dict[str, list[str]]]:
        """The query's columns in order, as numpy arrays, and the labels found in the
        `texts` columns. `floats` names those that hold floats, `times` those that hold
        times (`frames.moment`), read as seconds since 1970, `codes` those that hold
        strings (`frames.label`), read as their positions in the labels given (int32, -1
        when not there), `texts` those that hold strings (never NULL) whose labels are
        the values found (sorted), read as their positions in those. Integer columns
        without NULLs stay integers; the rest are float64 with NULL as NaN."""
        if self.driver == "sqlite" and floats:
            inner = query.subquery()
            query = select(
                *[
                    func.coalesce(column, literal_column(NULL_REAL)).label(column.key)
                    if column.key in floats
                    else column
                    for column in inner.c
                ]
            )
        names = [str(column.key) for column in query.selected_columns]
        chunks: list[list[np.ndarray]] = [[] for _ in names]
        seen: dict[str, dict[str, int]] = {name: {} for name in texts}
        with self.connection.cursor() as cursor:
            self._begin(cursor)
            if self.driver == "sqlite":
                # Fewer, larger batches (the driver's default is 1,024 rows).
                cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            cursor.execute(self._sql(query))
            # Batch by batch: only one batch is ever held as Arrow next to the numpy
            # columns (a whole Arrow table beside them took the 1M report's peak to
            # 800 MB on PostgreSQL).
            for batch in cursor.fetch_record_batch():
                for index, name in enumerate(names):
                    column = pa.chunked_array([batch.column(index)])
                    if name in seen:
                        chunks[index].append(_first_seen(column, seen[name]))
                    else:
                        chunks[index].append(self._convert(name, column, floats, times, codes))
                del batch
        found = []
        for index in range(len(names)):
            pieces, chunks[index] = chunks[index], []
            found.append(np.concatenate(pieces) if pieces else np.empty(0))
            del pieces
        labels = {}
        for name, numbered in seen.items():
            index = names.index(name)
            found[index], labels[name] = _sorted_positions(found[index], numbered)
        return found, labels

    def _convert(
        self,
        name: str,
        column: pa.ChunkedArray,
        floats: Sequence[str],
        times: Sequence[str],
        codes: Mapping[str, Sequence[str]],
    ) -> np.ndarray:
        if name in times:
            return _seconds(column)
        if name in codes and _is_text(column.type):
            return _positions(column, codes[name])
        if name not in floats and pa.types.is_integer(column.type) and not column.null_count:
            return np.asarray(column.to_numpy())  # ids, counts, flags, codes: as they are
        return _floats(column, self.driver == "sqlite")

    def rows(self, query: Select[Any]) -> list[tuple[Any, ...]]:
        """A small query's rows as Python tuples (read in Arrow all the same)."""
        with self.connection.cursor() as cursor:
            self._begin(cursor)
            cursor.execute(self._sql(query))
            table = cursor.fetch_arrow_table()
        return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _positions(column: pa.ChunkedArray, labels: Sequence[str]) -> np.ndarray:
    if pa.types.is_string_view(column.type):
        column = pc.cast(column, pa.string())
    found = pc.index_in(column, value_set=pa.array(list(labels), type=column.type))
    return np.asarray(pc.fill_null(found, -1).to_numpy(), dtype=np.int32)


def _first_seen(column: pa.ChunkedArray, numbered: dict[str, int]) -> np.ndarray:
    """Each string's number in `numbered`, where a string not seen before is numbered
    next (the batch's few distinct strings are looked up, not its rows)."""
    if pa.types.is_string_view(column.type):
        column = pc.cast(column, pa.string())
    encoded = pc.dictionary_encode(column).combine_chunks()
    strings = encoded.dictionary.to_pylist()
    renumber = np.array([numbered.setdefault(v, len(numbered)) for v in strings] + [-1])
    indices = pc.fill_null(encoded.indices, len(strings)).to_numpy(zero_copy_only=False)
    return np.asarray(renumber[indices], dtype=np.int32)


def _sorted_positions(
    positions: np.ndarray, numbered: dict[str, int]
) -> tuple[np.ndarray, list[str]]:
    """Positions by first sight (`_first_seen`) as positions in the sorted labels."""
    labels = sorted(numbered)
    sorted_at = np.empty(len(numbered) + 1, dtype=np.int32)
    for at, value in enumerate(labels):
        sorted_at[numbered[value]] = at
    sorted_at[-1] = -1
    return sorted_at[positions.astype(np.int64)], labels


def _floats(column: pa.ChunkedArray, sentinel: bool) -> np.ndarray:
    if not pa.types.is_floating(column.type):
        column = pc.cast(column, pa.float64())
    values = np.asarray(column.to_numpy(), dtype=np.float64)
    if sentinel:
        values = np.where(values == -np.inf, np.nan, values)
    return values


def _seconds(column: pa.ChunkedArray) -> np.ndarray:
    """Times (SQLite's text, '' for none, or timestamps) as seconds since 1970: whole
    microseconds, then one division (as `frames.epoch` computes them in SQL)."""
    if _is_text(column.type):
        if pa.types.is_string_view(column.type):
            column = pc.cast(column, pa.string())
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        column = pc.cast(column, pa.timestamp("us"))
    elif pa.types.is_null(column.type) or pa.types.is_integer(column.type):
        # SQLite typed an all-empty column by its NULLs (none here: '' stands for none).
        return np.full(len(column), np.nan)
    else:
        column = pc.cast(column, pa.timestamp("us", tz=getattr(column.type, "tz", None)))
    micros = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(micros, dtype=np.float64) / 1_000_000


@contextmanager
def column_reader(url: str | URL | None, dialect: Dialect) -> Iterator[ColumnReader | None]:
    """A reader for the database at `url`, or None when no columnar driver opens it
    (or no URL is given)."""
    with column_readers(url, dialect, 1) as readers:
        yield readers[0] if readers else None


SAME_SNAPSHOT_TRIES = 3


@contextmanager
def column_readers(
    url: str | URL | None, dialect: Dialect, count: int = 2
) -> Iterator[list[ColumnReader]]:
    """Up to `count` readers of the database at `url` that read the same data (one
    snapshot), so that their reads can run at the same time; none when no columnar
    driver opens it. PostgreSQL shares the first reader's snapshot with the others;
    SQLite cannot, so its readers take theirs one after the other and keep them only
    when no write was committed meanwhile (else, after a few tries, one reader)."""
    target = None if url is None else driver_target(url)
    readers: list[ColumnReader] = []
    try:
        if target is not None:
            readers = _same_snapshot(*target, dialect, count)
        yield readers
    finally:
        for reader in readers:
            reader.close()


def _same_snapshot(driver: str, target: str, dialect: Dialect, count: int) -> list[ColumnReader]:
    readers = [ColumnReader(driver, target, dialect)]
    try:
        if count > 1 and driver == "postgresql":
            snapshot = readers[0].export_snapshot()
            readers += [ColumnReader(driver, target, dialect, snapshot) for _ in range(count - 1)]
        elif count > 1:
            readers += [ColumnReader(driver, target, dialect) for _ in range(count - 1)]
            if not _pinned_together(readers, target):
                for reader in readers[1:]:
                    reader.close()
                readers = readers[:1]
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers


def _pinned_together(readers: list[ColumnReader], target: str) -> bool:
    """SQLite: take the readers' snapshots one after the other, and again while another
    connection committed meanwhile (their snapshots would differ)."""
    with closing(sqlite3.connect(target, uri=True, isolation_level=None)) as watch:
        for _ in range(SAME_SNAPSHOT_TRIES):
            before = _data_version(watch)
            for reader in readers:
                reader.pin()
            if _data_version(watch) == before:
                return True
            for reader in readers:
                reader.restart()
    return False


def _data_version(connection: sqlite3.Connection) -> int:
    """SQLite's count of commits by other connections, seen by `connection` (one that
    holds no transaction, so each call sees the latest commit)."""
    return int(connection.execute("PRAGMA data_version").fetchone()[0])


def give_back_freed_memory() -> None:
    """Return the memory freed after reads on several threads to the system (glibc's
    `malloc_trim`): glibc keeps what each thread freed in that thread's own arena,
    and after a year's reads on three connections that was 200 MB more held by the
    process for the rest of the report (its peak reached 800 MB at 1,000,000 orders,
    620-650 MB with this). Nothing where the C library has no such call."""
    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)
