"""世帯全体のアセスメント: versions, encryption at rest, who may read and write, each view
audited — in the domain and through the modals."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from models.base.db import transaction
from models.base.errors import DomainError
from models.cases import assessment as assessments
from models.cases.assessment import AssessmentInput, HouseholdMember
from models.cases.lifecycle import CaseState
from models.cases.tables import Case
from tests.conftest import START
from tests.support.desk import (
    audits,
    bring_to,
    card_of,
    click_in_view,
    member,
    new_case,
    opened_after,
    pick_from_menu,
    submit,
    view_text,
)

HOUSEHOLD = AssessmentInput(
    members=[
        HouseholdMember("本人", "75+", ["kaigo", "ninchisho"]),
        HouseholdMember("長男", "40-64", ["hikikomori"]),
    ],
    main_issue="試験の主な課題：8050の状態",
    wishes="試験の希望：家で暮らしたい",
    strengths="試験の強み：近所づきあい",
    risks="試験のリスク：家計",
)


def save(engine, case_id, data=HOUSEHOLD, *, based_on=None, who="U0COORD"):
    with transaction(engine) as session:
        return assessments.record(
            session,
            case=session.get(Case, case_id),
            member=member(session, who),
            data=data,
            based_on=based_on,
            at=START,
        )


@pytest.fixture
def assessing(org):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.assessment, START, lead="houkatsu")
    return case_id


def test_an_edit_is_a_new_version_and_the_old_one_stays(org, assessing):
    first = save(org, assessing)
    changed = AssessmentInput(members=HOUSEHOLD.members[:1], main_issue="試験の新しい課題")
    second = save(org, assessing, changed, based_on=first.version)
    assert (first.version, second.version) == (1, 2)
    with Session(org) as s:
        versions = assessments.versions(s, assessing)
        assert [v.version for v in versions] == [2, 1]
        old = assessments.members_of(versions[1])
        assert [m.relationship for m in old] == ["本人", "長男"]
        assert old[1].concerns == ["hikikomori"]


def test_everything_written_is_encrypted_at_rest(org, assessing):
    save(org, assessing)
    with org.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT members, main_issue, wishes, strengths, risks FROM assessment"
        ).one()
    for value in row:
        assert value and "試験" not in value and "本人" not in value and "hikikomori" not in value


def test_saving_over_someone_elses_newer_version_is_refused(org, assessing):
    save(org, assessing)
    with pytest.raises(DomainError) as refused:
        save(org, assessing, based_on=None)  # started before version 1 existed
    assert refused.value.code == "assessment.conflict"
    with Session(org) as s:
        assert len(assessments.versions(s, assessing)) == 1


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        (
            AssessmentInput(members=[], main_issue="課題"),
            "relationship_1",
            "assessment.error.member_required",
        ),
        (
            AssessmentInput(members=[HouseholdMember("", "75+")], main_issue="課題"),
            "relationship_1",
            "assessment.error.relationship_required",
        ),
        (
            AssessmentInput(
                members=[HouseholdMember("本人"), HouseholdMember("", None, ["kaigo"])],
                main_issue="課題",
            ),
            "relationship_2",
            "assessment.error.relationship_required",
        ),
        (
            AssessmentInput(members=[HouseholdMember("本人", "200+")], main_issue="課題"),
            "age_band_1",
            "assessment.error.invalid_choice",
        ),
        (
            AssessmentInput(members=[HouseholdMember("本人", None, ["nope"])], main_issue="課題"),
            "concerns_1",
            "assessment.error.invalid_choice",
        ),
        (
            AssessmentInput(members=[HouseholdMember("本人")], main_issue="  "),
            "main_issue",
            "assessment.error.main_issue_required",
        ),
        (
            AssessmentInput(
                members=[HouseholdMember("本人")], main_issue="課題", risks="あ" * 1001
            ),
            "risks",
            "assessment.error.too_long",
        ),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(org, assessing, data, field, code):
    with pytest.raises(assessments.AssessmentInvalid) as refused:
        save(org, assessing, data)
    assert refused.value.errors[field] == code
    with Session(org) as s:
        assert assessments.versions(s, assessing) == []


def test_not_before_the_memo_is_taken(org):
    case_id = new_case(org, START)
    with pytest.raises(DomainError) as refused:
        save(org, case_id)
    assert refused.value.code == "assessment.not_now"


# --- through Slack -----------------------------------------------------------------------------


def open_assessment(bot, user: str, case_id: int) -> dict:
    before = len(bot.slack.views_opened())
    pick_from_menu(bot, user, card_of(bot, "C0COORD", "R8-0001"), f"assessment:{case_id}")
    return opened_after(bot, before)


FORM = {
    "relationship_1": "本人",
    "age_band_1": "75+",
    "concerns_1": ["kaigo"],
    "relationship_2": "長男",
    "age_band_2": "40-64",
    "concerns_2": ["hikikomori", "shuro"],
    "main_issue": "試験の課題 <!here>",
    "wishes": "試験の希望",
}


def test_record_view_and_edit_through_the_modals(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.assessment, START, lead="houkatsu")
    bot.deliver()
    form = open_assessment(bot, "U0COORD", case_id)
    assert form["callback_id"] == "assessment_submit"
    assert len(form["blocks"]) <= 100
    answer = submit(bot, "U0COORD", form, {**FORM, "relationship_2": ""})
    assert answer["response_action"] == "errors" and "続柄" in answer["errors"]["relationship_2"]
    answer = submit(bot, "U0COORD", form, FORM)
    assert answer["response_action"] == "update" and "第1版" in view_text(answer["view"])

    # the lead window reads it (audited) and edits it into version 2
    shown = open_assessment(bot, "U0WIN1", case_id)
    text = view_text(shown)
    assert "長男" in text and "ひきこもり" in text and "&lt;!here&gt;" in text
    assert "<!here>" not in text
    click_in_view(bot, "U0WIN1", shown, "assessment_edit")
    bot.slack.wait_for(lambda: bot.slack.views_opened()[-1]["callback_id"] == "assessment_submit")
    edit = bot.slack.views_opened()[-1]
    assert "試験の希望" in view_text(edit)  # starts from the latest version
    answer = submit(bot, "U0WIN1", edit, {**FORM, "main_issue": "試験の課題（更新）"})
    assert "第2版" in view_text(answer["view"])
    # the first editor's stale form is refused rather than overwriting version 2
    answer = submit(bot, "U0COORD", form, FORM)
    assert "ほかの方が先に" in view_text(answer["view"])

    # an earlier version, chosen in the open modal
    shown = open_assessment(bot, "U0COORD", case_id)
    click_in_view(bot, "U0COORD", shown, "assessment_version", value=f"{case_id}:1")
    bot.slack.wait_for(lambda: "第1版*" in view_text(bot.slack.views_opened()[-1]))
    views = [
        (a.actor_slack_id, a.detail)
        for a in audits(engine)
        if a.action == "view_assessment" and a.allowed
    ]
    assert views == [("U0WIN1", "v1"), ("U0WIN1", "v1"), ("U0COORD", "v2"), ("U0COORD", "v1")]


def test_a_routed_window_reads_but_only_the_lead_writes(bot):
    engine = bot.rt.engine
    case_id = new_case(engine, START)
    bring_to(engine, case_id, CaseState.assessment, START, lead="shogai")
    save(engine, case_id)
    bot.deliver()
    shown = open_assessment(bot, "U0WIN1", case_id)  # routed: may read
    assert "assessment_edit" not in view_text(shown)
    pick_from_menu(bot, "U0KODOMO1", card_of(bot, "C0COORD", "R8-0001"), f"assessment:{case_id}")
    assert "権限" in bot.slack.wait_for(lambda: bot.slack.ephemerals(user="U0KODOMO1"))[-1]["text"]
    with Session(engine) as s:
        base = assessments.latest(s, case_id)
        from handlers.desk.records_views import assessment_form
        from models.cases.records import summary

        form = assessment_form(summary(s, s.get(Case, case_id)), base=base).to_dict()
    form["id"] = "V0FORGED"
    answer = submit(bot, "U0WIN1", form, FORM)  # not the lead: refused on submit too
    assert answer["response_action"] == "update" and "主担当" in view_text(answer["view"])
    with Session(engine) as s:
        assert len(assessments.versions(s, case_id)) == 1
