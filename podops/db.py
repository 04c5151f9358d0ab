"""Engine, sessions and the unit of work: the only thing in podops that commits.

SQLite (the embedded default) runs in WAL mode with a busy timeout so the web
server and the scheduler can share the file; PostgreSQL is used by URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.schema import ColumnDefault

from podops.errors import ConcurrentModification, ConfigError, DatabaseUnavailable

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


URL_HELP = (
    "set database.url (or PODOPS_DATABASE__URL) to postgresql+psycopg://USER@HOST/DBNAME, "
    "or leave it empty for the SQLite file in data_dir"
)


def make_engine(url: str, *, echo: bool = False, **options: Any) -> Engine:
    """The engine for `url`; a URL podops cannot use is a ConfigError saying what to write."""
    try:
        if url.startswith("sqlite"):
            database = url.split(":///", 1)[-1]
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False}, **options
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(url, echo=echo, pool_pre_ping=True, **options)
    except (ArgumentError, ImportError, OSError, ValueError) as exc:
        raise ConfigError(_url_problem(url, exc)) from None


def _url_problem(url: str, exc: BaseException) -> str:
    """Why database.url is unusable, without ever echoing its password."""
    scheme = url.partition("://")[0] if "://" in url else ""
    shown = f"database.url ({_safe_url(url)})"
    if scheme in ("postgres", "postgresql"):
        return f"{shown} names no driver podops has; write postgresql+psycopg://... instead"
    if isinstance(exc, OSError):
        return f"{shown}: cannot create the SQLite file's folder ({exc.strerror}); {URL_HELP}"
    if isinstance(exc, ImportError):
        return f"{shown} needs a database driver that is not installed ({exc.name}); {URL_HELP}"
    if isinstance(exc, NoSuchModuleError):
        return f"{shown} names a database podops does not know ({scheme}); {URL_HELP}"
    return f"{shown} is not a database URL; {URL_HELP}"


def _safe_url(url: str) -> str:
    try:
        return describe_url(url)
    except (ArgumentError, ValueError):
        return "unreadable"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is unreliable).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


READ_ONLY = "podops_read_only"
"""Execution option of the engine behind `Database.reading()`."""


def _sqlite_begin(connection: Any) -> None:
    # A writer takes the write lock at BEGIN so two writers queue instead of failing
    # mid-transaction. A reader begins deferred: in WAL mode it reads its snapshot
    # without ever waiting for a writer, nor making one wait.
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def describe_url(url: str) -> str:
    """The URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str, *, echo: bool = False, **options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo, **options)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readers = sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit if the block succeeds, roll back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except StaleDataError as exc:
            session.rollback()
            raise ConcurrentModification(
                "the order was changed by someone else at the same moment; try again"
            ) from exc
        except OperationalError as exc:
            session.rollback()
            raise DatabaseUnavailable(f"database error: {_first_line(exc)}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A unit that only reads (status, order cards, search): never committed.

        On SQLite it begins deferred rather than IMMEDIATE, so in WAL mode it
        neither waits for a writer (an intake page, a webhook, the outbox) nor
        delays one; what it reads is the last committed state. Loaded objects stay
        usable after the block, as with `unit_of_work`. Writing in it is a bug.
        """
        session = self._readers()
        try:
            yield session
        except OperationalError as exc:
            raise DatabaseUnavailable(f"database error: {_first_line(exc)}") from exc
        finally:
            session.close()  # returns the connection; the pool rolls it back

    def check(self) -> None:
        """Raise DatabaseUnavailable with a readable reason if the database is unusable."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                tables = set(inspect(connection).get_table_names())
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"cannot reach the database at {describe_url(self.url)}: {_first_line(exc)}"
            ) from None
        if "orders" not in tables:
            raise DatabaseUnavailable(
                f"the database at {describe_url(self.url)} is not set up; "
                "run `podops init` or `podops db upgrade`"
            )

    def upgrade(self) -> None:
        """Apply every Alembic migration (creates the schema on a new database)."""
        from alembic import command

        try:
            with self.engine.begin() as connection:
                config = alembic_config(self.url)
                config.attributes["connection"] = connection
                command.upgrade(config, "heads")
            self.optimize()
        except DBAPIError as exc:
            raise DatabaseUnavailable(
                f"cannot reach the database at {describe_url(self.url)}: {_first_line(exc)}"
            ) from None

    def optimize(self) -> None:
        """Refresh the planner's statistics (after large imports, and daily).

        Without them SQLite picks the status index for "not shipped, newest
        first" and sorts every row; with them it walks the placed_at index.
        """
        with self.engine.begin() as connection:
            if self.dialect == "sqlite":
                connection.exec_driver_sql("PRAGMA analysis_limit=2000")
                connection.exec_driver_sql("ANALYZE")
            else:
                connection.exec_driver_sql("ANALYZE")

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    import sys

    from alembic.config import Config

    config = Config(stdout=sys.stdout)
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _first_line(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


def bulk_insert(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows with one `executemany`, applying SQLAlchemy's own type
    conversions (JSON, aware datetimes, enums) but skipping its per-row statement
    bookkeeping, which costs more than the database itself on the intake path.

    Every row must have the same keys; columns left out get their Python default.
    """
    if not rows:
        return
    dialect = connection.dialect
    names = list(rows[0])
    columns = [table.c[name] for name in names]
    defaults = [
        (column.name, column.default.arg)
        for column in table.columns
        if column.name not in rows[0]
        and isinstance(column.default, ColumnDefault)
        and not column.primary_key
    ]
    for column_name, _ in defaults:
        names.append(column_name)
        columns.append(table.c[column_name])
    processors = [column.type._cached_bind_processor(dialect) for column in columns]
    marker = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if marker is None:  # pragma: no cover - every supported driver uses one of those
        connection.execute(table.insert(), rows)
        return
    quote = dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join([marker] * len(names))})"
    )
    given = len(names) - len(defaults)
    default_values = [_default_value(arg) for _, arg in defaults]
    converters = [
        (index, _fast_json(process) if isinstance(column.type, JSON) else process)
        for index, (column, process) in enumerate(zip(columns, processors, strict=True))
        if process is not None
    ]
    parameters = []
    for row in rows:
        values = [row[name] for name in names[:given]]
        values.extend(value() if callable(value) else value for value in default_values)
        for index, process in converters:
            if values[index] is not None:
                values[index] = process(values[index])
        parameters.append(tuple(values))
    connection.exec_driver_sql(statement, parameters)


def _fast_json(process: Any) -> Any:
    """Empty containers are most JSON values on intake; skip the encoder for them."""

    def convert(value: Any) -> Any:
        if value == {} or value == []:
            return "{}" if isinstance(value, dict) else "[]"
        return process(value)

    return convert


def _default_value(arg: Any) -> Any:
    if callable(arg):
        return lambda: arg(None)
    return arg
