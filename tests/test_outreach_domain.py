"""Outreach in the domain: cadence, contacts, pause/resume, who may see a target."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from models.errors import DomainError
from models.org import Agency, Member
from models.outreach import (
    ContactOutcome,
    Method,
    ReasonKind,
    contacts_of,
    create_target,
    figures,
    log_contact,
    may_see,
    pause,
    propose_next,
    resume,
    targets_for,
)
from reminders.calendar import BusinessCalendar
from tests.conftest import START


def member(s, slack_id):
    return s.exec(select(Member).where(Member.slack_id == slack_id)).one()


def agency(s, key):
    return s.exec(select(Agency).where(Agency.key == key)).one()


def new_target(s, **kw):
    values = dict(
        person={"name": "辰野 試験子", "area": "試験第一区"},
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


def test_cadence_lands_on_a_business_day():
    cal = BusinessCalendar()
    # 2026-12-17 + 14 days = 12/31 (closed) -> 2027-01-04 (Mon)
    assert propose_next(date(2026, 12, 17), 14, cal.next_business_day) == date(2027, 1, 4)
    assert propose_next(date(2026, 11, 27), 14, lambda d: d) == date(2026, 12, 11)


def test_targets_get_pseudonymous_labels_and_encrypted_details(org):
    with Session(org) as s:
        first, second = new_target(s), new_target(s)
        s.commit()
        assert (first.label, second.label) == ("OT-0001", "OT-0002")
    with org.connect() as conn:
        raw = conn.exec_driver_sql("SELECT person, reason FROM outreachtarget").all()
    assert all("試験" not in str(row) for row in raw)


def test_only_assigned_workers_and_the_coordinator_see_a_target(org):
    with Session(org) as s:
        target = new_target(s)
        assert may_see(s, member(s, "U0WIN1"), target)
        assert may_see(s, member(s, "U0COORD"), target)
        for other in ("U0KODOMO1", "U0PARTNER1", "U0DEPT1", "U0ADMIN1"):
            assert not may_see(s, member(s, other), target)
        assert may_see(s, None, target) is False
        assert [t.id for t in targets_for(s, member(s, "U0WIN1"))] == [target.id]
        assert targets_for(s, member(s, "U0KODOMO1")) == []


def test_contacts_move_the_next_date_and_consent_ends_the_loop(org):
    with Session(org) as s:
        target = new_target(s)
        win = member(s, "U0WIN1")
        log_contact(
            s,
            target=target,
            method=Method.visit,
            outcome=ContactOutcome.absent,
            note="不在でした",
            next_contact_on=date(2026, 12, 11),
            by=win,
            at=START,
        )
        assert target.next_contact_on == date(2026, 12, 11) and target.version == 2
        with pytest.raises(DomainError) as missing:
            log_contact(
                s,
                target=target,
                method=Method.phone,
                outcome=ContactOutcome.building,
                note=None,
                next_contact_on=None,
                by=win,
                at=START,
            )
        assert missing.value.code == "outreach.next_date_required"
        log_contact(
            s,
            target=target,
            method=Method.visit,
            outcome=ContactOutcome.consented,
            note=None,
            next_contact_on=None,
            by=win,
            at=START + timedelta(days=14),
        )
        assert target.state == "consented"
        assert [c.outcome for c in contacts_of(s, target.id)] == ["absent", "consented"]
        counts = figures(s, since=START - timedelta(days=1), until=START + timedelta(days=30))
        assert counts == {"targets_active": 0, "contacts": 2, "consents": 1}


def test_pause_and_resume_need_a_reason(org):
    with Session(org) as s:
        target = new_target(s)
        with pytest.raises(DomainError):
            pause(s, target, reason=" ")
        pause(s, target, reason="入院のため")
        assert target.state == "paused"
        with pytest.raises(DomainError):
            pause(s, target, reason="again")
        resume(s, target, reason="退院", next_contact_on=date(2026, 12, 14))
        assert (target.state, target.next_contact_on) == ("active", date(2026, 12, 14))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"agency_ids": []}, "outreach.workers_required"),
        ({"cadence_days": 0}, "outreach.cadence_invalid"),
        ({"first_contact_on": date(2026, 1, 1)}, "outreach.date_in_the_past"),
    ],
)
def test_bad_targets_are_refused(org, change, code):
    with Session(org) as s, pytest.raises(DomainError) as refused:
        new_target(s, **change)
    assert refused.value.code == code
