"""The encryption key in operation: proving it opens the data, and rotating to a new one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, Engine, MetaData, Table, Text, column, select, table, update

import models.tables  # noqa: F401  (registers every table)
from models.base import crypto
from models.base.crypto import (
    EncryptedJSON,
    EncryptedText,
    KeyProblem,
    decrypt,
    encrypt,
    is_current,
)
from models.base.db import transaction
from models.base.upsert import insert_if_absent
from models.org.tables import OrgSetting

CANARY = "tsunagi-key-check"


CANARY_SETTING = "key_check"


def check_key(session) -> None:
    """Prove the configured key opens this database's data; the first run plants the proof.

    A wrong key stops the bot at start instead of writing data nobody can read later. After
    `tsunagi keys rotate` the proof is under the new key only, so a bot started with just the
    old key stops here too; an interrupted rotation leaves it under the old key, so removing the
    old key too early stops the bot rather than leaving values nobody can open.
    """

    # Two processes starting on a new database both plant it: the second insert is skipped.
    if insert_if_absent(session, OrgSetting, key=CANARY_SETTING, value=encrypt(CANARY)):
        return
    row = session.get(OrgSetting, CANARY_SETTING)
    if not isinstance(row.value, str) or decrypt(row.value) != CANARY:
        raise KeyProblem("stored data cannot be decrypted with the configured key")


def key_opens(session) -> bool | None:
    """Read-only check_key: True if the keys open the proof, None if none is planted yet."""

    row = session.get(OrgSetting, CANARY_SETTING)
    if row is None:
        return None
    try:
        return isinstance(row.value, str) and decrypt(row.value) == CANARY
    except KeyProblem:
        return False


def encrypted_columns(metadata: MetaData | None = None) -> dict[Table, list[Column]]:
    """Every column stored encrypted, found from the table definitions (no list to maintain)."""
    if metadata is None:
        from sqlmodel import SQLModel

        metadata = SQLModel.metadata
    found: dict[Table, list[Column]] = {}
    for tbl in metadata.sorted_tables:
        cols = [c for c in tbl.columns if isinstance(c.type, EncryptedText | EncryptedJSON)]
        if cols:
            found[tbl] = cols
    return found


def raw_view(tbl: Table, cols: list[Column]):
    """The same table seen without the TypeDecorators: tokens in, tokens out."""
    (pk,) = tbl.primary_key.columns
    return table(
        tbl.name,
        column(pk.name, pk.type),
        *[column(c.name, Text()) for c in cols],
        schema=tbl.schema,
    )


@dataclass
class TableRotation:
    table: str
    values: int = 0  # encrypted values looked at
    rotated: int = 0  # re-encrypted with the current key now


@dataclass
class Rotation:
    tables: list[TableRotation] = field(default_factory=list)
    canary_rotated: bool = False

    @property
    def rotated(self) -> int:
        return sum(t.rotated for t in self.tables)

    @property
    def values(self) -> int:
        return sum(t.values for t in self.tables)


class UnreadableValue(KeyProblem):
    """A stored value no configured key opens (names the place, never the content)."""

    def __init__(self, table_name: str, column_name: str, row_id: object) -> None:
        super().__init__(f"{table_name}.{column_name} (id {row_id}) cannot be decrypted")
        self.table_name, self.column_name, self.row_id = table_name, column_name, row_id


def rotate_all(
    engine: Engine,
    *,
    batch: int = 500,
    progress: Callable[[TableRotation], None] | None = None,
) -> Rotation:
    """Re-encrypt every encrypted value not yet under the current key, then the key proof.

    Batches commit one by one, so an interrupted run loses nothing and the next run goes on
    where it stopped (values already under the current key are only read). The proof of the
    key (check_key) moves to the current key last, when no value needs an old key any more.
    A value written meanwhile by the running bot is left alone (the update matches the token
    it read), so run the bot with the new key first (README → 運用 → 暗号鍵).
    """

    result = Rotation()
    for tbl, cols in encrypted_columns().items():
        raw = raw_view(tbl, cols)
        pk = raw.c[tbl.primary_key.columns[0].name]
        done = TableRotation(tbl.name)
        last = None
        while True:
            with engine.begin() as conn:
                query = select(raw).order_by(pk).limit(batch)
                if last is not None:
                    query = query.where(pk > last)
                rows = conn.execute(query).all()
                for row in rows:
                    values = row._mapping
                    changes = {}
                    for col in cols:
                        token = values[col.name]
                        if token is None:
                            continue
                        done.values += 1
                        if is_current(token):
                            continue
                        try:
                            # by the module's name: a test interrupts it mid-rotation
                            changes[col.name] = crypto.reencrypt(token)
                        except KeyProblem:
                            raise UnreadableValue(tbl.name, col.name, values[pk.name]) from None
                    if changes:
                        same = [raw.c[name] == values[name] for name in changes]
                        conn.execute(
                            update(raw).where(pk == values[pk.name], *same).values(**changes)
                        )
                        done.rotated += len(changes)
            if not rows:
                break
            last = rows[-1]._mapping[pk.name]
        result.tables.append(done)
        if progress is not None:
            progress(done)
    with transaction(engine) as session:
        row = session.get(OrgSetting, CANARY_SETTING)
        if row is None or not isinstance(row.value, str) or not is_current(row.value):
            if row is not None and isinstance(row.value, str):
                decrypt(row.value)  # refuse to replace a proof no configured key opens
            session.merge(OrgSetting(key=CANARY_SETTING, value=encrypt(CANARY)))
            result.canary_rotated = True
    return result


def not_current(engine: Engine) -> int:
    """How many stored values still need an old key (0: the old keys may be removed)."""
    count = 0
    for tbl, cols in encrypted_columns().items():
        raw = raw_view(tbl, cols)
        # A read (models.db: no write lock on SQLite, so the bot is not held up).
        with engine.execution_options(tsunagi_write=False).connect() as conn:
            for col in cols:
                for (token,) in conn.execute(
                    select(raw.c[col.name]).where(raw.c[col.name].is_not(None))
                ):
                    if not is_current(token):
                        count += 1
    return count
