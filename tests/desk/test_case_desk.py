"""The case lifecycle end to end: the steps on a case's message and in its detail modal,
through signed requests, against the Slack stand-in; and the domain rules underneath."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from models.base.db import transaction
from models.base.errors import DomainError, NotAllowed
from models.cases import casework
from models.cases.lifecycle import TRANSITIONS, CaseState, Step, steps_from
from models.cases.tables import Case, CaseEvent
from tests.conftest import START
from tests.intake.test_intake_e2e import PERSONAL
from tests.support.desk import (
    agency,
    answered,
    audits,
    bring_to,
    card_of,
    click_in_view,
    member,
    menu_values,
    new_case,
    opened_after,
    pick_from_menu,
    state_of,
    submit,
    view_text,
)

REASON = "試験の理由：<!channel> 長男の就労が途切れた & 家計が厳しい"


def case_row(engine, case_id: int) -> Case:
    with Session(engine) as s:
        return s.get(Case, case_id)


def events(engine, case_id: int) -> list[CaseEvent]:
    with Session(engine) as s:
        return list(s.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)))


def dms(bot, user: str) -> list[dict]:
    return [m for m in bot.slack.messages() if m["channel"] in (user, f"D{user}")]


def open_form(bot, user: str, channel: str, number: str, step: str, case_id: int) -> dict:
    before = len(bot.slack.views_opened())
    pick_from_menu(bot, user, card_of(bot, channel, number), f"{step}:{case_id}")
    return opened_after(bot, before)


@pytest.fixture
def taken(bot):
    """R8-0001 about kaigo, taken by 高齢者相談支援センター, cards delivered."""
    case_id = new_case(bot.rt.engine, START)
    bring_to(bot.rt.engine, case_id, CaseState.window, START)
    bot.deliver()
    return case_id


# --- the state machine -------------------------------------------------------------------------


def test_every_state_is_in_the_machine_and_closed_is_final():
    assert set(TRANSITIONS) == set(CaseState)
    assert TRANSITIONS[CaseState.closed] == frozenset()
    for state in CaseState:
        assert all(target in CaseState for target in TRANSITIONS[state])


def test_steps_offered_follow_the_state():
    assert steps_from("received") == [Step.acknowledge, Step.reroute]
    assert Step.escalate in steps_from("window") and Step.close in steps_from("window")
    assert steps_from("closed") == [Step.assessment]  # earlier versions stay readable
    assert steps_from("suspended") == [Step.resume, Step.consent, Step.assessment]


def test_impossible_step_is_refused_in_the_domain_with_a_reason(org):
    case_id = new_case(org, START)
    with transaction(org) as session:
        case = session.get(Case, case_id)
        with pytest.raises(DomainError) as refused:
            casework.start_assessment(
                session, case=case, member=member(session, "U0COORD"), at=START
            )
    assert refused.value.code == "desk.not_now"
    assert refused.value.params["state"] == "received"
    assert state_of(org, case_id) == "received"


def test_the_domain_checks_rights_too(org):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.window, START)
    with transaction(org) as session:
        case = session.get(Case, case_id)
        with pytest.raises(NotAllowed):
            casework.close(
                session,
                case=case,
                member=member(session, "U0KODOMO1"),
                reason_code="resolved",
                note=None,
                at=START,
            )


def test_every_transition_records_who_when_and_why(org, clock):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.window, START)
    with transaction(org) as session:
        casework.suspend(
            session,
            case=session.get(Case, case_id),
            member=member(session, "U0WIN1"),
            reason=REASON,
            at=START,
        )
    last = events(org, case_id)[-1]
    assert (last.kind, last.from_state, last.to_state, last.reason) == (
        "suspended",
        "window",
        "suspended",
        REASON,
    )
    with org.connect() as conn:
        raw = conn.exec_driver_sql("SELECT reason FROM caseevent WHERE kind='suspended'").scalar()
    assert "試験" not in raw  # encrypted at rest


# --- the card and its steps --------------------------------------------------------------------


def test_the_card_offers_the_steps_of_its_state(bot, taken):
    message = card_of(bot, "C0HOUKATSU", "R8-0001")
    steps = [v.split(":")[0] for v in menu_values(message)]
    assert steps == ["reroute", "escalate", "suspend", "close", "consent", "assessment"]
    assert "case_acknowledge" not in json.dumps(message["blocks"])


def test_reroute_posts_a_card_to_the_new_window_and_waits_for_it(bot, taken):
    engine = bot.rt.engine
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "reroute", taken)
    assert view["callback_id"] == "case_step_submit"
    offered = [
        o["text"]["text"] for b in view["blocks"] for o in b.get("element", {}).get("options", [])
    ]
    assert "こども家庭センター" in offered and "高齢者相談支援センター" not in offered
    with Session(engine) as s:
        kodomo = agency(s, "kodomo").id
    answer = submit(bot, "U0WIN1", view, {"agency": str(kodomo), "reason": REASON})
    assert answer["response_action"] == "update"
    assert "こども家庭センター" in view_text(answer["view"])
    case = case_row(engine, taken)
    assert (case.state, case.routed_agency_id, case.acknowledged_at) == ("received", kodomo, None)

    bot.deliver()
    new_card = card_of(bot, "C0KODOMO", "R8-0001")
    assert "case_acknowledge" in json.dumps(new_card["blocks"])
    old_card = card_of(bot, "C0HOUKATSU", "R8-0001")
    assert "つなぎ直しました" in view_text(old_card)
    # the new window takes it; the referrer hears about it again
    bot.signed.click("U0KODOMO1", new_card, "case_acknowledge", trigger_id="t1")
    bot.answers("U0KODOMO1")
    assert state_of(engine, taken) == "window"
    bot.deliver()
    acks = [m for m in dms(bot, "U0PARTNER1") if "引き受けられました" in m["text"]]
    assert len(acks) == 2
    # the old window no longer may act
    before = len(bot.slack.ephemerals(user="U0WIN1"))
    pick_from_menu(bot, "U0WIN1", card_of(bot, "C0KODOMO", "R8-0001"), f"close:{taken}")
    assert "権限" in answered(bot, "U0WIN1", before)


def test_reroute_needs_a_reason_and_another_window(bot, taken):
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "reroute", taken)
    with Session(bot.rt.engine) as s:
        kodomo, houkatsu = agency(s, "kodomo").id, agency(s, "houkatsu").id
    answer = submit(bot, "U0WIN1", view, {"agency": str(kodomo), "reason": "   "})
    assert answer["response_action"] == "errors" and "理由" in answer["errors"]["reason"]
    answer = submit(bot, "U0WIN1", view, {"agency": str(houkatsu), "reason": "理由"})
    assert "同じ窓口" in answer["errors"]["agency"]
    assert case_row(bot.rt.engine, taken).routed_agency_id == houkatsu
    assert [e.kind for e in events(bot.rt.engine, taken)] == ["received", "acknowledged"]


def test_escalate_hands_the_case_to_the_coordinator_and_the_window_keeps_seeing_it(bot, taken):
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "escalate", taken)
    answer = submit(bot, "U0WIN1", view, {"reason": REASON})
    assert answer["response_action"] == "update"
    assert state_of(bot.rt.engine, taken) == "coordination"
    bot.deliver()
    coord_card = card_of(bot, "C0COORD", "R8-0001")
    assert "重層推進室へつなぎました" in view_text(coord_card)
    steps = [v.split(":")[0] for v in menu_values(coord_card)]
    assert "start_assessment" in steps and "set_lead" in steps
    # the window still opens the detail, now without steps that move the case
    before = len(bot.slack.views_opened())
    bot.signed.click(
        "U0WIN1",
        card_of(bot, "C0HOUKATSU", "R8-0001"),
        "case_detail",
        trigger_id=bot.slack.issue_trigger_id(),
    )
    detail = opened_after(bot, before)
    shown = view_text(detail)
    assert "&lt;!channel&gt;" in shown and "<!channel>" not in shown  # the reason, escaped
    assert "case_step_close" not in shown and "case_step_consent" in shown


def test_close_tells_the_referrer_only_the_number_and_status(bot, taken):
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "close", taken)
    answer = submit(bot, "U0WIN1", view, {"close_reason": "connected", "note": REASON})
    assert answer["response_action"] == "update"
    case = case_row(bot.rt.engine, taken)
    assert case.state == "closed"
    assert events(bot.rt.engine, taken)[-1].code == "connected"
    bot.deliver()
    [closed] = [m for m in dms(bot, "U0PARTNER1") if "終結" in m["text"]]
    body = json.dumps(closed, ensure_ascii=False)
    assert "R8-0001" in body and "終結" in body
    for secret in ("ほかの支援", "試験の理由", "高齢者相談支援センター"):
        assert secret not in body
    card = card_of(bot, "C0HOUKATSU", "R8-0001")
    assert [v.split(":")[0] for v in menu_values(card)] == ["assessment"]


def test_close_with_other_needs_a_note(bot, taken):
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "close", taken)
    answer = submit(bot, "U0WIN1", view, {"close_reason": "other"})
    assert "その他" in answer["errors"]["note"]
    answer = submit(bot, "U0WIN1", view, {})
    assert "理由を選んで" in answer["errors"]["close_reason"]
    assert state_of(bot.rt.engine, taken) == "window"


def test_suspend_and_resume_at_the_window(bot, taken):
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "suspend", taken)
    assert submit(bot, "U0WIN1", view, {"reason": "入院のため"})["response_action"] == "update"
    case = case_row(bot.rt.engine, taken)
    assert (case.state, case.suspended_from) == ("suspended", "window")
    bot.deliver()
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "resume", taken)
    assert "窓口で対応中" in view_text(view)
    assert submit(bot, "U0WIN1", view, {})["response_action"] == "update"
    case = case_row(bot.rt.engine, taken)
    assert (case.state, case.suspended_from) == ("window", None)


def test_coordinator_runs_assessment_stage_and_lead(bot):
    engine = bot.rt.engine
    taken = new_case(engine, START)
    bring_to(engine, taken, CaseState.coordination, START)
    bot.deliver()
    view = open_form(bot, "U0COORD", "C0COORD", "R8-0001", "start_assessment", taken)
    assert submit(bot, "U0COORD", view, {})["response_action"] == "update"
    assert state_of(engine, taken) == "assessment"
    bot.deliver()

    # no consent recorded: たつのまるごと会議 is refused, with the way to go on
    view = open_form(bot, "U0COORD", "C0COORD", "R8-0001", "advance", taken)
    assert "さぽネット会議" in view_text(view)
    answer = submit(bot, "U0COORD", view, {"stage": "marugoto"})
    assert answer["response_action"] == "errors"
    assert "同意" in answer["errors"]["stage"] and "さぽネット会議" in answer["errors"]["stage"]
    assert state_of(engine, taken) == "assessment"
    assert submit(bot, "U0COORD", view, {"stage": "saponet"})["response_action"] == "update"
    assert state_of(engine, taken) == "saponet"
    bot.deliver()

    with Session(engine) as s:
        shogai, kodomo = agency(s, "shogai").id, agency(s, "kodomo").id
    view = open_form(bot, "U0COORD", "C0COORD", "R8-0001", "set_lead", taken)
    answer = submit(bot, "U0COORD", view, {"agency": str(shogai), "reason": "会議で決まらず"})
    assert "障がい福祉係" in view_text(answer["view"])
    bot.deliver()
    view = open_form(bot, "U0COORD", "C0COORD", "R8-0001", "set_lead", taken)
    submit(bot, "U0COORD", view, {"agency": str(kodomo)})
    bot.deliver()
    assert case_row(engine, taken).lead_agency_id == kodomo
    assert [e.kind for e in events(engine, taken)][-2:] == ["lead_set", "lead_changed"]
    leads = [m for m in dms(bot, "U0PARTNER1") if "主担当" in m["text"]]
    assert len(leads) == 1  # the referrer hears when a lead is first decided
    assert "会議で検討中" in json.dumps(leads[0], ensure_ascii=False)
    assert "障がい福祉係" not in json.dumps(leads[0], ensure_ascii=False)
    # the new lead window now sees the case
    assert "主担当" in view_text(card_of(bot, "C0COORD", "R8-0001"))


def test_a_stale_step_from_an_old_message_is_refused_in_words(bot, taken):
    # the coordinator may still pick anything: the state machine answers
    coord_old = card_of(bot, "C0HOUKATSU", "R8-0001")
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "suspend", taken)
    submit(bot, "U0WIN1", view, {"reason": "入院"})
    pick_from_menu(bot, "U0COORD", coord_old, f"escalate:{taken}")
    text = answered(bot, "U0COORD")
    assert "中断" in text and "できません" in text
    bot.deliver()
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "resume", taken)
    submit(bot, "U0WIN1", view, {})
    bot.deliver()
    old = card_of(bot, "C0HOUKATSU", "R8-0001")
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "close", taken)
    submit(bot, "U0WIN1", view, {"close_reason": "resolved"})
    before = len(bot.slack.ephemerals(user="U0WIN1"))
    pick_from_menu(bot, "U0WIN1", old, f"suspend:{taken}")
    text = answered(bot, "U0WIN1", before)
    assert "終結しています" in text
    assert state_of(bot.rt.engine, taken) == "closed"


def test_steps_from_the_detail_modal_open_on_top_of_it(bot, taken):
    before = len(bot.slack.views_opened())
    bot.signed.click(
        "U0WIN1",
        card_of(bot, "C0HOUKATSU", "R8-0001"),
        "case_detail",
        trigger_id=bot.slack.issue_trigger_id(),
    )
    detail = opened_after(bot, before)
    assert "case_step_escalate" in view_text(detail)
    pushed = len(bot.slack.calls_to("views.push"))
    click_in_view(bot, "U0WIN1", detail, "case_step_escalate")
    bot.slack.wait_for(lambda: len(bot.slack.calls_to("views.push")) > pushed)
    form = bot.slack.views_opened()[-1]
    assert form["callback_id"] == "case_step_submit" and form["previous_view_id"] == detail["id"]


def test_no_slack_message_of_the_whole_desk_carries_personal_text(bot, taken):
    engine = bot.rt.engine
    for step, values in (("suspend", {"reason": REASON}), ("resume", {"note": REASON})):
        view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", step, taken)
        submit(bot, "U0WIN1", view, values)
        bot.deliver()
    view = open_form(bot, "U0WIN1", "C0HOUKATSU", "R8-0001", "escalate", taken)
    submit(bot, "U0WIN1", view, {"reason": REASON})
    bot.deliver()
    view = open_form(bot, "U0COORD", "C0COORD", "R8-0001", "close", taken)
    submit(bot, "U0COORD", view, {"close_reason": "other", "note": REASON})
    bot.deliver()
    assert state_of(engine, taken) == "closed"
    sent = [
        json.dumps(c.args, ensure_ascii=False)
        for c in bot.slack.calls
        if c.method.startswith("chat.")
    ]
    assert len(sent) >= 8
    for text in sent:
        for secret in [*PERSONAL, "試験の理由", "長男の就労"]:
            assert secret not in text


def test_refused_step_is_audited_and_changes_nothing(bot, taken):
    pick_from_menu(bot, "U0KODOMO1", card_of(bot, "C0HOUKATSU", "R8-0001"), f"close:{taken}")
    assert "権限" in answered(bot, "U0KODOMO1")
    refused = [a for a in audits(bot.rt.engine) if not a.allowed]
    assert [(a.actor_slack_id, a.action, a.case_id) for a in refused] == [
        ("U0KODOMO1", "close_case", taken)
    ]
    assert state_of(bot.rt.engine, taken) == "window"
