"""The rights table (models/cases/access.py), checked action by action for every role.

The expectations below are written out by hand from the README's table, not computed from the
code they test: a change of rights must change this file too.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from models.base.db import transaction
from models.cases import access
from models.cases.access import Action, case_scope, decide
from models.cases.lifecycle import CaseState
from models.cases.tables import Case
from tests.conftest import START
from tests.support.desk import (
    USERS,
    add_deactivated,
    agency,
    bring_to,
    give_consent,
    member,
    new_case,
)

EVERYONE = {Action.send_memo, Action.view_home, Action.list_mine}
# Decided on a meeting or a task: asked without one (as here), even the coordinator is refused,
# since there is nothing to see (a missing id is answered like one not theirs).
ON_A_MEETING_OR_TASK = {
    Action.view_meeting,
    Action.view_meeting_case,
    Action.view_task,
    Action.update_task,
}
CASE_ACTIONS = (
    set(Action) - EVERYONE - {Action.reminder_done, Action.reminder_snooze} - ON_A_MEETING_OR_TASK
)
HANDLER_VIEWS = {
    Action.view_case_status,
    Action.view_case_summary,
    Action.view_case_detail,
    Action.view_consent,
    Action.view_assessment,
}
AT_WINDOW = {
    Action.acknowledge_case,
    Action.reroute_case,
    Action.escalate_case,
    Action.suspend_case,
    Action.close_case,
    Action.resume_case,
}

# A houkatsu memo sent by the school, taken by the window: state `window`.
AT_WINDOW_CASE = {
    "coordinator": EVERYONE | CASE_ACTIONS,
    "window": EVERYONE | HANDLER_VIEWS | AT_WINDOW | {Action.record_consent},
    "other_window": EVERYONE,
    "partner": EVERYONE | {Action.view_case_status},
    "support": EVERYONE,
    "department": EVERYONE,
    "admin": EVERYONE,
    "stranger": set(),
    "deactivated": set(),
}
# The same memo escalated to the coordinator, 障がい福祉係 set as the lead: state `coordination`.
ESCALATED_CASE = {
    "coordinator": EVERYONE | CASE_ACTIONS,
    # routed window: still sees and records consent; no longer moves the case
    "window": EVERYONE | HANDLER_VIEWS | {Action.acknowledge_case, Action.record_consent},
    "lead_window": EVERYONE | HANDLER_VIEWS | {Action.record_consent, Action.record_assessment},
    "other_window": EVERYONE,
    "partner": EVERYONE | {Action.view_case_status},
    "support": EVERYONE,
    "department": EVERYONE,
    "admin": EVERYONE,
    "stranger": set(),
    "deactivated": set(),
}


@pytest.fixture
def world(org):
    add_deactivated(org)
    return org


def allowed_actions(engine, slack_id: str, case_id: int) -> set[Action]:
    with Session(engine) as session:
        m = session.exec(select(access.Member).where(access.Member.slack_id == slack_id)).first()
        who = m if m is not None else None
        case = session.get(Case, case_id)
        return {
            a
            for a in Action
            if a not in (Action.reminder_done, Action.reminder_snooze)
            if decide(session, who, a, case)
        }


@pytest.mark.parametrize("role", sorted(AT_WINDOW_CASE))
def test_rights_on_a_case_held_at_the_window(world, role):
    case_id = new_case(world, START)
    bring_to(world, case_id, CaseState.window, START)
    assert allowed_actions(world, USERS[role], case_id) == AT_WINDOW_CASE[role]


@pytest.mark.parametrize("role", sorted(ESCALATED_CASE))
def test_rights_on_an_escalated_case_with_a_lead(world, role):
    case_id = new_case(world, START)
    bring_to(world, case_id, CaseState.coordination, START, lead="shogai")
    users = {**USERS, "lead_window": "U0SHOGAI1"}
    assert allowed_actions(world, users[role], case_id) == ESCALATED_CASE[role]


def test_a_received_memo_is_the_routed_windows_to_take(world):
    case_id = new_case(world, START)
    assert Action.acknowledge_case in allowed_actions(world, "U0WIN1", case_id)
    assert Action.acknowledge_case not in allowed_actions(world, "U0KODOMO1", case_id)
    assert Action.acknowledge_case in allowed_actions(world, "U0COORD", case_id)


def test_a_window_may_resume_only_what_it_suspended(world):
    at_window = new_case(world, START)
    bring_to(world, at_window, "suspended_at_window", START)
    assert Action.resume_case in allowed_actions(world, "U0WIN1", at_window)
    escalated = new_case(world, START)
    bring_to(world, escalated, CaseState.coordination, START)
    with transaction(world) as session:
        from models.cases.casework import suspend

        suspend(
            session,
            case=session.get(Case, escalated),
            member=member(session, "U0COORD"),
            reason="試験",
            at=START,
        )
    assert Action.resume_case not in allowed_actions(world, "U0WIN1", escalated)


def test_refusals_say_why(world):
    case_id = new_case(world, START)
    bring_to(world, case_id, CaseState.coordination, START, lead="shogai")
    with Session(world) as session:
        case = session.get(Case, case_id)
        win, lead = member(session, "U0WIN1"), member(session, "U0SHOGAI1")
        assert decide(session, None, Action.send_memo).reason == "access.not_registered"
        assert decide(session, win, Action.set_lead, case).reason == "access.coordinator_only"
        assert decide(session, win, Action.close_case, case).reason == "access.not_at_your_window"
        assert decide(session, win, Action.record_assessment, case).reason == "access.lead_only"
        kodomo = member(session, "U0KODOMO1")
        assert decide(session, kodomo, Action.view_case_detail, case).reason == (
            "access.not_your_case"
        )
        assert decide(session, lead, Action.close_case, case).reason == "access.not_your_case"


# --- support agencies: the plan-task hook ------------------------------------------------------


@pytest.fixture
def minsei_holds_a_task(world, monkeypatch):
    with Session(world) as session:
        minsei = agency(session, "minsei").id
    monkeypatch.setattr(access, "agencies_with_tasks", lambda session, case_id: frozenset({minsei}))
    monkeypatch.setattr(
        access,
        "cases_with_tasks",
        lambda session, agency_id: frozenset(
            session.exec(select(Case.id)).all() if agency_id == minsei else []
        ),
    )
    return world


def test_without_plans_no_agency_holds_a_task(world):
    case_id = new_case(world, START)
    with Session(world) as session:
        assert access.agencies_with_tasks(session, case_id) == frozenset()
        assert access.cases_with_tasks(session, agency(session, "minsei").id) == frozenset()


def test_a_task_holder_sees_status_but_details_only_with_consent(minsei_holds_a_task):
    engine = minsei_holds_a_task
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.assessment, START)
    seen = allowed_actions(engine, "U0SUPPORT1", case_id)
    assert seen == EVERYONE | {Action.view_case_status, Action.view_case_summary}
    with Session(engine) as session:
        case = session.get(Case, case_id)
        refusal = decide(session, member(session, "U0SUPPORT1"), Action.view_case_detail, case)
        assert refusal.reason == "access.consent_not_covering"
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        give_consent(session, case, member(session, "U0COORD"), START, agencies=("minsei",))
    seen = allowed_actions(engine, "U0SUPPORT1", case_id)
    assert seen == EVERYONE | HANDLER_VIEWS  # sees, but records nothing


def test_consent_for_other_agencies_does_not_open_details(minsei_holds_a_task):
    engine = minsei_holds_a_task
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.assessment, START)
    with transaction(engine) as session:
        give_consent(session, session.get(Case, case_id), member(session, "U0COORD"), START)
    assert Action.view_case_detail not in allowed_actions(engine, "U0SUPPORT1", case_id)


def test_in_saponet_only_members_bound_by_confidentiality_see_details(minsei_holds_a_task):
    engine = minsei_holds_a_task
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.saponet, START)
    assert Action.view_case_detail not in allowed_actions(engine, "U0SUPPORT1", case_id)
    with transaction(engine) as session:
        m = member(session, "U0SUPPORT1")
        m.confidentiality_ack = date(2026, 7, 1)
        session.add(m)
    assert Action.view_case_detail in allowed_actions(engine, "U0SUPPORT1", case_id)


# --- lists give the same answers as decide -----------------------------------------------------


def test_case_scope_agrees_with_decide_for_every_member_and_case(minsei_holds_a_task):
    engine = minsei_holds_a_task
    a = new_case(engine, START)  # houkatsu, from the school
    b = new_case(engine, START, concerns=["kosodate"], referrer="U0SUPPORT1")  # kodomo
    c = new_case(engine, START, concerns=["kaigo", "shogai"], referrer="U0WIN1")  # coordinator
    bring_to(engine, a, CaseState.coordination, START, lead="shogai")
    with Session(engine) as session:
        people = [*session.exec(select(access.Member)), None]
        for who in people:
            for action in (Action.view_case_status, Action.view_case_summary):
                listed = set(session.exec(select(Case.id).where(case_scope(session, who, action))))
                decided = {
                    cid for cid in (a, b, c) if decide(session, who, action, session.get(Case, cid))
                }
                name = who.slack_id if who else "stranger"
                assert listed == decided, (name, action)


def test_the_docstring_table_lists_every_action():
    documented = set(re.findall(r"^(\w+)\s+\|", access.__doc__, flags=re.M)) - {"Action"}
    assert documented == {a.value for a in CASE_ACTIONS | EVERYONE | ON_A_MEETING_OR_TASK}
