"""The audit log is append-only and chained by hash; `tsunagi audit verify` finds tampering."""

from __future__ import annotations

import csv
import io
import itertools
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from bot.cli.main import main
from models.base.db import transaction
from models.ops import audit
from models.ops.tables import GENESIS, AppendOnly, AuditChainHead, AuditEntry
from tests.conftest import START
from tests.support.ops import cli_env, make_case, refuse


def entries(engine) -> list[AuditEntry]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.seq)))


@pytest.fixture
def logged(org):
    """Five entries: two memos (allowed) and three refusals."""
    first = make_case(org, at=START)
    refuse(org, at=START + timedelta(minutes=1), case_id=first.id)
    make_case(org, at=START + timedelta(minutes=2), referrer="U0SUPPORT1", concerns=["kosodate"])
    refuse(org, at=START + timedelta(minutes=3))
    refuse(org, at=START + timedelta(minutes=4), slack_id="U0DEPT1", case_id=first.id)
    return org


def test_entries_form_one_chain_ending_at_the_head(logged):
    rows = entries(logged)
    assert [e.seq for e in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    for e in rows:
        assert e.hash == audit.digest(e)
    with transaction(logged) as session:
        head = session.get(AuditChainHead, 1)
    assert (head.seq, head.hash) == (5, rows[-1].hash)
    result = audit.verify(logged)
    assert result.ok and result.checked == 5


def test_verify_passes_on_an_empty_log(engine):
    result = audit.verify(engine)
    assert result.ok and result.checked == 0


def test_entries_cannot_be_changed_or_deleted_through_the_models(logged):
    with pytest.raises(AppendOnly), transaction(logged) as session:
        entry = session.exec(select(AuditEntry)).first()
        entry.detail = "tampered"
        session.add(entry)
    with pytest.raises(AppendOnly), transaction(logged) as session:
        session.delete(session.exec(select(AuditEntry)).first())
    assert audit.verify(logged).ok


def _sql(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _verify_cli(monkeypatch, capsys, db_url, key, *extra) -> tuple[int, str]:
    cli_env(monkeypatch, db_url, key)
    code = main(["audit", "verify", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_changed_entry_is_found(logged, db_url, encryption_key, monkeypatch, capsys):
    _sql(logged, "UPDATE auditentry SET allowed = :yes WHERE seq = 2", yes=True)
    result = audit.verify(logged)
    assert [(p.kind, p.seq) for p in result.problems] == [("changed", 2)]
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key)
    assert code == 1
    assert "第2件" in out and "内容が変更されています" in out


def test_a_changed_time_is_found(logged):
    _sql(logged, "UPDATE auditentry SET at = :at WHERE seq = 4", at=START - timedelta(days=1))
    assert [(p.kind, p.seq) for p in audit.verify(logged).problems] == [("changed", 4)]


def test_a_deleted_entry_is_found(logged, db_url, encryption_key, monkeypatch, capsys):
    _sql(logged, "DELETE FROM auditentry WHERE seq = 3")
    assert [(p.kind, p.seq) for p in audit.verify(logged).problems] == [("missing", 4)]
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key)
    assert code == 1 and "第4件" in out and "削除" in out


def test_a_deleted_last_entry_is_found(logged):
    _sql(logged, "DELETE FROM auditentry WHERE seq = 5")
    assert [(p.kind, p.seq) for p in audit.verify(logged).problems] == [("tail_missing", 5)]


def test_a_deleted_and_renumbered_entry_is_found(logged):
    _sql(logged, "DELETE FROM auditentry WHERE seq = 2")
    for seq in (3, 4, 5):
        _sql(logged, "UPDATE auditentry SET seq = :new WHERE seq = :old", new=seq - 1, old=seq)
    _sql(logged, "UPDATE auditchainhead SET seq = 4")
    kinds = {(p.kind, p.seq) for p in audit.verify(logged).problems}
    assert ("link", 2) in kinds and ("changed", 2) in kinds


def test_reordered_entries_are_found(logged, db_url, encryption_key, monkeypatch, capsys):
    # Swap the places of entries 2 and 3 in the chain.
    _sql(logged, "UPDATE auditentry SET seq = 1000 WHERE seq = 2")
    _sql(logged, "UPDATE auditentry SET seq = 2 WHERE seq = 3")
    _sql(logged, "UPDATE auditentry SET seq = 3 WHERE seq = 1000")
    problems = audit.verify(logged).problems
    assert {p.seq for p in problems} == {2, 3, 4}
    assert {p.kind for p in problems} >= {"changed", "reordered"}
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key)
    assert code == 1 and "第2件" in out and "順序" in out


def test_a_rewritten_head_is_found(logged):
    _sql(logged, "UPDATE auditchainhead SET seq = 3")
    assert [p.kind for p in audit.verify(logged).problems] == ["head_changed"]


def test_a_removed_head_is_found(logged):
    _sql(logged, "DELETE FROM auditchainhead")
    assert [p.kind for p in audit.verify(logged).problems] == ["head_changed"]


def test_a_rewritten_chain_is_found_against_a_noted_anchor(
    logged, db_url, encryption_key, monkeypatch, capsys
):
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key)
    assert code == 0 and "5 件" in out
    anchor = re.search(r"最新の記録：(\d+:[0-9a-f]{64})", out).group(1)
    assert anchor.startswith("5:")
    # Someone with write access recomputes the whole chain after changing entry 2.
    _sql(logged, "UPDATE auditentry SET detail = 'forged' WHERE seq = 2")
    rows = entries(logged)
    last = GENESIS
    for e in rows:
        e.prev_hash = last
        e.hash = last = audit.digest(e)
        _sql(
            logged,
            "UPDATE auditentry SET prev_hash = :p, hash = :h WHERE seq = :s",
            p=e.prev_hash,
            h=e.hash,
            s=e.seq,
        )
    _sql(logged, "UPDATE auditchainhead SET hash = :h", h=last)
    assert audit.verify(logged).ok  # internally consistent again…
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key, "--expect", anchor)
    assert code == 1 and "控えておいたハッシュ" in out  # …but not what was noted


def test_a_malformed_anchor_is_a_usage_error(logged, db_url, encryption_key, monkeypatch, capsys):
    code, out = _verify_cli(monkeypatch, capsys, db_url, encryption_key, "--expect", "5:abc")
    assert code == 2 and "番号:ハッシュ" in out


def test_concurrent_writers_still_form_one_chain(org):
    writers, each = 6, 8
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(each):
                with transaction(org) as session:
                    for k in range(2):
                        audit.record(
                            session,
                            at=START + timedelta(seconds=n * 100 + i * 2 + k),
                            actor_slack_id=f"U0W{n}",
                            action="view_case_detail",
                            allowed=False,
                            detail="access.not_your_case",
                        )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    result = audit.verify(org)
    assert result.ok, result.problems
    assert result.checked == writers * each * 2
    assert [e.seq for e in entries(org)] == list(range(1, writers * each * 2 + 1))


def _export(monkeypatch, capsys, db_url, key, *extra) -> tuple[int, str, str]:
    cli_env(monkeypatch, db_url, key)
    code = main(["audit", "export", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_writes_who_what_which_case_when_and_result(
    logged, db_url, encryption_key, monkeypatch, capsys, tmp_path
):
    target = tmp_path / "audit.csv"
    code, out, _ = _export(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        "--since",
        "2026-11-27",
        "--output",
        str(target),
    )
    assert code == 0 and "5 件" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM, so Excel reads the Japanese
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == [
        "連番",
        "日時（日本時間）",
        "SlackユーザーID",
        "氏名",
        "操作",
        "受付番号",
        "結果",
        "詳細コード",
    ]
    body = rows[1:]
    assert [r[0] for r in body] == ["1", "2", "3", "4", "5"]
    assert body[0][1] == "2026-11-27 10:00:00"  # Japan time
    assert body[0][2:] == ["U0PARTNER1", "試験 先生", "memo.submit", "R8-0001", "許可", ""]
    assert body[1][2:] == [
        "U0STRANGER",
        "",
        "view_case_detail",
        "R8-0001",
        "拒否",
        "access.not_your_case",
    ]
    assert body[4][2:4] == ["U0DEPT1", "試験 税務"]  # a refusal of a member: named
    assert "辰野" not in raw.decode("utf-8-sig")  # no personal data of the person


def test_export_honours_the_period_in_japan_time(
    logged, db_url, encryption_key, monkeypatch, capsys
):
    # START is 10:00 JST on 11-27; entries are at 10:00–10:04. 11-28 onwards: nothing.
    code, out, _ = _export(monkeypatch, capsys, db_url, encryption_key, "--since", "2026-11-28")
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 1
    code, out, _ = _export(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        "--since",
        "2026-11-26",
        "--until",
        "2026-11-27",
    )
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 1
    code, out, _ = _export(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        "--since",
        "2026-11-27",
        "--until",
        "2026-11-28",
    )
    assert code == 0 and len(list(csv.reader(io.StringIO(out)))) == 6


def test_export_refuses_bad_dates(logged, db_url, encryption_key, monkeypatch, capsys):
    cli_env(monkeypatch, db_url, encryption_key)
    with pytest.raises(SystemExit) as exit_:
        main(["audit", "export", "--since", "27/11/2026"])
    assert exit_.value.code == 2
    assert "2026-04-01 のように" in capsys.readouterr().err
    code, _, err = _export(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        "--since",
        "2026-11-28",
        "--until",
        "2026-11-27",
    )
    assert code == 2 and "--until" in err
