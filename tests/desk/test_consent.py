"""本人同意: its history, the たつのまるごと会議 rule, withdrawal moving a case back — in the
domain and through the consent modal."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session

from models.base.db import transaction
from models.base.errors import DomainError
from models.cases import casework
from models.cases import consent as consents
from models.cases.consent import ConsentInput
from models.cases.lifecycle import CaseState
from models.cases.tables import Case, current_consent, has_consent
from tests.conftest import START
from tests.support.desk import (
    agency,
    audits,
    bring_to,
    card_of,
    member,
    new_case,
    opened_after,
    pick_from_menu,
    state_of,
    submit,
    view_text,
)


def record(engine, case_id: int, who: str = "U0COORD", **fields):
    with transaction(engine) as session:
        data = ConsentInput(**fields)
        if data.agency_ids == ["houkatsu"]:
            data.agency_ids = [agency(session, "houkatsu").id]
        return consents.record(
            session,
            case=session.get(Case, case_id),
            member=member(session, who),
            data=data,
            at=START,
        )


GIVEN = dict(status="given", method="oral", obtained_on=date(2026, 11, 26), agency_ids=["houkatsu"])
WITHDRAWN = dict(status="withdrawn", method="oral", obtained_on=date(2026, 11, 27))


@pytest.fixture
def assessed(org):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.assessment, START)
    return case_id


def test_history_is_kept_and_the_latest_is_current(org, assessed):
    with Session(org) as s:
        assert current_consent(s, assessed) is None
    record(org, assessed, status="unknown")
    record(org, assessed, **GIVEN)
    with Session(org) as s:
        history = consents.history(s, assessed)
        assert [h.status for h in history] == ["given", "unknown"]
        assert current_consent(s, assessed).method == "oral"
        assert has_consent(s, assessed)
        assert history[0].recorded_by_id == member(s, "U0COORD").id


def test_marugoto_needs_current_consent(org, assessed):
    with transaction(org) as session:
        case = session.get(Case, assessed)
        with pytest.raises(casework.InputError) as refused:
            casework.advance(
                session,
                case=case,
                member=member(session, "U0COORD"),
                stage="marugoto",
                note=None,
                at=START,
            )
    assert refused.value.errors == {"stage": "consent.required_for_marugoto"}
    record(org, assessed, **GIVEN)
    with transaction(org) as session:
        casework.advance(
            session,
            case=session.get(Case, assessed),
            member=member(session, "U0COORD"),
            stage="marugoto",
            note=None,
            at=START,
        )
    assert state_of(org, assessed) == "marugoto"


@pytest.mark.parametrize("stage", ["marugoto", "support"])
def test_withdrawal_moves_the_case_back_to_saponet(org, stage):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState(stage), START)
    outcome = record(
        org, case_id, status="withdrawn", method="oral", obtained_on=date(2026, 11, 27)
    )
    assert outcome.moved_back_to == CaseState.saponet
    assert state_of(org, case_id) == "saponet"
    with Session(org) as s:
        assert not has_consent(s, case_id)


def test_withdrawal_before_the_meeting_keeps_the_case_where_it_is(org, assessed):
    record(org, assessed, **GIVEN)
    outcome = record(
        org, assessed, status="withdrawn", method="written", obtained_on=date(2026, 11, 27)
    )
    assert outcome.moved_back_to is None
    assert state_of(org, assessed) == "assessment"


@pytest.mark.parametrize(
    ("first", "fields", "field", "code"),
    [
        (
            None,
            dict(status="withdrawn", method="oral", obtained_on=date(2026, 11, 27)),
            "status",
            "consent.error.nothing_to_withdraw",
        ),
        (
            GIVEN,
            dict(status="refused", method="oral", obtained_on=date(2026, 11, 27)),
            "status",
            "consent.error.use_withdrawn",
        ),
        (
            None,
            dict(status="given", obtained_on=date(2026, 11, 27), agency_ids=["houkatsu"]),
            "method",
            "consent.error.choose_method",
        ),
        (
            None,
            dict(status="given", method="oral", agency_ids=["houkatsu"]),
            "obtained_on",
            "consent.error.date_required",
        ),
        (
            None,
            dict(
                status="given",
                method="oral",
                obtained_on=date(2026, 11, 28),
                agency_ids=["houkatsu"],
            ),
            "obtained_on",
            "consent.error.future_date",
        ),
        (
            None,
            dict(status="given", method="oral", obtained_on=date(2026, 11, 27)),
            "agencies",
            "consent.error.agencies_required",
        ),
        (
            None,
            dict(status="given", method="oral", obtained_on=date(2026, 11, 27), agency_ids=[99999]),
            "agencies",
            "consent.error.invalid_agency",
        ),
        (None, dict(status="maybe"), "status", "consent.error.choose_status"),
    ],
)
def test_bad_consent_input_is_refused_and_stores_nothing(org, assessed, first, fields, field, code):
    if first:
        record(org, assessed, **first)
    with Session(org) as s:
        before = len(consents.history(s, assessed))
    with pytest.raises(consents.ConsentInvalid) as refused:
        record(org, assessed, **fields)
    assert refused.value.errors[field] == code
    with Session(org) as s:
        assert len(consents.history(s, assessed)) == before


def test_consent_cannot_be_recorded_before_the_memo_is_taken(org):
    case_id = new_case(org, START)
    with pytest.raises(DomainError) as refused:
        record(org, case_id, **GIVEN)
    assert refused.value.code == "consent.not_now"


def test_the_note_is_encrypted(org, assessed):
    record(org, assessed, **GIVEN, note="試験の同意メモ：長女が同席")
    with org.connect() as conn:
        raw = conn.exec_driver_sql("SELECT note FROM consent_record").scalar()
    assert raw and "試験" not in raw


# --- through Slack -----------------------------------------------------------------------------


def open_consent(bot, user: str, case_id: int, channel: str = "C0HOUKATSU") -> dict:
    before = len(bot.slack.views_opened())
    pick_from_menu(bot, user, card_of(bot, channel, "R8-0001"), f"consent:{case_id}")
    return opened_after(bot, before)


def test_the_window_records_consent_and_the_card_shows_it(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.window, START)
    bot.deliver()
    view = open_consent(bot, "U0WIN1", case_id)
    assert view["callback_id"] == "consent_submit"
    assert "まだ記録されていません" in view_text(view)
    with Session(engine) as s:
        houkatsu = str(agency(s, "houkatsu").id)
    # given without agencies: said inline, nothing stored
    answer = submit(
        bot, "U0WIN1", view, {"status": "given", "method": "written", "obtained_on": "2026-11-26"}
    )
    assert answer["response_action"] == "errors" and "機関" in answer["errors"]["agencies"]
    answer = submit(
        bot,
        "U0WIN1",
        view,
        {
            "status": "given",
            "method": "written",
            "obtained_on": "2026-11-26",
            "agencies": [houkatsu],
            "note": "試験の同意メモ",
        },
    )
    assert answer["response_action"] == "update" and "同意あり" in view_text(answer["view"])
    with Session(engine) as s:
        assert has_consent(s, case_id)
    bot.deliver()
    assert "同意あり" in view_text(card_of(bot, "C0HOUKATSU", "R8-0001"))
    assert [a.action for a in audits(engine) if a.allowed][-2:] == [
        "view_consent",
        "record_consent",
    ]
    # the history shows up the next time
    assert "同意あり" in view_text(open_consent(bot, "U0WIN1", case_id))


def test_withdrawal_through_the_modal_says_where_the_case_went(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.marugoto, START)
    bot.deliver()
    view = open_consent(bot, "U0COORD", case_id, channel="C0COORD")
    answer = submit(
        bot,
        "U0COORD",
        view,
        {"status": "withdrawn", "method": "oral", "obtained_on": "2026-11-27"},
    )
    text = view_text(answer["view"])
    assert "さぽネット会議" in text and "たつのまるごと会議" in text
    assert state_of(engine, case_id) == "saponet"


def test_others_cannot_open_or_submit_the_consent_form(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.window, START)
    bot.deliver()
    pick_from_menu(bot, "U0PARTNER1", card_of(bot, "C0HOUKATSU", "R8-0001"), f"consent:{case_id}")
    bot.slack.wait_for(lambda: bot.slack.ephemerals(user="U0PARTNER1"))
    view = open_consent(bot, "U0WIN1", case_id)
    answer = submit(bot, "U0KODOMO1", view, {"status": "unknown"})
    assert answer["response_action"] == "update" and "権限" in view_text(answer["view"])
    with Session(engine) as s:
        assert consents.history(s, case_id) == []
    refused = [(a.actor_slack_id, a.action) for a in audits(engine) if not a.allowed]
    assert refused == [("U0PARTNER1", "record_consent"), ("U0KODOMO1", "record_consent")]
