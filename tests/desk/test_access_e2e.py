"""Every action and view of the case desk, tried by every role through signed requests.

For each entry point the expected roles are written out by hand (the README's table). A refused
try must answer the user, change nothing and leave a refused audit entry; an allowed one must
open its modal or do its step. Each role works on its own memo, so one role's step cannot make
another's look right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlmodel import Session, func, select

from models.cases.lifecycle import CaseState
from models.cases.tables import Assessment, Case, ConsentRecord
from tests.conftest import START
from tests.desk.test_case_desk_commands import command
from tests.support.desk import (
    USERS,
    add_deactivated,
    agency,
    audits,
    bring_to,
    card_of,
    new_case,
    pick_from_menu,
    submit,
    view_text,
)

ALL_ROLES = tuple(USERS)
MEMBERS = tuple(r for r in ALL_ROLES if r not in ("stranger", "deactivated"))
CASE_TEAM = ("coordinator", "window")
COORDINATOR = ("coordinator",)


@dataclass(frozen=True)
class Entry:
    setup: str  # the state the role's own memo is brought to first
    allowed: tuple[str, ...]
    opens: str | None = None  # callback_id of the modal an allowed try opens
    values: dict = field(default_factory=dict)  # what a submission fills in
    lead: str | None = None


ENTRIES = {
    "detail": Entry("window", CASE_TEAM, opens="notice_only"),
    "reroute": Entry(
        "window", CASE_TEAM, "case_step_submit", {"agency": "kodomo", "reason": "理由"}
    ),
    "escalate": Entry("window", CASE_TEAM, "case_step_submit", {"reason": "試験の理由"}),
    "suspend": Entry("window", CASE_TEAM, "case_step_submit", {"reason": "入院"}),
    "close": Entry("window", CASE_TEAM, "case_step_submit", {"close_reason": "resolved"}),
    "resume": Entry("suspended_at_window", CASE_TEAM, "case_step_submit", {}),
    "start_assessment": Entry("coordination", COORDINATOR, "case_step_submit", {}),
    "set_lead": Entry("coordination", COORDINATOR, "case_step_submit", {"agency": "shogai"}),
    "advance": Entry("assessment", COORDINATOR, "case_step_submit", {"stage": "saponet"}),
    "consent": Entry("window", CASE_TEAM, "consent_submit", {"status": "unknown"}),
    "assessment": Entry(
        "coordination",
        CASE_TEAM,
        "assessment_submit",
        {"relationship_1": "本人", "main_issue": "試験の課題"},
        lead="houkatsu",
    ),
}


def channel_of(entry: Entry) -> str:
    return "C0COORD" if entry.setup in ("coordination", "assessment") else "C0HOUKATSU"


def fingerprint(engine, case_id: int) -> tuple:
    """Everything a step could change about a case."""
    with Session(engine) as s:
        case = s.get(Case, case_id)
        consents = s.exec(
            select(func.count()).select_from(ConsentRecord).where(ConsentRecord.case_id == case_id)
        ).one()
        versions = s.exec(
            select(func.count()).select_from(Assessment).where(Assessment.case_id == case_id)
        ).one()
        return (
            case.state,
            case.version,
            case.routed_agency_id,
            case.lead_agency_id,
            consents,
            versions,
        )


def refused_for(engine, user: str, case_id: int) -> list:
    return [
        a
        for a in audits(engine)
        if a.actor_slack_id == user and not a.allowed and a.case_id == case_id
    ]


@pytest.fixture
def walk(bot):
    add_deactivated(bot.rt.engine)
    bot.slack.add_user("U0GONE")
    return bot


def prepare(bot, entry: Entry) -> dict[str, tuple[int, str]]:
    """One memo per role, brought to the entry's state; {role: (case id, number)}."""
    engine = bot.rt.engine
    cases = {}
    for role in ALL_ROLES:
        case_id = new_case(engine, START)
        bring_to(engine, case_id, entry.setup, START, lead=entry.lead)
        with Session(engine) as s:
            cases[role] = (case_id, s.get(Case, case_id).number)
    bot.deliver()
    return cases


def try_to_open(bot, name: str, entry: Entry, user: str, case_id: int, number: str) -> bool:
    """True when the modal opened; False when the user was answered with a refusal."""
    opened = len(bot.slack.views_opened())
    told = len(bot.slack.ephemerals(user=user))
    card = card_of(bot, channel_of(entry), number)
    trigger = bot.slack.issue_trigger_id()
    if name == "detail":
        bot.signed.click(user, card, "case_detail", trigger_id=trigger)
    else:
        pick_from_menu(bot, user, card, f"{name}:{case_id}", trigger_id=trigger)
    bot.slack.wait_for(
        lambda: (
            len(bot.slack.views_opened()) > opened or len(bot.slack.ephemerals(user=user)) > told
        )
    )
    if len(bot.slack.views_opened()) > opened:
        assert bot.slack.views_opened()[opened]["callback_id"] == entry.opens
        return True
    return False


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_role_opens_only_what_the_table_allows(walk, name):
    entry = ENTRIES[name]
    cases = prepare(walk, entry)
    wrong = []
    for role in ALL_ROLES:
        user = USERS[role]
        case_id, number = cases[role]
        before = fingerprint(walk.rt.engine, case_id)
        opened = try_to_open(walk, name, entry, user, case_id, number)
        if opened != (role in entry.allowed):
            wrong.append((role, "opened" if opened else "refused"))
            continue
        assert fingerprint(walk.rt.engine, case_id) == before  # opening changes nothing
        if not opened:
            assert refused_for(walk.rt.engine, user, case_id), (name, role, "not audited")
    assert wrong == []


def _values(bot, entry: Entry) -> dict:
    values = dict(entry.values)
    if "agency" in values:
        with Session(bot.rt.engine) as s:
            values["agency"] = str(agency(s, values["agency"]).id)
    return values


@pytest.mark.parametrize("name", sorted(n for n in ENTRIES if n != "detail"))
def test_every_role_submits_only_what_the_table_allows(walk, name):
    """The form as the coordinator opened it, submitted by each role: rights are checked on
    the user who submits, against the database — never on what the form remembers."""
    entry = ENTRIES[name]
    cases = prepare(walk, entry)
    wrong = []
    for role in ALL_ROLES:
        user = USERS[role]
        case_id, number = cases[role]
        assert try_to_open(walk, name, entry, "U0COORD", case_id, number)
        form = walk.slack.views_opened()[-1]
        before = fingerprint(walk.rt.engine, case_id)
        answer = submit(walk, user, form, _values(walk, entry))
        changed = fingerprint(walk.rt.engine, case_id) != before
        if changed != (role in entry.allowed):
            wrong.append((role, "done" if changed else "refused", view_text(answer)[:200]))
            continue
        assert answer["response_action"] == "update"
        if not changed:
            assert refused_for(walk.rt.engine, user, case_id), (name, role, "not audited")
            assert "完了しました" not in view_text(answer)
    assert wrong == []


def test_every_role_takes_only_what_the_table_allows(walk):
    cases = prepare(walk, Entry("received", CASE_TEAM))
    wrong = []
    for role in ALL_ROLES:
        user = USERS[role]
        case_id, number = cases[role]
        told = len(walk.slack.ephemerals(user=user))
        walk.signed.click(
            user, card_of(walk, "C0HOUKATSU", number), "case_acknowledge", trigger_id="t"
        )
        walk.answers(user, told)
        taken = fingerprint(walk.rt.engine, case_id)[0] != CaseState.received
        if taken != (role in CASE_TEAM):
            wrong.append(role)
        elif not taken:
            assert refused_for(walk.rt.engine, user, case_id)
    assert wrong == []


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_gets_status_mine_and_home_within_its_rights(walk, role):
    cases = prepare(walk, Entry("window", CASE_TEAM))
    user = USERS[role]
    _, number = cases[role]
    status = command(walk, user, f"status {number}")
    may_see = role in (*CASE_TEAM, "partner")
    assert (number in status) == may_see, status
    if not may_see:
        assert refused_for(walk.rt.engine, user, cases[role][0])
    mine = command(walk, user, "mine")
    assert ("登録が必要" in mine) == (role not in MEMBERS)
    event = {"type": "app_home_opened", "user": user, "tab": "home", "channel": f"D{user}"}
    walk.signed.event(event, event_id=f"Ev{user}")
    home = walk.slack.wait_for(lambda: walk.slack.home_views(user))
    assert ("登録が必要" in view_text(home)) == (role not in MEMBERS)
