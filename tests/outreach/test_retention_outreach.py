"""Retention for outreach targets without a case: a closed one keeps the person's data for the
town's period counted from its end, then loses it (the label, dates and Link-net stock stay).
One is erased on request with `tsunagi erase OT-…`, audited. Link-net topics are left alone by
design: they hold no personal data (a label or receipt number is refused on entry)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import select

from models.base.db import transaction
from models.meetings.rules import clean_lines, looks_personal
from models.meetings.schedule import schedule
from models.meetings.tables import AgendaTopic, MeetingKind
from models.ops import retention
from models.ops.audit import verify
from models.ops.erasure import TARGET_ERASED, personal_places
from models.ops.tables import AuditEntry
from models.org.tables import Agency
from models.outreach.contacts import ContactInput, log_contact
from models.outreach.figures import targets_at_month_ends
from models.outreach.tables import Contact, OutreachEvent, OutreachTarget
from models.outreach.targets import TargetInput, close, create, pause, resume
from reminders.jobs import JobContext, registered_jobs
from tests.conftest import START
from tests.ops.test_retention import run_cli
from tests.support.ops import close_case, make_case, member

LONG_AGO = datetime(2020, 6, 1, 1, 0, tzinfo=UTC)  # FY2020 (R2): kept until 2026-03-31
NAME = "辰野 試験子"
PERSONAL = [NAME, "0266-00-0000", "試験の理由メモ", "試験の訪問メモ", "入院のため（試験）"]


def new_target(engine, *, at: datetime, case_id: int | None = None) -> int:
    with transaction(engine) as s:
        houkatsu = s.exec(select(Agency).where(Agency.key == "houkatsu")).one()
        target = create(
            s,
            data=TargetInput(
                person={} if case_id else {"name": NAME, "contact": "0266-00-0000"},
                age_band="40-64",
                reason_kind="hikikomori",
                reason="試験の理由メモ",
                agency_ids=[houkatsu.id],
                cadence_days=14,
                first_contact_on=at.date() + timedelta(days=7),
            ),
            created_by=member(s, "U0COORD"),
            at=at,
            case_id=case_id,
        )
        return target.id


def work_on(engine, target_id: int, *, at: datetime, close_after: timedelta | None) -> None:
    """A contact, a pause and a resume (each with a note), then — if asked — the closing."""
    with transaction(engine) as s:
        target, worker = s.get(OutreachTarget, target_id), member(s, "U0WIN1")
        log_contact(
            s,
            target=target,
            data=ContactInput(
                method="visit",
                outcome="absent",
                note="試験の訪問メモ",
                next_contact_on=at.date() + timedelta(days=14),
            ),
            by=worker,
            at=at + timedelta(days=1),
        )
        pause(s, target, reason="入院のため（試験）", by=worker, at=at + timedelta(days=2))
        resume(
            s,
            target,
            reason="退院されたため（試験）",
            next_contact_on=at.date() + timedelta(days=21),
            by=worker,
            at=at + timedelta(days=3),
        )
        if close_after is not None:
            close(
                s, target, reason="転出のため（試験）", by=member(s, "U0COORD"), at=at + close_after
            )


@pytest.fixture
def targets(org):
    """old: caseless, closed in FY2020 (due); recent: caseless, closed now (kept); open: caseless,
    active since FY2020 (kept); of_case: closed in FY2020 but its case still runs (the case's)."""
    old = new_target(org, at=LONG_AGO)
    work_on(org, old, at=LONG_AGO, close_after=timedelta(days=30))
    recent = new_target(org, at=START - timedelta(days=10))
    work_on(org, recent, at=START - timedelta(days=10), close_after=timedelta(days=9))
    still_open = new_target(org, at=LONG_AGO)
    work_on(org, still_open, at=LONG_AGO, close_after=None)
    case = make_case(org, at=LONG_AGO)
    of_case = new_target(org, at=LONG_AGO, case_id=case.id)
    with transaction(org) as s:
        close(
            s, s.get(OutreachTarget, of_case), reason="試験", by=member(s, "U0COORD"), at=LONG_AGO
        )
    return {"old": old, "recent": recent, "open": still_open, "of_case": of_case, "case": case}


def target(engine, target_id: int) -> OutreachTarget:
    with transaction(engine, write=False) as s:
        return s.get(OutreachTarget, target_id)


def notes(engine, target_id: int) -> tuple[list, list]:
    with transaction(engine, write=False) as s:
        contacts = s.exec(select(Contact.note).where(Contact.target_id == target_id)).all()
        events = s.exec(select(OutreachEvent.reason).where(OutreachEvent.target_id == target_id))
        return list(contacts), list(events.all())


def raw_target(engine, target_id: int) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text("SELECT person, reason, state_reason FROM outreachtarget WHERE id = :i"),
                {"i": target_id},
            ).one()
        )


def stock(engine) -> dict:
    with transaction(engine, write=False) as s:
        return targets_at_month_ends(s, 2020 * 12, 2026 * 12 + 10)


def label(engine, target_id: int) -> str:
    return target(engine, target_id).label


# --------------------------------------------------------------------------- the monthly run


def test_the_period_counts_from_the_targets_end_like_a_case(org, targets):
    with transaction(org, write=False) as s:
        due = retention.targets_due(s, today=START.date())
        assert [d.target_id for d in due] == [targets["old"]]
        (item,) = due
        assert item.erasable_from == date(2026, 4, 1) and item.label == label(org, targets["old"])
        assert item.ended_at == LONG_AGO + timedelta(days=30)  # the closing
        # Closed in FY2026 → kept through FY2031 → erasable from 2032-04-01.
        assert [d.target_id for d in retention.targets_due(s, today=date(2032, 3, 31))] == [
            targets["old"]
        ]
        later = retention.targets_due(s, today=date(2032, 4, 1))
        assert [d.target_id for d in later] == [targets["old"], targets["recent"]]


def test_dry_run_lists_labels_only_and_changes_nothing(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    before = raw_target(org, targets["old"])
    code, out = run_cli(
        monkeypatch, capsys, db_url, encryption_key, "retention", "run", "--dry-run"
    )
    assert code == 0
    assert f"{label(org, targets['old'])}（終了 2020-07-01、2026-04-01 から消去）" in out
    for other in ("recent", "open", "of_case"):
        assert label(org, targets[other]) not in out
    assert not [p for p in PERSONAL if p in out]
    assert raw_target(org, targets["old"]) == before
    assert target(org, targets["old"]).person["name"] == NAME


def test_run_erases_a_closed_caseless_target_and_keeps_the_stock(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    before_stock = stock(org)
    code, out = run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")
    assert code == 0 and "アウトリーチの対象 1 件の個人情報を消去しました" in out
    assert "保存期間を過ぎたケースはありません" in out
    gone = target(org, targets["old"])
    assert (gone.person, gone.reason, gone.state_reason) == ({}, None, None)
    assert (gone.state, gone.age_band, gone.reason_kind) == ("closed", "40-64", "hikikomori")
    contact_notes, event_reasons = notes(org, targets["old"])
    assert contact_notes == [None] and set(event_reasons) == {None}
    with transaction(org) as s:
        kinds = s.exec(
            select(OutreachEvent.kind).where(OutreachEvent.target_id == targets["old"])
        ).all()
        (entry,) = s.exec(
            select(AuditEntry).where(AuditEntry.action == "retention.erase_outreach")
        ).all()
        outcome = s.exec(select(Contact.outcome).where(Contact.target_id == targets["old"])).one()
    assert kinds[-1] == TARGET_ERASED and outcome == "absent"
    assert (entry.actor_slack_id, entry.case_id, entry.allowed) == ("system", None, True)
    assert entry.detail == f"outreach:{targets['old']}:years=5"
    assert stock(org) == before_stock  # the Link-net figures do not move
    # The others keep everything.
    assert target(org, targets["recent"]).person["name"] == NAME
    assert target(org, targets["open"]).reason == "試験の理由メモ"
    assert notes(org, targets["open"])[0] == ["試験の訪問メモ"]
    assert target(org, targets["of_case"]).reason == "試験の理由メモ"  # its case runs
    assert verify(org).ok


def test_run_is_idempotent(org, targets, db_url, encryption_key, monkeypatch, capsys):
    assert run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")[0] == 0
    code, out = run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")
    assert code == 0 and "アウトリーチの対象（ケースのないもの）はありません" in out
    with transaction(org) as s:
        erased = s.exec(select(OutreachEvent).where(OutreachEvent.kind == "erased")).all()
    assert len(erased) == 1


def test_a_target_that_got_a_case_meanwhile_is_left_to_its_case(org, targets):
    with transaction(org) as s:
        (item,) = retention.targets_due(s, today=START.date())
        s.get(OutreachTarget, item.target_id).case_id = targets["case"].id
    assert not retention._erase_target_due(org, item, years=5, now=START)
    assert target(org, targets["old"]).person["name"] == NAME


def test_a_target_of_a_case_goes_with_its_case(org, targets):
    close_case(org, targets["case"].id, at=LONG_AGO + timedelta(days=40))
    result = retention.run(org, now=START)
    assert [d.case_id for d in result.due] == [targets["case"].id]
    assert [d.target_id for d in result.targets] == [targets["old"]]
    assert target(org, targets["of_case"]).reason is None  # erased through the case


def test_the_scheduler_erases_targets_too(org, targets):
    (job,) = [j for j in registered_jobs() if j.name == "retention_monthly"]
    job.run(JobContext(engine=org, now=START, kick_delivery=lambda: None))
    assert target(org, targets["old"]).person == {}


def test_sqlite_keeps_no_copy_of_an_erased_target_in_its_files(org, targets, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite files only")
    tokens = [t for t in raw_target(org, targets["old"]) if t]
    assert len(tokens) == 3
    retention.run(org, now=START)
    path = Path(db_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    files = b"".join(p.read_bytes() for p in (path, wal) if p.exists())
    assert not [t for t in tokens if t.encode() in files]


# --------------------------------------------------------------------------- erase on request


def erase(monkeypatch, capsys, db_url, key, ref, actor, *extra, stdin=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", stdin)
    return run_cli(
        monkeypatch, capsys, db_url, key, "erase", ref, "--as", actor, "--reason", *extra
    )


def audit_of(engine, action="outreach.erase") -> list[AuditEntry]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_coordinator_erases_a_closed_target_on_request(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    ref = label(org, targets["recent"])
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref, "U0COORD", "request", "--yes"
    )
    assert code == 0 and f"{ref} の個人情報を消去しました" in out
    assert target(org, targets["recent"]).person == {}
    assert notes(org, targets["recent"])[0] == [None]
    (entry,) = audit_of(org)
    assert (entry.actor_slack_id, entry.allowed, entry.case_id) == ("U0COORD", True, None)
    assert entry.detail == f"outreach:{targets['recent']}:request:request"
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref.lower(), "U0ADMIN1", "request", "--yes"
    )
    assert code == 1 and "すでに消去" in out


@pytest.mark.parametrize("actor", ["U0WIN1", "U0STRANGER"])
def test_only_the_coordinator_or_admin_may_erase_a_target(
    org, targets, db_url, encryption_key, monkeypatch, capsys, actor
):
    before = raw_target(org, targets["recent"])
    ref = label(org, targets["recent"])
    code, out = erase(monkeypatch, capsys, db_url, encryption_key, ref, actor, "request", "--yes")
    assert code == 1 and "coordinator" in out
    assert raw_target(org, targets["recent"]) == before
    (entry,) = audit_of(org)
    assert (entry.actor_slack_id, entry.allowed) == (actor, False)
    assert entry.detail == f"outreach:{targets['recent']}:ops.erase.not_allowed"


def test_an_open_target_needs_force_and_goes_on(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    ref = label(org, targets["open"])
    before = raw_target(org, targets["open"])
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref, "U0COORD", "mistake", "--yes"
    )
    assert code == 1 and "--force" in out and "対応中" in out
    assert raw_target(org, targets["open"]) == before
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref, "U0COORD", "mistake", "--yes", "--force"
    )
    assert code == 0
    assert target(org, targets["open"]).person == {}
    assert target(org, targets["open"]).state == "active"  # the outreach goes on


def test_a_target_of_a_case_is_erased_through_its_case(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    ref = label(org, targets["of_case"])
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref, "U0COORD", "request", "--yes"
    )
    assert code == 1 and targets["case"].number in out
    assert target(org, targets["of_case"]).reason == "試験の理由メモ"


def test_unknown_label_and_no_terminal(org, targets, db_url, encryption_key, monkeypatch, capsys):
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, "OT-9999", "U0COORD", "request", "--yes"
    )
    assert code == 1 and "OT-9999は見つかりませんでした" in out
    ref = label(org, targets["recent"])
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        ref,
        "U0COORD",
        "request",
        stdin=io.StringIO(""),
    )
    assert code == 2 and "--yes" in out
    assert target(org, targets["recent"]).person["name"] == NAME
    assert [e for e in audit_of(org) if e.allowed] == []


def test_erasing_a_target_asks_for_its_label_again(
    org, targets, db_url, encryption_key, monkeypatch, capsys
):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    ref = label(org, targets["recent"])
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, ref, "U0COORD", "request", stdin=Tty("OT-1\n")
    )
    assert code == 1 and "中止" in out
    assert target(org, targets["recent"]).person["name"] == NAME
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        ref,
        "U0COORD",
        "request",
        stdin=Tty(ref + "\n"),
    )
    assert code == 0 and target(org, targets["recent"]).person == {}


# --------------------------------------------------------------------------- Link-net topics


def test_linknet_topics_hold_no_pointer_to_a_person_and_are_not_erased(org, targets):
    # What the decision rests on: a receipt number, an outreach label, a phone number are refused.
    assert looks_personal("OT-0007 の件") and looks_personal("ＯＴ－０００７")
    assert not looks_personal("PILOT-2026 の報告") and not looks_personal("令和8年度の実施状況")
    with pytest.raises(Exception) as refused:
        clean_lines(["訪問の状況（OT-0001）"])
    assert refused.value.code == "meeting.topic_personal"
    with transaction(org) as s:
        coord = member(s, "U0COORD")
        meeting = schedule(
            s,
            kind=MeetingKind.linknet,
            starts_at=LONG_AGO + timedelta(days=10),
            place=None,
            member_ids=[coord.id],
            agency_ids=[],
            case_ids=[],
            created_by=coord,
            at=LONG_AGO,
            has_consent=lambda _s, _c: True,
            topics=["事業の実施状況（匿名の集計）"],
        )
        meeting_id = meeting.id
    retention.run(org, now=START)
    with transaction(org) as s:
        topics = s.exec(select(AgendaTopic.text).where(AgendaTopic.meeting_id == meeting_id))
        assert list(topics) == ["事業の実施状況（匿名の集計）"]
    places = {tbl.name: path for tbl, _, path in personal_places()}
    assert places["agendatopic"] is None  # belongs to no case: never erased by design
