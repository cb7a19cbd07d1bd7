"""`tsunagi db upgrade` (which `make run` runs before starting) backs up a database holding data
before it changes the schema, says where, and refuses — changing nothing — when it cannot."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from bot.cli.main import main
from models.base.db import make_engine
from models.ops import migrate
from tests.conftest import TEST_KEY

OLD = "0003"  # a schema one step behind


@pytest.fixture
def old_database(tmp_path, monkeypatch):
    """A SQLite database at an older schema, holding an agency and a member."""
    path = tmp_path / "data" / "tsunagi.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    command.upgrade(migrate.config(url), OLD)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agency (key, name, kind, position, active) "
                "VALUES ('suishin', '重層推進室', 'coordinator', 0, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO member (slack_id, name, agency_id, roles, active) "
                "VALUES ('U0COORD', '試験 調整子', 1, '[\"coordinator\"]', 1)"
            )
        )
    engine.dispose()
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", url)
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", TEST_KEY)
    return path


def revision(path: Path) -> str | None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def test_a_database_holding_data_is_backed_up_first_and_the_place_is_said(old_database, capsys):
    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out
    [backup] = list((old_database.parent / "backups").iterdir())
    assert f"更新の前にバックアップを取りました：{backup}" in out
    assert f"スキーマ{OLD}→" in out and revision(old_database) != OLD
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert revision(backup) == OLD  # the backup is the database as it was


def test_a_named_backup_folder_is_used(old_database, tmp_path, capsys):
    folder = tmp_path / "elsewhere"
    assert main(["db", "upgrade", "--backup-dir", str(folder)]) == 0
    [backup] = list(folder.iterdir())
    assert str(backup) in capsys.readouterr().out


def test_when_no_backup_can_be_made_nothing_is_changed(old_database, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["db", "upgrade", "--backup-dir", str(blocker / "sub")]) == 2
    captured = capsys.readouterr()
    assert "を書けません" in captured.err and "Traceback" not in captured.err
    assert "最新の状態にしました" not in captured.out
    assert revision(old_database) == OLD


def test_no_backup_only_when_asked_for(old_database, capsys):
    assert main(["db", "upgrade", "--no-backup"]) == 0
    assert "バックアップを取らずに更新します" in capsys.readouterr().out
    assert not (old_database.parent / "backups").exists()
    assert revision(old_database) != OLD


def test_an_empty_database_needs_no_backup(tmp_path, monkeypatch, capsys):
    path = tmp_path / "new.db"
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", f"sqlite:///{path}")
    assert main(["db", "upgrade"]) == 0
    assert "バックアップ" not in capsys.readouterr().out
    assert not (tmp_path / "backups").exists()
    assert main(["db", "upgrade"]) == 0
    assert "すでに最新です" in capsys.readouterr().out


def test_make_run_upgrades_through_this_command():
    makefile = (Path(__file__).parents[2] / "Makefile").read_text(encoding="utf-8")
    assert "$(BIN)/tsunagi db upgrade" in makefile
