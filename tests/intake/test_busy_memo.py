"""The database held by someone else: a person is answered within the request path's bound
(models.db.REQUEST_WAIT) and nothing is half-stored; once free, the same form stores one memo.

The lock is held from another connection, as a backup or a long report would: SQLite with
BEGIN EXCLUSIVE, PostgreSQL with LOCK TABLE."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager

import sqlalchemy
from sqlmodel import Session, func, select

from models.base.db import normalise_url
from models.cases.tables import Case, Referral
from models.queues.tables import Notice
from tests.conftest import memo_values

BUSY_FORM = (
    "ただいま混み合っています。入力内容はそのままです。"
    "少し待ってからもう一度「送信」を押してください。"
)


@contextmanager
def held(db_url: str):
    """Every write blocked until the block ends."""
    if db_url.startswith("sqlite"):
        conn = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sqlalchemy.create_engine(normalise_url(db_url))
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql(
            'LOCK TABLE "case", referral, caseevent, notice, auditentry, auditchainhead,'
            " receiptcounter, click IN EXCLUSIVE MODE"
        )
        try:
            yield
        finally:
            conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


def count(bot, model) -> int:
    with Session(bot.rt.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_a_memo_sent_while_the_database_is_held_is_refused_kindly_then_stored_once(bot, db_url):
    view = bot.open_memo("U0PARTNER1")
    first_field = next(b["block_id"] for b in view["blocks"] if b["type"] == "input")
    with held(db_url):
        answer = bot.signed.submit("U0PARTNER1", view, memo_values())
        assert answer.status == 200, answer.text
        assert answer.json() == {"response_action": "errors", "errors": {first_field: BUSY_FORM}}
    assert count(bot, Case) == 0 and count(bot, Referral) == 0 and count(bot, Notice) == 0
    again = bot.signed.submit("U0PARTNER1", view, memo_values())
    assert again.json()["response_action"] == "update"
    assert count(bot, Case) == 1 and count(bot, Referral) == 1
    # A further click of 送信 (Slack retries) still makes one memo.
    assert bot.signed.submit("U0PARTNER1", view, memo_values()).json() == again.json()
    assert count(bot, Case) == 1


def test_a_button_clicked_while_the_database_is_held_is_answered_and_changes_nothing(bot, db_url):
    bot.send_memo("U0PARTNER1")
    bot.deliver()
    [message] = [m for m in bot.slack.messages("C0HOUKATSU") if "case_acknowledge" in json.dumps(m)]
    with held(db_url):
        answer = bot.signed.click(
            "U0WIN1", message, "case_acknowledge", trigger_id=bot.slack.issue_trigger_id()
        )
        assert answer.status == 200
        eph = bot.slack.wait_for(lambda: bot.slack.ephemerals(user="U0WIN1"))  # at once
    assert "混み合っています" in eph[-1]["text"]
    with Session(bot.rt.engine) as s:
        [case] = s.exec(select(Case)).all()
    assert case.state == "received" and case.acknowledged_at is None
    # Once free, the same button works.
    bot.signed.click("U0WIN1", message, "case_acknowledge", trigger_id=bot.slack.issue_trigger_id())
    bot.answers("U0WIN1", 1)
    with Session(bot.rt.engine) as s:
        assert s.exec(select(Case)).one().state == "window"
