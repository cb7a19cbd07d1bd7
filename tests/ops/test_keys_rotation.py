"""Key handling: `tsunagi keys rotate` re-encrypts every personal field under the new key, in
resumable batches; a wrong or missing key stops the bot at start, also after a rotation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text
from sqlmodel import select as model_select

from bot import runtime
from bot.cli.main import main
from bot.settings import Settings
from models.base import crypto
from models.base.crypto import EncryptedJSON, EncryptedText
from models.base.db import transaction
from models.cases.tables import Referral
from models.ops.keys import check_key, encrypted_columns, not_current, raw_view
from tests.conftest import START
from tests.support.ops import PERSON, cli_env, close_case, make_case

NEW_KEY = Fernet.generate_key().decode()


@pytest.fixture
def stocked(org):
    """Three memos (one closed, with an encrypted closing note) under the test key."""
    for i in range(3):
        case = make_case(org, at=START + timedelta(minutes=i), person_name=f"辰野 試験子{i}")
    close_case(org, case.id, at=START + timedelta(hours=1))
    with transaction(org) as session:
        check_key(session)  # what the bot does at its first start
    return org


def all_tokens(engine) -> list[tuple[str, str, str]]:
    """(table, column, token) of every stored encrypted value."""
    found = []
    with engine.connect() as conn:
        for tbl, cols in encrypted_columns().items():
            raw = raw_view(tbl, cols)
            for col in cols:
                for (token,) in conn.execute(select(raw.c[col.name])):
                    if token is not None:
                        found.append((tbl.name, col.name, token))
        canary = conn.execute(text("SELECT value FROM orgsetting WHERE key = 'key_check'")).scalar()
    found.append(("orgsetting", "key_check", canary.strip('"')))
    return found


def opens(key: str, token: str) -> bool:
    try:
        Fernet(key.encode()).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(monkeypatch, capsys, db_url, *, new=NEW_KEY, old=None, extra=()) -> tuple[int, str]:
    cli_env(monkeypatch, db_url, new, old=old)
    code = main(["keys", "rotate", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def settings(db_url: str, *keys: str) -> Settings:
    return Settings(database_url=db_url, encryption_keys=list(keys))


def test_encrypted_columns_are_found_from_the_table_definitions():
    found = {(t.name, c.name) for t, cols in encrypted_columns().items() for c in cols}
    assert {
        ("referral", "person_name"),
        ("referral", "narrative"),
        ("caseevent", "reason"),
    } <= found
    extra = MetaData()
    Table(
        "newfeature",
        extra,
        Column("id", Integer, primary_key=True),
        Column("note", EncryptedText),
        Column("people", EncryptedJSON),
        Column("code", String(10)),
    )
    (table, cols), *_ = encrypted_columns(extra).items()
    assert table.name == "newfeature" and [c.name for c in cols] == ["note", "people"]


def test_rotate_moves_every_value_and_the_key_proof_to_the_new_key(
    stocked, db_url, encryption_key, monkeypatch, capsys
):
    before = all_tokens(stocked)
    assert len(before) >= 3 * 6 + 1 and all(opens(encryption_key, tok) for *_, tok in before)
    code, out = rotate(
        monkeypatch, capsys, db_url, old=[encryption_key], extra=["--batch-size", "2"]
    )
    assert code == 0, out
    assert "referral" in out and "古い鍵を外して" in out
    after = all_tokens(stocked)
    assert len(after) == len(before)
    assert all(opens(NEW_KEY, tok) and not opens(encryption_key, tok) for *_, tok in after)
    # With only the new key, the bot starts and every field reads as before.
    engine = runtime.prepare_database(settings(db_url, NEW_KEY))
    with transaction(engine) as session:
        names = sorted(r.person_name for r in session.exec(model_select(Referral)))
        narratives = {r.narrative for r in session.exec(model_select(Referral))}
    engine.dispose()
    assert names == ["辰野 試験子0", "辰野 試験子1", "辰野 試験子2"]
    assert narratives == {PERSON["narrative"]}
    # With only the old key, it does not.
    with pytest.raises(crypto.KeyProblem):
        runtime.prepare_database(settings(db_url, encryption_key))


def test_rotate_is_idempotent(stocked, db_url, encryption_key, monkeypatch, capsys):
    assert rotate(monkeypatch, capsys, db_url, old=[encryption_key])[0] == 0
    first = all_tokens(stocked)
    code, out = rotate(monkeypatch, capsys, db_url, old=[encryption_key])
    assert code == 0 and "今回暗号化し直したもの 0 件" in out
    assert all_tokens(stocked) == first  # nothing rewritten


def test_an_interrupted_rotation_resumes_and_keeps_the_old_key_needed(
    stocked, db_url, encryption_key, monkeypatch, capsys
):
    real, calls = crypto.reencrypt, []

    def flaky(token: str) -> str:
        calls.append(token)
        if len(calls) == 5:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C, or the server went down
        return real(token)

    monkeypatch.setattr(crypto, "reencrypt", flaky)
    with pytest.raises(KeyboardInterrupt):
        rotate(monkeypatch, capsys, db_url, old=[encryption_key], extra=["--batch-size", "1"])
    monkeypatch.setattr(crypto, "reencrypt", real)
    tokens = all_tokens(stocked)
    assert any(opens(NEW_KEY, tok) for *_, tok in tokens)  # some batches were committed
    assert not all(opens(NEW_KEY, tok) for *_, tok in tokens)
    # The key proof is still under the old key: dropping the old key now is refused at start.
    with pytest.raises(crypto.KeyProblem):
        runtime.prepare_database(settings(db_url, NEW_KEY))
    engine = runtime.prepare_database(settings(db_url, NEW_KEY, encryption_key))
    assert not_current(engine) > 0
    code, out = rotate(monkeypatch, capsys, db_url, old=[encryption_key])
    assert code == 0, out
    assert not_current(engine) == 0
    engine.dispose()
    assert all(opens(NEW_KEY, tok) for *_, tok in all_tokens(stocked))
    runtime.prepare_database(settings(db_url, NEW_KEY)).dispose()


def test_rotate_refuses_keys_that_do_not_open_the_database(
    stocked, db_url, encryption_key, monkeypatch, capsys
):
    before = all_tokens(stocked)
    code, out = rotate(monkeypatch, capsys, db_url, old=[Fernet.generate_key().decode()])
    assert code == 2 and "開けません" in out
    assert all_tokens(stocked) == before


def test_a_value_no_key_opens_is_named_not_shown(
    stocked, db_url, encryption_key, monkeypatch, capsys
):
    stray = Fernet(Fernet.generate_key()).encrypt("辰野 試験子".encode()).decode()
    with stocked.begin() as conn:
        row_id = conn.execute(text("SELECT min(id) FROM referral")).scalar()
        conn.execute(
            text("UPDATE referral SET contact = :t WHERE id = :i"), {"t": stray, "i": row_id}
        )
    code, out = rotate(monkeypatch, capsys, db_url, old=[encryption_key])
    assert code == 1
    assert f"referral.contact（ID {row_id}）" in out and "辰野" not in out


def test_rotate_with_only_one_key_checks_and_changes_nothing(
    stocked, db_url, encryption_key, monkeypatch, capsys
):
    before = all_tokens(stocked)
    code, out = rotate(monkeypatch, capsys, db_url, new=encryption_key)
    assert code == 0 and "TSUNAGI_OLD_ENCRYPTION_KEYS が設定されていません" in out
    assert all_tokens(stocked) == before


def test_rotate_is_audited(stocked, db_url, encryption_key, monkeypatch, capsys):
    from models.ops.audit import verify
    from models.ops.tables import AuditEntry

    assert rotate(monkeypatch, capsys, db_url, old=[encryption_key])[0] == 0
    with transaction(stocked) as session:
        entry = session.exec(
            model_select(AuditEntry).where(AuditEntry.action == "keys.rotate")
        ).one()
    assert entry.actor_slack_id == "system" and entry.detail.startswith("rotated=")
    assert verify(stocked).ok


# --------------------------------------------------------------------------- start-up checks


def test_a_wrong_key_stops_the_bot_before_it_writes(stocked, db_url):
    with pytest.raises(crypto.KeyProblem):
        runtime.prepare_database(settings(db_url, Fernet.generate_key().decode()))


def test_a_missing_key_stops_the_bot_with_the_variable_named(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.delenv("TSUNAGI_ENCRYPTION_KEY", raising=False)
    # Only an old key: it may be read with, never written with; the current key is missing.
    monkeypatch.setenv("TSUNAGI_OLD_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    assert Settings.from_env().encryption_keys == []
    assert main(["run", "--http"]) == 2
    assert "TSUNAGI_ENCRYPTION_KEY" in capsys.readouterr().err


def test_a_malformed_key_stops_the_bot_with_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TSUNAGI_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-x")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("TSUNAGI_ENCRYPTION_KEY", "not-a-key")
    monkeypatch.delenv("TSUNAGI_OLD_ENCRYPTION_KEYS", raising=False)
    assert main(["run", "--http"]) == 2
    err = capsys.readouterr().err  # checked with every variable at start (bot/settings.py)
    assert "TSUNAGI_ENCRYPTION_KEY：暗号鍵の形（Fernet形式、44文字）ではありません。" in err
    assert "not-a-key" not in err and "Traceback" not in err
    assert not (tmp_path / "x.db").exists()  # nothing was opened
