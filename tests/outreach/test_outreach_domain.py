"""Outreach in the domain: cadence, contacts, pause/resume, who may see a target, the consent
move into the consent-based path, and the figures for Link-net."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from models.base.errors import DomainError
from models.cases.lifecycle import CaseState
from models.cases.records import events_of
from models.cases.tables import Case, current_consent, has_consent
from models.meetings.schedule import add_case_to_agenda, agenda_cases, schedule
from models.meetings.series import next_meeting_of
from models.meetings.tables import MeetingKind
from models.org.tables import Agency, Member
from models.outreach.contacts import ContactInput, log_contact
from models.outreach.dates import propose_next
from models.outreach.figures import figures, targets_at_month_ends
from models.outreach.listing import contacts_of, targets_for
from models.outreach.tables import Method, OutreachEvent, OutreachInvalid, ReasonKind
from models.outreach.targets import (
    TargetInput,
    close,
    create,
    create_target,
    may_see,
    pause,
    resume,
)
from models.queues.tables import Notice
from reminders.calendar import BusinessCalendar
from tests.conftest import START
from tests.support.desk import bring_to, new_case


def member(s, slack_id):
    return s.exec(select(Member).where(Member.slack_id == slack_id)).one()


def agency(s, key):
    return s.exec(select(Agency).where(Agency.key == key)).one()


def new_target(s, **kw):
    values = dict(
        person={"name": "辰野 試験子", "district": "試験第一区"},
        reason_kind=ReasonKind.hikikomori,
        reason="試験の理由",
        agency_ids=[agency(s, "houkatsu").id],
        cadence_days=14,
        first_contact_on=date(2026, 11, 30),
        created_by=member(s, "U0COORD"),
        at=START,
    )
    values.update(kw)
    return create_target(s, **values)


def contact(s, target, outcome="absent", *, who="U0WIN1", at=START, **kw):
    data = ContactInput(
        method=kw.pop("method", "visit"),
        outcome=outcome,
        note=kw.pop("note", None),
        next_contact_on=kw.pop("next_contact_on", date(2026, 12, 11)),
        **kw,
    )
    return log_contact(
        s, target=target, data=data, by=member(s, who), at=at, intake_narrative="試験の経緯"
    )


def consent(s, target, *, who="U0WIN1", agencies=("houkatsu",), method="oral"):
    return contact(
        s,
        target,
        "consented",
        who=who,
        next_contact_on=None,
        consent_method=method,
        consent_agency_ids=[agency(s, k).id for k in agencies],
    )


# --- cadence -------------------------------------------------------------------------------------


def test_cadence_lands_on_a_business_day():
    cal = BusinessCalendar()
    # 2026-12-17 + 14 days = 12/31 (年末年始) -> 2027-01-04 (Mon), the first day open again
    assert propose_next(date(2026, 12, 17), 14, cal.is_business_day) == date(2027, 1, 4)
    # 12/21 + 14 = 1/4: open (年末年始 ends on 1/3)
    assert propose_next(date(2026, 12, 21), 14, cal.is_business_day) == date(2027, 1, 4)
    # 11/27 + 14 days = 12/11, a Friday the office is open: kept as it is
    assert propose_next(date(2026, 11, 27), 14, cal.is_business_day) == date(2026, 12, 11)
    # 11/28 (Sat) + 7 = 12/5 (Sat) -> Monday 12/7
    assert propose_next(date(2026, 11, 28), 7, cal.is_business_day) == date(2026, 12, 7)
    # 2027-04-15 + 14 = 4/29 (昭和の日) -> 4/30
    assert propose_next(date(2027, 4, 15), 14, cal.is_business_day) == date(2027, 4, 30)


# --- targets -------------------------------------------------------------------------------------


def test_targets_get_pseudonymous_labels_and_encrypted_details(org):
    with Session(org) as s:
        first, second = new_target(s), new_target(s)
        s.commit()
        assert (first.label, second.label) == ("OT-0001", "OT-0002")
    with org.connect() as conn:
        raw = conn.exec_driver_sql("SELECT person, reason FROM outreachtarget").all()
    assert all("試験" not in str(row) for row in raw)


def test_a_target_from_a_case_copies_nothing_personal(org):
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.window, START)
    with Session(org) as s:
        target = new_target(s, person={}, case_id=case_id)
        assert target.person == {} and target.case_id == case_id
        with pytest.raises(DomainError) as twice:
            new_target(s, person={}, case_id=case_id)
        assert twice.value.code == "outreach.error.case_already_listed"


def test_only_assigned_workers_and_the_coordinator_see_a_target(org):
    with Session(org) as s:
        target = new_target(s, agency_ids=[agency(s, "houkatsu").id, agency(s, "minsei").id])
        assert may_see(s, member(s, "U0WIN1"), target)
        assert may_see(s, member(s, "U0SUPPORT1"), target)
        assert may_see(s, member(s, "U0COORD"), target)
        for other in ("U0KODOMO1", "U0PARTNER1", "U0DEPT1", "U0ADMIN1"):
            assert not may_see(s, member(s, other), target)
        assert may_see(s, None, target) is False
        assert [t.id for t in targets_for(s, member(s, "U0WIN1"))] == [target.id]
        assert targets_for(s, member(s, "U0KODOMO1")) == []
        assert targets_for(s, member(s, "U0PARTNER1")) == []


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"agency_ids": []}, "agencies", "outreach.error.workers_required"),
        ({"agency_ids": [-5]}, "agencies", "outreach.error.invalid_choice"),
        ({"cadence_days": 0}, "cadence", "outreach.error.cadence_invalid"),
        ({"cadence_days": None}, "cadence", "outreach.error.cadence_invalid"),
        (
            {"first_contact_on": date(2026, 11, 26)},
            "first_contact_on",
            "outreach.error.date_in_the_past",
        ),
        ({"first_contact_on": None}, "first_contact_on", "outreach.error.date_required"),
        ({"first_contact_on": date(2028, 1, 1)}, "first_contact_on", "outreach.error.date_too_far"),
        ({"person": {"name": " "}}, "name", "outreach.error.name_required"),
        (
            {"person": {"name": "試", "district": "どこか"}},
            "district",
            "outreach.error.invalid_choice",
        ),
        ({"reason_kind": None}, "reason_kind", "outreach.error.choose_reason"),
        ({"reason": "長" * 501}, "reason", "outreach.error.too_long"),
    ],
)
def test_bad_targets_are_refused_and_nothing_is_stored(org, change, field, code):
    with Session(org) as s:
        values = dict(
            person={"name": "辰野 試験子"},
            reason_kind="hikikomori",
            reason=None,
            agency_ids=[agency(s, "houkatsu").id],
            cadence_days=14,
            first_contact_on=date(2026, 11, 30),
        )
        values.update(change)
        with pytest.raises(OutreachInvalid) as refused:
            create(s, data=TargetInput(**values), created_by=member(s, "U0COORD"), at=START)
        assert refused.value.errors[field] == code
        assert s.exec(select(OutreachEvent)).all() == []


def test_a_partner_agency_cannot_be_assigned(org):
    with Session(org) as s, pytest.raises(DomainError) as refused:
        new_target(s, agency_ids=[agency(s, "gakko").id])
    assert refused.value.code == "outreach.error.invalid_choice"


# --- contacts ------------------------------------------------------------------------------------


def test_contacts_move_the_next_date(org):
    with Session(org) as s:
        target = new_target(s)
        contact(s, target, "absent", note="不在でした")
        assert target.next_contact_on == date(2026, 12, 11) and target.version == 2
        assert [c.outcome for c in contacts_of(s, target.id)] == ["absent"]
        assert contacts_of(s, target.id)[0].method == Method.visit


@pytest.mark.parametrize(
    ("values", "field", "code"),
    [
        ({"method": None}, "method", "outreach.error.choose_method"),
        ({"method": "telepathy"}, "method", "outreach.error.choose_method"),
        ({"outcome": None}, "outcome", "outreach.error.choose_outcome"),
        ({"next_contact_on": None}, "next_contact_on", "outreach.error.date_required"),
        (
            {"next_contact_on": date(2026, 11, 26)},
            "next_contact_on",
            "outreach.error.date_in_the_past",
        ),
        ({"note": "長" * 501}, "note", "outreach.error.too_long"),
        (
            {"outcome": "consented", "consent_method": None},
            "consent_method",
            "outreach.error.choose_consent_method",
        ),
        (
            {"outcome": "consented", "consent_method": "oral"},
            "consent_agencies",
            "outreach.error.consent_agencies_required",
        ),
    ],
)
def test_bad_contacts_are_refused_and_nothing_changes(org, values, field, code):
    with Session(org) as s:
        target = new_target(s)
        s.commit()
        data = dict(method="visit", outcome="met", note=None, next_contact_on=date(2026, 12, 11))
        data.update(values)
        with pytest.raises(OutreachInvalid) as refused:
            log_contact(
                s, target=target, data=ContactInput(**data), by=member(s, "U0WIN1"), at=START
            )
        assert refused.value.errors[field] == code
        s.rollback()
        assert contacts_of(s, target.id) == []
        assert s.get(type(target), target.id).version == 1


def test_a_contact_while_paused_resumes_and_closed_targets_take_none(org):
    with Session(org) as s:
        target = new_target(s)
        coord = member(s, "U0COORD")
        pause(s, target, reason="入院のため", by=coord, at=START)
        contact(s, target, "met")
        assert target.state == "active"
        close(s, target, reason="転出のため", by=coord, at=START)
        with pytest.raises(DomainError) as refused:
            contact(s, target, "met")
        assert refused.value.code == "outreach.not_open"


def test_pause_and_resume_need_a_reason_and_a_date(org):
    with Session(org) as s:
        target = new_target(s)
        coord = member(s, "U0COORD")
        with pytest.raises(OutreachInvalid):
            pause(s, target, reason=" ", by=coord, at=START)
        pause(s, target, reason="入院のため", by=coord, at=START)
        assert target.state == "paused"
        with pytest.raises(DomainError):
            pause(s, target, reason="again", by=coord, at=START)
        with pytest.raises(OutreachInvalid) as no_date:
            resume(s, target, reason="退院", next_contact_on=None, by=coord, at=START)
        assert no_date.value.errors == {"next_contact_on": "outreach.error.date_required"}
        resume(s, target, reason="退院", next_contact_on=date(2026, 12, 14), by=coord, at=START)
        assert (target.state, target.next_contact_on) == ("active", date(2026, 12, 14))
        kinds = [e.kind for e in s.exec(select(OutreachEvent).order_by(OutreachEvent.id))]
        assert kinds == ["created", "paused", "resumed"]
    with org.connect() as conn:
        raw = conn.exec_driver_sql("SELECT reason FROM outreachevent").all()
    assert all("入院" not in str(row) and "退院" not in str(row) for row in raw)


# --- the consent move ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "after"),
    [
        ("saponet", "marugoto"),
        ("assessment", "marugoto"),
        ("window", "coordination"),
        ("coordination", "coordination"),
    ],
)
def test_consent_records_it_and_moves_the_case_toward_marugoto(org, stage, after):
    case_id = new_case(org, START)
    bring_to(org, case_id, stage, START)
    with Session(org) as s:
        target = new_target(s, person={}, case_id=case_id)
        logged = consent(s, target, agencies=("houkatsu", "suishin"))
        s.commit()
        case = s.get(Case, case_id)
        assert target.state == "consented"
        assert case.state == after
        assert logged.consent.moved_to == (None if stage == after else after)
        assert logged.consent.created is False
        record = current_consent(s, case_id)
        assert record.status == "given" and record.method == "oral"
        assert sorted(record.agency_ids) == sorted(
            [agency(s, "houkatsu").id, agency(s, "suishin").id]
        )
        assert record.obtained_on == date(2026, 11, 27)
        moves = [e for e in events_of(s, case_id) if e.kind == "outreach_consent"]
        assert [(e.from_state, e.to_state) for e in moves] == (
            [] if stage == after else [(stage, after)]
        )
        notices = s.exec(select(Notice).where(Notice.kind == "outreach_consent")).all()
        assert [(n.target, n.payload) for n in notices] == [("C0COORD", {"target_id": target.id})]


def test_consent_without_a_case_makes_one_through_intake(org):
    with Session(org) as s:
        target = new_target(s, age_band="40-64", reason_kind="self_neglect")
        logged = consent(s, target, who="U0WIN1")
        s.commit()
        case = s.get(Case, target.case_id)
        assert logged.consent.created and logged.consent.number == case.number
        assert case.state == CaseState.coordination  # the coordinator assesses first
        assert case.age_band == "40-64" and case.route_reason == "complex_concern"
        assert case.referrer_id == member(s, "U0WIN1").id
        assert has_consent(s, case.id)
        from models.cases.records import referral_of

        referral = referral_of(s, case.id)
        assert referral.person_name == "辰野 試験子" and referral.district == "試験第一区"
        assert referral.concerns == ["self_neglect"]


@pytest.mark.parametrize(("state", "code"), [("received", "outreach.error.case_not_taken")])
def test_consent_on_a_memo_not_yet_taken_is_refused_and_nothing_is_stored(org, state, code):
    case_id = new_case(org, START)
    with Session(org) as s:
        target = new_target(s, person={}, case_id=case_id)
        s.commit()
        with pytest.raises(OutreachInvalid) as refused:
            consent(s, target)
        assert refused.value.errors == {"outcome": code}
        s.rollback()
        assert contacts_of(s, target.id) == []
        assert current_consent(s, case_id) is None
        assert s.get(type(target), target.id).state == "active"


def test_before_consent_only_saponet_may_discuss_the_case(org):
    """From the outreach side: the meetings refuse the たつのまるごと会議 until consent."""
    case_id = new_case(org, START)
    bring_to(org, case_id, CaseState.saponet, START)
    with Session(org) as s:
        coord = member(s, "U0COORD")
        target = new_target(s, person={}, case_id=case_id)

        def meeting(kind, cases=()):
            return schedule(
                s,
                kind=kind,
                starts_at=START + timedelta(days=5),
                place="役場 第1会議室",
                member_ids=[coord.id, member(s, "U0WIN1").id],
                agency_ids=[],
                case_ids=list(cases),
                created_by=coord,
                at=START,
                has_consent=has_consent,
            )

        with pytest.raises(DomainError) as refused:
            meeting(MeetingKind.marugoto, [case_id])
        assert refused.value.code == "meeting.marugoto_needs_consent"
        saponet = meeting(MeetingKind.saponet, [case_id])
        assert [c.id for c in agenda_cases(s, saponet.id)] == [case_id]
        marugoto = meeting(MeetingKind.marugoto)
        assert next_meeting_of(s, MeetingKind.marugoto, now=START).id == marugoto.id
        case = s.get(Case, case_id)
        with pytest.raises(DomainError) as still:
            add_case_to_agenda(s, meeting=marugoto, case=case, has_consent=has_consent, at=START)
        assert still.value.code == "meeting.marugoto_needs_consent"
        consent(s, target)
        assert add_case_to_agenda(s, meeting=marugoto, case=case, has_consent=has_consent, at=START)
        assert not add_case_to_agenda(
            s, meeting=marugoto, case=case, has_consent=has_consent, at=START
        )
        assert [c.id for c in agenda_cases(s, marugoto.id)] == [case_id]


# --- figures -------------------------------------------------------------------------------------


def test_figures_count_targets_contacts_and_consents(org):
    with Session(org) as s:
        target = new_target(s)
        contact(s, target, "absent")
        consent(s, target)
        other = new_target(s)
        pause(s, other, reason="入院", by=member(s, "U0COORD"), at=START)
        counts = figures(s, since=START - timedelta(days=1), until=START + timedelta(days=30))
        assert counts == {"targets_active": 1, "contacts": 2, "consents": 1}


def test_targets_at_month_ends_replay_the_state_changes(org):
    from models.linknet.periods import Month

    nov, dec = Month(2026, 11).index, Month(2026, 12).index
    with Session(org) as s:
        coord = member(s, "U0COORD")
        new_target(s)
        b, c = new_target(s), new_target(s)
        pause(s, b, reason="入院", by=coord, at=START)
        later = START + timedelta(days=10)  # December
        s.flush()
        close(s, c, reason="転出", by=coord, at=later)
        s.flush()
        stock = targets_at_month_ends(s, nov, dec)
        assert stock == {
            ("active", nov): 2,
            ("paused", nov): 1,
            ("active", dec): 1,
            ("paused", dec): 1,
        }


def test_the_link_net_figures_include_the_targets_at_each_month_end(org):
    from models.linknet import figures as linknet
    from models.linknet.periods import Month

    nov = Month(2026, 11).index
    with Session(org) as s:
        new_target(s)
        paused = new_target(s)
        pause(s, paused, reason="入院", by=member(s, "U0COORD"), at=START)
        contact(s, new_target(s), "building")
        s.flush()
        truth = linknet.counts(s, [nov])
    assert truth[("outreach_targets", "active", nov)] == 2
    assert truth[("outreach_targets", "paused", nov)] == 1
    assert truth[("outreach_contacts", "building", nov)] == 1
