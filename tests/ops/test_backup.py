"""Backup while the bot runs, and restore that finds every case, notice, reminder and audit
entry — or refuses, clearly, when it should not go ahead."""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from bot import runtime
from bot.cli.main import main
from bot.settings import Settings
from models.base.db import make_engine, transaction
from models.cases.tables import Referral
from models.ops import audit, backup, migrate
from models.ops.keys import check_key
from models.ops.tables import AuditEntry
from reminders.memo import schedule_ack_reminders
from tests.conftest import START
from tests.support.ops import PERSON, cli_env, close_case, make_case, refuse

PG_TOOLS = backup.PostgresTools.available()


# What a restore changes on purpose: open notices and reminders are marked to be checked
# against Slack before sending (they may have gone out after the backup was taken).
RESTORE_MARKS = {
    "notice": {"state", "verify", "claimed_by"},
    "reminder": {"state", "claimed_by", "last_error"},
}


def snapshot(engine, *, without_marks: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table, as stored (encrypted values as their tokens)."""
    out = {}
    with engine.connect() as conn:
        for tbl in SQLModel.metadata.sorted_tables:
            skip = RESTORE_MARKS.get(tbl.name, set()) if without_marks else set()
            cols = ", ".join(f'"{c.name}"' for c in tbl.columns if c.name not in skip)
            rows = conn.execute(text(f'SELECT {cols} FROM "{tbl.name}"')).all()
            out[tbl.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def assert_open_rows_marked(engine) -> None:
    """Every notice the backup had not sent is to be verified against Slack before sending."""
    with engine.connect() as conn:
        rows = conn.execute(text('SELECT state, verify FROM "notice"')).all()
        open_reminders = conn.execute(
            text("SELECT last_error FROM reminder WHERE state IN ('pending', 'claimed')")
        ).all()
    assert any(state == "pending" for state, _ in rows)
    assert all(verify for state, verify in rows if state in ("pending", "sending"))
    assert open_reminders and all(e == "restored" for (e,) in open_reminders)


@pytest.fixture
def stocked(org):
    """Cases through the intake path (with their notices and reminders), one closed, refusals."""
    for i in range(3):
        case = make_case(org, at=START + timedelta(minutes=i), person_name=f"辰野 試験子{i}")
        with transaction(org) as session:  # what the intake handler schedules with a memo
            schedule_ack_reminders(session, case=case, at=START + timedelta(minutes=i))
    close_case(org, case.id, at=START + timedelta(hours=1))
    refuse(org, at=START + timedelta(hours=2), case_id=case.id)
    with transaction(org) as session:
        check_key(session)
    return org


def cli(monkeypatch, capsys, db_url, key, *argv) -> tuple[int, str]:
    cli_env(monkeypatch, db_url, key)
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def only_file(folder: Path) -> Path:
    (found,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return found


def test_backup_restore_finds_everything(
    stocked, db_url, encryption_key, monkeypatch, capsys, tmp_path
):
    if db_url.startswith("postgresql") and not PG_TOOLS:
        pytest.skip("pg_dump/pg_restore are not installed")
    before = snapshot(stocked, without_marks=True)
    for table in ("case", "referral", "caseevent", "notice", "reminder", "auditentry"):
        assert before[table], table
    folder = tmp_path / "backups"
    folder.mkdir()
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "backup", folder)
    assert code == 0, out
    made = only_file(folder)
    assert made.name.startswith("tsunagi-2") and "ケース 3 件" in out
    assert stat.S_IMODE(made.stat().st_mode) == 0o600  # personal data inside
    # Life goes on after the backup …
    make_case(stocked, at=START + timedelta(days=1), person_name="辰野 後から")
    # … a restore without --force refuses to overwrite it,
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "restore", made)
    assert code == 2 and "--force" in out and "ケース 4 件" in out
    assert len(snapshot(stocked)["case"]) == 4
    # … and with --force brings back exactly what was backed up.
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "restore", made, "--force")
    assert code == 0, out
    assert "復元前のデータベース" in out
    after = snapshot(stocked, without_marks=True)
    assert_open_rows_marked(stocked)
    for name, rows in before.items():
        if name in ("auditentry", "auditchainhead"):
            continue
        assert after[name] == rows, name
    assert after["auditentry"][: len(before["auditentry"])] == before["auditentry"]
    with transaction(stocked) as session:
        order = AuditEntry.seq.desc()
        last = session.execute(select(AuditEntry).order_by(order)).scalars().first()
        names = sorted(r.person_name for r in session.execute(select(Referral)).scalars())
    assert last.action == "backup.restore"
    assert names == ["辰野 試験子0", "辰野 試験子1", "辰野 試験子2"]
    assert audit.verify(stocked).ok
    runtime.prepare_database(Settings(database_url=db_url, encryption_keys=[encryption_key]))


def test_restore_into_a_new_database_needs_no_force(
    stocked, db_url, encryption_key, monkeypatch, capsys, tmp_path
):
    if not db_url.startswith("sqlite"):
        pytest.skip("a second PostgreSQL database is set up by the operator")
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "backup", tmp_path / "copy.db")
    assert code == 0, out
    fresh = f"sqlite:///{tmp_path}/fresh.db"
    code, out = cli(monkeypatch, capsys, fresh, encryption_key, "restore", tmp_path / "copy.db")
    assert code == 0, out
    engine = make_engine(fresh)
    assert migrate.is_current(engine)
    restored = snapshot(engine, without_marks=True)
    assert_open_rows_marked(engine)
    for name, rows in snapshot(stocked, without_marks=True).items():
        if name not in ("auditentry", "auditchainhead"):
            assert restored[name] == rows, name
    assert audit.verify(engine).ok
    with transaction(engine) as session:
        narratives = {r.narrative for r in session.execute(select(Referral)).scalars()}
    assert narratives == {PERSON["narrative"]}
    engine.dispose()


def test_backup_is_consistent_while_the_bot_writes(stocked, db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("pg_dump's snapshot is PostgreSQL's own guarantee")
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        i = 0
        try:
            while not stop.is_set():
                i += 1
                make_case(stocked, at=START + timedelta(hours=3, seconds=i))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        copies = [
            backup.backup_sqlite(stocked, tmp_path / f"copy{n}.db") and tmp_path / f"copy{n}.db"
            for n in range(5)
        ]
    finally:
        stop.set()
        thread.join()
    assert errors == []
    for copy in copies:
        conn = sqlite3.connect(copy)
        cases, referrals, submits = (
            conn.execute(q).fetchone()[0]
            for q in (
                'SELECT count(*) FROM "case"',
                "SELECT count(*) FROM referral",
                "SELECT count(*) FROM auditentry WHERE action = 'memo.submit'",
            )
        )
        assert cases == referrals == submits  # every memo whole, none half-written
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()
        engine = make_engine(f"sqlite:///{copy}")
        assert audit.verify(engine).ok
        engine.dispose()


def test_backup_never_overwrites(stocked, db_url, encryption_key, monkeypatch, capsys, tmp_path):
    target = tmp_path / "keep.db"
    target.write_text("precious")
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "backup", target)
    assert code == 2 and "上書きはしません" in out
    assert target.read_text() == "precious"
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "backup", tmp_path / "no/x.db")
    assert code == 2 and "フォルダ" in out


@pytest.fixture
def sqlite_backup(stocked, db_url, encryption_key, monkeypatch, capsys, tmp_path) -> Path:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite backup files")
    path = tmp_path / "good.db"
    assert cli(monkeypatch, capsys, db_url, encryption_key, "backup", path)[0] == 0
    return path


def _fresh(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/target.db"


def test_restore_refuses_what_is_not_a_tsunagi_backup(
    sqlite_backup, encryption_key, monkeypatch, capsys, tmp_path
):
    url = _fresh(tmp_path)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database")
    code, out = cli(monkeypatch, capsys, url, encryption_key, "restore", notes)
    assert code == 1 and "SQLite" in out
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    code, out = cli(monkeypatch, capsys, url, encryption_key, "restore", other)
    assert code == 1 and "tsunagi のデータベースのバックアップではありません" in out
    code, out = cli(monkeypatch, capsys, url, encryption_key, "restore", tmp_path / "none.db")
    assert code == 1 and "見つかりません" in out
    damaged = tmp_path / "damaged.db"
    data = bytearray(sqlite_backup.read_bytes())
    data[5000:9000] = b"\xff" * 4000
    damaged.write_bytes(bytes(data))
    code, out = cli(monkeypatch, capsys, url, encryption_key, "restore", damaged)
    assert code == 1 and ("壊れて" in out or "tsunagi" in out)
    assert not Path(url.removeprefix("sqlite:///")).exists() or not backup.holds_data(
        make_engine(url)
    )


def test_restore_refuses_an_unknown_migration(
    sqlite_backup, encryption_key, monkeypatch, capsys, tmp_path
):
    conn = sqlite3.connect(sqlite_backup)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    code, out = cli(monkeypatch, capsys, _fresh(tmp_path), encryption_key, "restore", sqlite_backup)
    assert code == 1 and "9999" in out


def test_restore_refuses_a_backup_the_keys_do_not_open(
    sqlite_backup, monkeypatch, capsys, tmp_path
):
    other_key = Fernet.generate_key().decode()
    code, out = cli(monkeypatch, capsys, _fresh(tmp_path), other_key, "restore", sqlite_backup)
    assert code == 2 and "暗号鍵" in out


def test_postgres_without_client_tools_explains_what_to_run(
    stocked, db_url, encryption_key, monkeypatch, capsys, tmp_path
):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "backup", tmp_path)
    assert code == 2 and "pg_dump --format=custom" in out
    assert list(tmp_path.iterdir()) == []
    code, out = cli(monkeypatch, capsys, db_url, encryption_key, "restore", tmp_path / "x.dump")
    assert code == 2 and "pg_restore --clean" in out


def test_postgres_connection_settings_stay_off_the_command_line():
    tools = backup.PostgresTools.from_url(
        "postgresql://tsunagi:s3cret@db.example:5433/town?options=-csearch_path%3Dtsunagi"
    )
    assert tools.env == {
        "PGHOST": "db.example",
        "PGPORT": "5433",
        "PGUSER": "tsunagi",
        "PGPASSWORD": "s3cret",
        "PGDATABASE": "town",
        "PGOPTIONS": "-csearch_path=tsunagi",
    }
    assert tools.schema == "tsunagi"
