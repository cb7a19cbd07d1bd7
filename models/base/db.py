"""Engine and transactions: one transaction per user action."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, Pool, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

from models.base.errors import Busy

try:  # the PostgreSQL driver is optional where only SQLite is used
    from psycopg import errors as pg_errors

    _PG_BUSY: tuple[type[BaseException], ...] = (
        pg_errors.LockNotAvailable,
        pg_errors.QueryCanceled,
    )
except ImportError:  # pragma: no cover
    _PG_BUSY = ()


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out — SQLite would drop the zone otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (the clock gives UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver this project installs)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL when it does not exist (connecting would create it empty)."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return None if Path(parsed.database).exists() else parsed.database


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        _sqlite_serialised_writes(engine)
        _WRITE_GATES[engine.pool] = threading.Lock()
        return engine
    # hide_parameters: SQL errors must not carry row values into logs.
    engine = create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )
    _postgres_bounded_waits(engine)
    return engine


# --- how long a transaction may wait for a lock --------------------------------------------------

# A person is waiting on the request path (Slack gives up after 3 s): a lock is waited for at most
# this long, then `Busy`. Background jobs and the CLI keep the long wait.
REQUEST_WAIT = 1.5
LONG_WAIT = 30.0
_WAIT_OPTION = "tsunagi_wait"
# The deadline of the transaction being opened in this thread (read by the `begin` hooks).
_DEADLINE: ContextVar[float | None] = ContextVar("tsunagi_lock_deadline", default=None)


def _derived(engine: Engine, name: str, **options: object) -> Engine:
    """`engine` with `options`, built once and kept on the engine itself, so it lives exactly as
    long as the engine (a cache beside it kept every engine of a long test run alive, with its
    compiled statements: a growing heap and long collection pauses)."""
    derived = engine.__dict__.get(name)
    if derived is None:
        derived = engine.__dict__[name] = engine.execution_options(**options)
    return derived


def request_path(engine: Engine) -> Engine:
    """The same database for the request path: its transactions wait at most REQUEST_WAIT."""
    return _derived(engine, "_tsunagi_request_path", **{_WAIT_OPTION: REQUEST_WAIT})


def _reading(engine: Engine) -> Engine:
    """The engine for pure reads (a plain BEGIN on SQLite), built once: every read transaction
    asks for it, and building one per call cost more than a small query (`tsunagi bench`)."""
    return _derived(engine, "_tsunagi_reading", tsunagi_write=False)


def _remaining_ms() -> int:
    deadline = _DEADLINE.get()
    if deadline is None:
        return int(LONG_WAIT * 1000)
    return max(1, int((deadline - time.monotonic()) * 1000))


def _postgres_bounded_waits(engine: Engine) -> None:
    @event.listens_for(engine, "begin")
    def _begin(conn):
        if _DEADLINE.get() is None:
            return
        # SET LOCAL ends with the transaction; one statement for both settings.
        ms = _remaining_ms()
        conn.exec_driver_sql(
            f"SELECT set_config('lock_timeout', '{ms}ms', true),"
            f" set_config('statement_timeout', '{2 * ms}ms', true)"
        )


def _is_busy(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(orig, sqlite3.OperationalError):
        text = str(orig)
        return "locked" in text or "busy" in text
    return bool(_PG_BUSY) and isinstance(orig, _PG_BUSY)


def _sqlite_serialised_writes(engine: Engine) -> None:
    # pysqlite's deferred BEGIN lets two threads both read and then deadlock on the write
    # upgrade; BEGIN IMMEDIATE takes the write lock up front (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(LONG_WAIT * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        write = conn.get_execution_options().get("tsunagi_write", True)
        if write:
            # The pooled connection serves both paths: its busy timeout is set for this one
            # (in steps of 100 ms, so a connection usually keeps its setting: no extra statement).
            ms = max(100, _remaining_ms() // 100 * 100)
            if conn.info.get("busy_ms") != ms:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={ms}")
                conn.info["busy_ms"] = ms
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


# SQLite has one writer. Threads of this process that want to write block on a lock here instead
# of in SQLite's busy handler, which polls with growing sleeps (up to 100 ms each) and lets an
# unlucky thread lose again and again: stalls of seconds under load (measured: `tsunagi bench`).
# Other processes (the CLI) still meet the busy handler; they are rare writers.
# The old name of the gate's timeout (bot/failures.py): the same domain error now.
WriteGateTimeout = Busy

# Keyed by the pool: the request path's engine (`request_path`) shares it and so the gate.
_WRITE_GATES: WeakKeyDictionary[Pool, threading.Lock] = WeakKeyDictionary()


@contextmanager
def _write_turn(engine: Engine, deadline: float | None) -> Iterator[None]:
    gate = _WRITE_GATES.get(engine.pool)
    if gate is None:
        yield
        return
    wait = LONG_WAIT if deadline is None else max(0.0, deadline - time.monotonic())
    if not gate.acquire(timeout=wait):
        raise Busy()
    try:
        yield
    finally:
        gate.release()


# Who may open a transaction now: everyone at once, unless the wiring says otherwise (bot/app.py:
# a listener's work after its acknowledgement waits its turn, handlers/common/slots.py).
_admission: Callable[[], AbstractContextManager] = nullcontext


def admit_with(gate: Callable[[], AbstractContextManager]) -> None:
    """Every transaction is opened inside `gate()` (a context manager that may wait a while)."""
    global _admission
    _admission = gate


# A transaction that the transactions opened inside `joined` become part of (this thread only).
_JOINED: ContextVar[Session | None] = ContextVar("tsunagi_joined_session", default=None)


@contextmanager
def joined(session: Session) -> Iterator[None]:
    """Every `transaction()` opened inside is part of `session`'s, committed or rolled back
    with it. For work written as a listener's (its own transactions) that the worker does as one
    action: a subcommand's answer and the mark that it was answered (handlers/common/deferred.py),
    so that a crash between them leaves neither, and its audit row is never written twice."""
    token = _JOINED.set(session)
    try:
        yield
    finally:
        _JOINED.reset(token)


@contextmanager
def transaction(
    engine: Engine, *, write: bool = True, wait: float | None = None
) -> Iterator[Session]:
    """A session whose work is committed together at the end, or not at all.

    `write=False` for pure reads: on SQLite they then do not queue behind writers.
    `wait`: how long to wait for a lock (default: the engine's, `request_path`, else long);
    past it `Busy` is raised and nothing is stored. Inside `joined`, the joined session.
    """
    outer = _JOINED.get()
    if outer is not None:
        # Committed by whoever opened it; a failure inside still undoes this part alone, as
        # its own transaction would have (a savepoint).
        with outer.begin_nested():
            yield outer
        return
    if wait is None:
        wait = engine.get_execution_options().get(_WAIT_OPTION)
    deadline = None if wait is None else time.monotonic() + wait
    bind = engine if write else _reading(engine)
    turn = _write_turn(engine, deadline) if write else nullcontext()
    token = _DEADLINE.set(deadline)
    try:
        with _admission(), turn, Session(bind, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException as exc:
                session.rollback()
                if deadline is not None and _is_busy(exc):
                    raise Busy() from None
                raise
    finally:
        _DEADLINE.reset(token)
