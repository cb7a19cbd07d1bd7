"""Memos sent at the same moment are stored together (handlers/intake/writer.py): each is still
all or nothing, numbered in order, and never lost, doubled or sunk by another memo's problem."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, func, select

from handlers.common.services import Services
from handlers.intake.writer import MemoWriter, _Waiting
from models.base.db import transaction
from models.base.errors import Busy
from models.cases import memo as intake
from models.cases.destinations import intake_org
from models.cases.memo import NotStored, Referrer, StoredMemo, Submission
from models.cases.tables import Case, CaseEvent, Referral
from models.ops import audit
from models.ops.tables import AuditEntry
from models.org.roster import member_by_slack_id
from models.queues.tables import Notice, Reminder
from sandbox.standin.signed import SignedSlack
from tests.conftest import SIGNING_SECRET, START, memo_values
from tests.intake.test_busy_memo import held
from tests.support.desk import memo as synthetic_memo


def routed(session: Session, slack_id: str = "U0PARTNER1", **changes) -> intake.Routed:
    member = member_by_slack_id(session, slack_id)
    memo = synthetic_memo(**changes)  # the desk tests' synthetic memo
    return intake.route_memo(intake_org(session), memo=memo, referrer=Referrer.of(member))


def count(engine, model) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_several_memos_in_one_call_are_each_stored_whole_and_numbered_in_order(org):
    with transaction(org) as session:
        first = routed(session, narrative="一件目の相談です。")
        second = routed(session, narrative="二件目の相談です。")
        outcomes = intake.store_all(
            session,
            [Submission(first, "V1"), Submission(second, "V2", "C0DOOR")],
            at=START,
        )
    assert [o.number for o in outcomes] == ["R8-0001", "R8-0002"]
    assert all(isinstance(o, StoredMemo) for o in outcomes)
    with Session(org) as s:
        referrals = {r.source_view_id: r for r in s.exec(select(Referral)).all()}
        assert referrals["V1"].narrative == "一件目の相談です。"
        assert referrals["V2"].narrative == "二件目の相談です。"
        assert referrals["V2"].origin_channel == "C0DOOR"
        assert referrals["V1"].case_id == outcomes[0].id
        events = s.exec(select(CaseEvent.case_id)).all()
        assert sorted(events) == sorted(o.id for o in outcomes)
        for o in outcomes:  # each its card and its receipt
            keys = s.exec(select(Notice.key).where(Notice.key.startswith(f"case:{o.id}:"))).all()
            assert f"case:{o.id}:receipt" in keys and any(":card:" in k for k in keys)
        audited = s.exec(select(AuditEntry.case_id).where(AuditEntry.action == "memo.submit"))
        assert sorted(audited.all()) == sorted(o.id for o in outcomes)
    assert audit.verify(org).ok


def test_a_memo_whose_sender_left_and_a_view_sent_twice_are_not_stored(org):
    with transaction(org) as session:
        kept = routed(session)
        gone = routed(session, slack_id="U0PARTNER1")
        member_by_slack_id(session, "U0PARTNER1").active = False
    with transaction(org) as session:
        other = routed(session, slack_id="U0WIN1")  # an active member
        outcomes = intake.store_all(
            session,
            [Submission(gone, "V1"), Submission(other, "V2"), Submission(other, "V2")],
            at=START,
        )
    assert outcomes[0] is NotStored.not_registered
    assert isinstance(outcomes[1], StoredMemo) and outcomes[1].number == "R8-0001"
    assert outcomes[2] is NotStored.duplicate
    assert count(org, Case) == 1 and count(org, Referral) == 1
    assert kept.referrer.id == gone.referrer.id


def test_a_view_stored_by_an_earlier_transaction_loses_the_whole_call(org):
    with transaction(org) as session:
        intake.store_all(session, [Submission(routed(session), "V1")], at=START)
    with pytest.raises(intake.DuplicateSubmission), transaction(org) as session:
        memo = routed(session)
        intake.store_all(session, [Submission(memo, "V2"), Submission(memo, "V1")], at=START)
    assert count(org, Case) == 1  # V2 went with the lost transaction


def services(engine) -> Services:
    return Services(engine=engine, clock=lambda: START, kick_delivery=lambda: None)


def waiting(svc: Services, memo: intake.Routed, view_id: str, wait: float = 5.0) -> _Waiting:
    return _Waiting(svc, memo, {"id": view_id, "private_metadata": ""}, wait)


def test_a_burst_with_a_view_stored_before_is_stored_one_by_one(org):
    """The memo sent twice gets its first receipt; the others are stored, not sunk with it."""
    svc = services(org)
    writer = MemoWriter()
    with transaction(org) as session:
        memo = routed(session)
    first = writer.store(svc, memo, {"id": "V1", "private_metadata": ""})
    burst = [waiting(svc, memo, "V2"), waiting(svc, memo, "V1"), waiting(svc, memo, "V3")]
    writer._store_burst(burst)
    outcomes = [w.outcome() for w in burst]
    assert outcomes[1] is NotStored.duplicate
    assert [outcomes[0].number, outcomes[2].number] == ["R8-0002", "R8-0003"]
    assert first.number == "R8-0001"
    assert count(org, Case) == 3 and count(org, Reminder) >= 3


def test_a_memo_the_writer_did_not_take_in_time_is_never_stored(org):
    svc = services(org)
    with transaction(org) as session:
        late = waiting(svc, routed(session), "V1", wait=0.05)
    with pytest.raises(Busy):
        late.outcome()  # the person is told the database is busy
    assert late.take() is False  # so the writer leaves it
    MemoWriter()._store_burst([late])
    assert count(org, Case) == 0


def test_memos_sent_together_while_the_database_is_held_are_all_stored_once(bot, db_url):
    """Five people press 送信 while a backup holds the database for a moment: each gets their
    own receipt number, and each memo's card and receipt go out once."""
    views = [bot.open_memo("U0PARTNER1") for _ in range(5)]
    answers: list[dict] = []
    lock = threading.Lock()

    def send(view: dict) -> None:
        signed = SignedSlack(bot.url, SIGNING_SECRET)  # a connection of its own: one person each
        answer = signed.submit("U0PARTNER1", view, bot_values(view))
        with lock:
            answers.append(answer.json())

    with held(db_url):
        threads = [threading.Thread(target=send, args=(v,)) for v in views]
        for thread in threads:
            thread.start()
        time.sleep(0.4)  # well within the request path's bound (1.5 s)
    for thread in threads:
        thread.join(20)
    assert [a["response_action"] for a in answers] == ["update"] * 5
    numbers = sorted(
        a["view"]["blocks"][0]["text"]["text"].split("受付番号")[1].split("*")[1] for a in answers
    )
    assert numbers == ["R8-0001", "R8-0002", "R8-0003", "R8-0004", "R8-0005"]
    assert count(bot.rt.engine, Case) == 5 and count(bot.rt.engine, Referral) == 5
    while bot.deliver():
        pass
    receipts = sorted(
        m["text"]
        for m in bot.slack.messages()
        if m["text"].startswith("つなぎメモを受け付けました")
    )
    assert receipts == [f"つなぎメモを受け付けました（受付番号 {n}）" for n in numbers]  # once each
    assert audit.verify(bot.rt.engine).ok


def bot_values(view: dict) -> dict:
    return memo_values(narrative=f"試験用の相談内容です（{view['id']}）。")


def test_whatever_fails_in_a_burst_every_person_hears(org):
    """No listener waits for ever: a failure before the transaction reaches each of them."""

    def broken_clock():
        raise RuntimeError("clock")

    svc = Services(engine=org, clock=broken_clock, kick_delivery=lambda: None)
    with transaction(org) as session:
        memo = routed(session)
    burst = [waiting(svc, memo, "V1"), waiting(svc, memo, "V2")]
    MemoWriter()._store_burst(burst)
    for w in burst:
        with pytest.raises(RuntimeError):
            w.outcome()
    assert count(org, Case) == 0
