"""Engine and transactions: one transaction per user action."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, Engine, event
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine


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


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )
        _sqlite_serialised_writes(engine)
        _WRITE_GATES[engine] = threading.Lock()
        return engine
    # hide_parameters: SQL errors must not carry row values into logs.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


def _sqlite_serialised_writes(engine: Engine) -> None:
    # pysqlite's deferred BEGIN lets two threads both read and then deadlock on the write
    # upgrade; BEGIN IMMEDIATE takes the write lock up front (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        write = conn.get_execution_options().get("tsunagi_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


# SQLite has one writer. Threads of this process that want to write block on a lock here instead
# of in SQLite's busy handler, which polls with growing sleeps (up to 100 ms each) and lets an
# unlucky thread lose again and again: stalls of seconds under load (measured: `tsunagi bench`).
# Other processes (the CLI) still meet the busy handler; they are rare writers.
_WRITE_GATES: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
GATE_TIMEOUT = 30.0  # as PRAGMA busy_timeout


class WriteGateTimeout(TimeoutError):
    """Another write transaction of this process held the database for too long."""


@contextmanager
def _write_turn(engine: Engine) -> Iterator[None]:
    gate = _WRITE_GATES.get(engine)
    if gate is None:
        yield
        return
    if not gate.acquire(timeout=GATE_TIMEOUT):
        raise WriteGateTimeout("the database stayed busy")
    try:
        yield
    finally:
        gate.release()


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session whose work is committed together at the end, or not at all.

    `write=False` for pure reads: on SQLite they then do not queue behind writers.
    """
    bind = engine if write else engine.execution_options(tsunagi_write=False)
    turn = _write_turn(engine) if write else nullcontext()
    with turn, Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
