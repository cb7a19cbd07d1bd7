"""Two requests storing the same Slack view at once (a double click, a retry): one memo, and the
loser answers with the winner's receipt. SQLite serialises the writers; PostgreSQL lets both
run until the unique source view stops the second."""

from __future__ import annotations

import threading

from sqlmodel import func, select

from models.base.db import transaction
from models.cases import memo as intake
from models.cases.memo import MemoInput
from models.cases.tables import Case
from models.org.roster import member_by_slack_id
from tests.conftest import START

MEMO = MemoInput(
    narrative="試験用の相談内容です。",
    concerns=["kaigo"],
    urgency="normal",
    consent_to_share="yes",
    age_band="75+",
    person_name="辰野 試験子",
)


def test_the_same_view_stored_by_two_requests_at_once_makes_one_memo(org):
    first_stored = threading.Event()
    let_first_commit = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        with transaction(org) as session:
            referrer = member_by_slack_id(session, "U0PARTNER1")
            outcome["first"] = intake.submit(
                session, memo=MEMO, referrer=referrer, view_id="V0RACE", at=START
            ).number
            first_stored.set()
            let_first_commit.wait(10)

    def second() -> None:
        try:
            with transaction(org) as session:
                referrer = member_by_slack_id(session, "U0PARTNER1")
                outcome["second"] = intake.submit(
                    session, memo=MEMO, referrer=referrer, view_id="V0RACE", at=START
                ).number
        except intake.DuplicateSubmission:
            with transaction(org, write=False) as session:
                outcome["second"] = intake.existing_for_view(session, "V0RACE").number

    a = threading.Thread(target=first)
    a.start()
    assert first_stored.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(0.5)  # the second waits for the first (gate, lock or unique index)
    let_first_commit.set()
    a.join(10)
    b.join(10)
    assert outcome["first"] == outcome["second"] == "R8-0001"
    with transaction(org, write=False) as session:
        assert session.exec(select(func.count()).select_from(Case)).one() == 1
