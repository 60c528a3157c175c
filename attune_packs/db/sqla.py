"""The SQLAlchemy side of the database: Alembic migrations, and the driver for every
URL that is not a plain SQLite file (PostgreSQL, in-memory SQLite, URLs with options).

Imported only when needed: a CLI command on an up-to-date SQLite database never
loads SQLAlchemy, SQLModel or Alembic.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event

from attune_packs.db.database import Database, Transaction
from attune_packs.db.records import (
    BUSY_TIMEOUT_MS,
    HEAD_REVISION,
    JSON_COLUMNS,
    TIMESTAMPS,
    migrations_dir,
    outdated,
    too_new,
)
from attune_packs.errors import DatabaseError

if TYPE_CHECKING:
    from attune_packs.config import Settings


#: Query parameters of a database URL that may hold a secret (``?password=...``).
_SECRET_PARAMS = ("pass", "pwd", "secret", "token")


def _redact(url: sa.engine.URL) -> str:
    """``url`` safe to show: the password, and query parameters that look like one, masked."""
    query = {
        k: (("***",) * len(v) if isinstance(v, tuple) else "***")
        if any(s in k.lower() for s in _SECRET_PARAMS)
        else v
        for k, v in url.query.items()
    }
    shown = url.set(query=query).render_as_string(hide_password=True)
    return shown.replace("%2A%2A%2A", "***")


def _redact_text(url: str) -> str:
    """A database URL that SQLAlchemy cannot parse, safe to show: anything after the
    user name up to the last ``@`` (a password) masked."""
    head, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url
    return f"{head}://{userinfo.split(':', 1)[0]}:***@{host}"


def _scrub(text: str, url: sa.engine.URL) -> str:
    """A driver's error ``text`` with the password of ``url`` masked, should it quote it."""
    secrets = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if any(s in key.lower() for s in _SECRET_PARAMS):
            secrets.extend(value if isinstance(value, tuple) else [value])
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _driver_problem(url: sa.engine.URL, exc: Exception) -> str:
    """Why the engine for ``url`` cannot be created, in one line (never the password)."""
    if isinstance(exc, sa.exc.NoSuchModuleError):
        return (
            f"SQLAlchemy has no database dialect {url.drivername!r} (is the URL's scheme "
            "right? a dialect from another package must be installed first)"
        )
    if isinstance(exc, ImportError):
        module = exc.name or ""
        if isinstance(exc, ModuleNotFoundError) and module:
            problem = f"its driver is not installed (no Python module {module!r})"
        else:
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            problem = f"its driver cannot be loaded ({_scrub(first, url)})"
        if url.get_backend_name() == "postgresql" and module.split(".")[0] in ("", "psycopg"):
            return f"{problem}; install it with: pip install 'attune-packs[postgres]'"
        if module:
            return f"{problem}; install the package providing it into attune's Python environment"
        return problem
    return _scrub((str(exc).splitlines() or [type(exc).__name__])[0], url)


def alembic_config(connection: Any | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", os.fspath(migrations_dir()).replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def known_revisions() -> list[str]:
    """Every revision in the shipped migrations, newest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [s.revision for s in script.walk_revisions()]


def _install_sqlite_hooks(engine: sa.engine.Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if wal:
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.engine.Connection) -> None:
        write = conn.get_execution_options().get("attune_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def create_engine(url: str, *, readonly: bool = False) -> sa.engine.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise DatabaseError(
            f"invalid database URL {_redact_text(url)!r}", code="config_error"
        ) from None
    kwargs: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_MS / 1000}
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise DatabaseError(
            f"cannot use database {_redact(parsed)}: {_driver_problem(parsed, exc)}",
            code="config_error",
        ) from None
    if sqlite:
        memory = parsed.database in (None, "", ":memory:")
        _install_sqlite_hooks(engine, wal=not readonly and not memory)
    return engine


def _first_line(exc: sa.exc.DBAPIError, url: sa.engine.URL) -> str:
    """The first line of the driver's error (never the password of ``url``)."""
    text = str(exc.orig) or type(exc.orig).__name__
    return _scrub(text.splitlines()[0], url)


def current_revision(engine: sa.engine.Engine) -> str | None:
    """The schema revision recorded in the database (None for an empty database)."""
    try:
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as exc:
        text = str(exc.orig).lower()
        if "no such table" in text or "does not exist" in text or "undefined" in text:
            return None
        raise DatabaseError(
            f"cannot open the database {_redact(engine.url)}: {_first_line(exc, engine.url)}"
        ) from None
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(
            f"cannot open the database {_redact(engine.url)}: {_first_line(exc, engine.url)}"
        ) from None
    if not rows:
        return None
    if len(rows) > 1:
        raise DatabaseError("the database records several schema heads; cannot continue")
    return str(rows[0][0])


def upgrade(engine: sa.engine.Engine) -> None:
    """Bring the schema to head through Alembic (callers hold the home lock)."""
    from alembic import command

    current = current_revision(engine)
    if current == HEAD_REVISION:
        return
    if current is not None and current not in known_revisions():
        raise too_new(current)
    with engine.connect() as conn:
        conn = conn.execution_options(attune_write=True)
        command.upgrade(alembic_config(conn), "head")
        if conn.in_transaction():
            conn.commit()


def migrate(settings: Settings, url: str) -> None:
    """Create or upgrade the schema at ``url`` under the home lock."""
    from attune_packs import locking

    engine = create_engine(url)
    try:
        with locking.hold(settings.lock_path):
            upgrade(engine)
    finally:
        engine.dispose()


# -- the driver for non-file URLs ------------------------------------------------------------


class _Tx(Transaction):
    def __init__(self, conn: sa.engine.Connection) -> None:
        self.conn = conn

    def _stmt(self, sql: str, params: dict[str, Any]) -> Any:
        from attune_packs.db.models import UTCDateTime

        binds = []
        for key in params:
            if key in TIMESTAMPS:
                binds.append(sa.bindparam(key, type_=UTCDateTime()))
            elif key in JSON_COLUMNS:
                binds.append(sa.bindparam(key, type_=sa.JSON()))
        stmt = sa.text(sql)
        return stmt.bindparams(*binds) if binds else stmt

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        self.conn.execute(self._stmt(sql, params), params)

    def query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return [dict(r._mapping) for r in self.conn.execute(self._stmt(sql, params), params)]

    def insert(self, table: str, values: dict[str, Any]) -> int:
        from attune_packs.db.records import _insert_sql

        sql = _insert_sql(table, list(values)) + " RETURNING id"
        return int(self.conn.execute(self._stmt(sql, values), values).scalar_one())


class SqlAlchemyDatabase(Database):
    backend = "sqlalchemy"

    def __init__(self, engine: sa.engine.Engine, *, readonly: bool = False) -> None:
        super().__init__(_redact(engine.url), readonly=readonly)
        self.engine = engine

    def close(self) -> None:
        self.engine.dispose()

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def _error(self, exc: sa.exc.DBAPIError) -> DatabaseError:
        return DatabaseError(f"database error ({self.url}): {_first_line(exc, self.engine.url)}")

    def _query(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            with self.engine.connect() as conn:
                return _Tx(conn).query(sql, params)
        except sa.exc.DBAPIError as exc:
            raise self._error(exc) from exc

    @contextmanager
    def _transaction(self) -> Iterator[Transaction]:
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(attune_write=True)
                with conn.begin():
                    yield _Tx(conn)
        except sa.exc.DBAPIError as exc:
            raise self._error(exc) from exc


def open_sqlalchemy(settings: Settings, *, readonly: bool = False) -> SqlAlchemyDatabase | None:
    engine = create_engine(settings.database_url, readonly=readonly)
    try:
        revision = current_revision(engine)
        if revision != HEAD_REVISION:
            if readonly:
                if revision is None:
                    engine.dispose()
                    return None
                if revision not in known_revisions():
                    raise too_new(revision)
                raise outdated(revision)
            from attune_packs import locking

            with locking.hold(settings.lock_path):
                upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlAlchemyDatabase(engine, readonly=readonly)
