"""Retention: closed cases keep personal data for the retention period, then lose it; anonymous
figures stay. Erasure of one case on request, audited."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.cli.main import main
from models.base.db import transaction
from models.cases.tables import Case, CaseEvent, Referral
from models.ops import retention
from models.ops.audit import verify
from models.ops.erasure import erasure_of
from models.ops.tables import AuditEntry, Erasure
from models.org.orgfile import OrgFileError, load, parse
from models.outreach.tables import Contact, OutreachTarget
from reminders.jobs import JobContext, registered_jobs
from tests.conftest import ORG_FILE, START
from tests.support.ops import PERSON, cli_env, close_case, make_case, member

LONG_AGO = datetime(2020, 6, 1, 1, 0, tzinfo=UTC)  # FY2020 (R2): kept until 2026-03-31


@pytest.mark.parametrize(
    ("closed", "years", "expected"),
    [
        (datetime(2026, 11, 27, 1, 0, tzinfo=UTC), 5, date(2032, 4, 1)),
        (datetime(2027, 3, 31, 14, 59, tzinfo=UTC), 5, date(2032, 4, 1)),  # 3-31 23:59 JST
        (datetime(2027, 3, 31, 15, 1, tzinfo=UTC), 5, date(2033, 4, 1)),  # 4-01 00:01 JST
        (datetime(2026, 4, 1, 0, 0, tzinfo=UTC), 1, date(2028, 4, 1)),
    ],
)
def test_the_period_counts_from_the_next_fiscal_year_like_town_documents(closed, years, expected):
    assert retention.erasable_from(closed, years) == expected


def _org_text(extra: str) -> str:
    return ORG_FILE.read_text(encoding="utf-8") + "\n" + extra


def test_the_period_comes_from_the_org_file(org):
    with transaction(org) as session:
        assert retention.retention_years(session) == 5  # the default
        load(session, parse(_org_text("[retention]\nyears = 10\n")))
    with transaction(org) as session:
        assert retention.retention_years(session) == 10


@pytest.mark.parametrize("value", ["0", "101", '"5"', "2.5", "true"])
def test_a_bad_period_in_the_org_file_is_refused_with_its_line(value):
    text_ = _org_text(f"[retention]\nyears = {value}\n")
    with pytest.raises(OrgFileError) as err:
        parse(text_)
    (problem,) = err.value.problems
    assert problem.code == "retention_years_invalid"
    assert text_.splitlines()[problem.line - 1].startswith("years")


@pytest.fixture
def cases(org):
    """old: closed in FY2020 (due); recent: closed now (kept); running: open since FY2020."""
    old = make_case(org, at=LONG_AGO, person_name="辰野 古い")
    close_case(org, old.id, at=LONG_AGO + timedelta(days=30))
    recent = make_case(org, at=START - timedelta(days=3), person_name="辰野 新しい")
    close_case(org, recent.id, at=START - timedelta(days=1))
    running = make_case(org, at=LONG_AGO, person_name="辰野 継続", concerns=["kosodate"])
    # Outreach for the old case: contacts belong to it through their target (two steps).
    with transaction(org) as session:
        coord = member(session, "U0COORD")
        target = OutreachTarget(
            label="OT-0001",
            case_id=old.id,
            person={"name": "辰野 古い", "area": "試験第一区"},
            reason_kind="other",
            reason="試験用の理由",
            next_contact_on=date(2020, 7, 1),
            created_by_id=coord.id,
            created_at=LONG_AGO,
        )
        session.add(target)
        session.flush()
        session.add(
            Contact(
                target_id=target.id,
                at=LONG_AGO,
                method="visit",
                outcome="met",
                note="試験用の訪問記録",
                by_id=coord.id,
            )
        )
    return {"old": old, "recent": recent, "running": running}


def referral(engine, case_id) -> Referral:
    with transaction(engine) as session:
        return session.exec(select(Referral).where(Referral.case_id == case_id)).one()


def figures(engine) -> list[tuple]:
    """What anonymous figures are made of."""
    with transaction(engine) as session:
        rows = session.exec(
            select(Case.number, Case.state, Case.urgency, Case.age_band, Case.routed_agency_id)
        ).all()
        concerns = [r.concerns for r in session.exec(select(Referral).order_by(Referral.id))]
        domains = [c.domains for c in session.exec(select(Case).order_by(Case.id))]
        events = session.exec(select(func.count()).select_from(CaseEvent)).one()
    return [sorted(rows), concerns, domains, events]


def raw_referral(engine, case_id) -> tuple:
    with engine.connect() as conn:
        return tuple(
            conn.execute(
                text(
                    "SELECT person_name, person_kana, contact, household, district, narrative"
                    " FROM referral WHERE case_id = :c"
                ),
                {"c": case_id},
            ).one()
        )


def run_cli(monkeypatch, capsys, db_url, key, *argv) -> tuple[int, str]:
    cli_env(monkeypatch, db_url, key)
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def test_dry_run_lists_receipt_numbers_only_and_changes_nothing(
    org, cases, db_url, encryption_key, monkeypatch, capsys
):
    before = raw_referral(org, cases["old"].id)
    code, out = run_cli(
        monkeypatch, capsys, db_url, encryption_key, "retention", "run", "--dry-run"
    )
    assert code == 0
    assert cases["old"].number in out and "2026-04-01 から消去" in out
    assert cases["recent"].number not in out and cases["running"].number not in out
    assert "辰野" not in out and "0266" not in out
    assert raw_referral(org, cases["old"].id) == before
    assert referral(org, cases["old"].id).person_name == "辰野 古い"


def test_run_erases_personal_data_of_due_cases_and_keeps_the_figures(
    org, cases, db_url, encryption_key, monkeypatch, capsys
):
    before = figures(org)
    code, out = run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")
    assert code == 0 and cases["old"].number in out and "消去しました" in out
    gone = referral(org, cases["old"].id)
    assert (gone.person_name, gone.person_kana, gone.contact, gone.household, gone.district) == (
        None,
    ) * 5
    assert gone.narrative == ""
    assert gone.concerns == ["kaigo"] and gone.consent_to_share == "yes"  # coarse facts stay
    with transaction(org) as session:
        reasons = session.exec(
            select(CaseEvent.reason).where(CaseEvent.case_id == cases["old"].id)
        ).all()
        target = session.exec(select(OutreachTarget)).one()
        contact = session.exec(select(Contact)).one()
        erasure = erasure_of(session, cases["old"].id)
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "retention.erase")).one()
    assert set(reasons) == {None}
    assert target.person == {} and target.reason is None
    assert contact.note is None and contact.outcome == "met"  # reached through its target
    assert erasure.kind == "retention" and erasure.values >= 8
    assert (entry.actor_slack_id, entry.case_id, entry.allowed) == ("system", cases["old"].id, True)
    assert figures(org) == before
    # The others keep everything.
    assert referral(org, cases["recent"].id).person_name == "辰野 新しい"
    assert referral(org, cases["running"].id).narrative == PERSON["narrative"]
    assert verify(org).ok


def test_run_is_idempotent(org, cases, db_url, encryption_key, monkeypatch, capsys):
    assert run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")[0] == 0
    code, out = run_cli(monkeypatch, capsys, db_url, encryption_key, "retention", "run")
    assert code == 0 and "ありません" in out
    with transaction(org) as session:
        assert len(session.exec(select(Erasure)).all()) == 1


def test_a_longer_period_keeps_the_data(org, cases):
    with transaction(org) as session:
        load(session, parse(_org_text("[retention]\nyears = 10\n")))
    result = retention.run(org, now=START)
    assert result.due == [] and result.years == 10
    assert referral(org, cases["old"].id).person_name == "辰野 古い"


def test_the_recent_case_goes_when_its_time_comes(org, cases):
    assert [d.number for d in retention.run(org, now=START).due] == [cases["old"].number]
    # Closed in FY2026 → kept through FY2031 → erased from 2032-04-01 (JST).
    assert retention.run(org, now=datetime(2032, 3, 31, 14, 59, tzinfo=UTC)).due == []
    later = retention.run(org, now=datetime(2032, 3, 31, 15, 0, tzinfo=UTC))
    assert [d.number for d in later.due] == [cases["recent"].number]
    assert referral(org, cases["recent"].id).person_name is None


def test_the_scheduler_runs_retention_monthly(org, cases):
    (job,) = [j for j in registered_jobs() if j.name == "retention_monthly"]
    assert job.cron == "0 3 1 * *" and job.run_on_start
    job.run(JobContext(engine=org, now=START, kick_delivery=lambda: None))
    assert referral(org, cases["old"].id).person_name is None


# --------------------------------------------------------------------------- erase on request


def erase(monkeypatch, capsys, db_url, key, number, actor, *extra, stdin=None):
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", stdin)
    return run_cli(
        monkeypatch, capsys, db_url, key, "erase", number, "--as", actor, "--reason", *extra
    )


def audit_of(engine, action="case.erase") -> list[AuditEntry]:
    with transaction(engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_coordinator_erases_a_closed_case_on_request(
    org, cases, db_url, encryption_key, monkeypatch, capsys
):
    number = cases["recent"].number
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, number, "U0COORD", "request", "--yes"
    )
    assert code == 0 and f"{number} の個人情報を消去しました" in out
    assert referral(org, cases["recent"].id).person_name is None
    (entry,) = audit_of(org)
    assert (entry.actor_slack_id, entry.allowed, entry.detail) == (
        "U0COORD",
        True,
        "request:request",
    )
    assert entry.case_id == cases["recent"].id
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, number, "U0ADMIN1", "request", "--yes"
    )
    assert code == 1 and "すでに消去" in out


@pytest.mark.parametrize("actor", ["U0WIN1", "U0PARTNER1", "U0STRANGER"])
def test_only_the_coordinator_or_admin_may_erase(
    org, cases, db_url, encryption_key, monkeypatch, capsys, actor
):
    before = raw_referral(org, cases["recent"].id)
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        cases["recent"].number,
        actor,
        "request",
        "--yes",
    )
    assert code == 1 and "coordinator" in out
    assert raw_referral(org, cases["recent"].id) == before
    (entry,) = audit_of(org)
    assert (entry.actor_slack_id, entry.allowed, entry.detail) == (
        actor,
        False,
        "ops.erase.not_allowed",
    )


def test_an_open_case_needs_force(org, cases, db_url, encryption_key, monkeypatch, capsys):
    number = cases["running"].number
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, number, "U0ADMIN1", "withdrawn", "--yes"
    )
    assert code == 1 and "--force" in out
    assert referral(org, cases["running"].id).person_name == "辰野 継続"
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        number,
        "U0ADMIN1",
        "withdrawn",
        "--yes",
        "--force",
    )
    assert code == 0
    assert referral(org, cases["running"].id).person_name is None
    with transaction(org) as session:
        assert session.get(Case, cases["running"].id).state == "received"  # the case goes on


def test_erase_asks_for_the_number_again(org, cases, db_url, encryption_key, monkeypatch, capsys):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    number = cases["recent"].number
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        number,
        "U0COORD",
        "request",
        stdin=Tty("R8-9999\n"),
    )
    assert code == 1 and "中止" in out
    assert referral(org, cases["recent"].id).person_name == "辰野 新しい"
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        number,
        "U0COORD",
        "request",
        stdin=Tty(number.lower() + "\n"),
    )
    assert code == 0 and referral(org, cases["recent"].id).person_name is None


def test_erase_without_a_terminal_needs_yes(
    org, cases, db_url, encryption_key, monkeypatch, capsys
):
    code, out = erase(
        monkeypatch,
        capsys,
        db_url,
        encryption_key,
        cases["recent"].number,
        "U0COORD",
        "request",
        stdin=io.StringIO(""),
    )
    assert code == 2 and "--yes" in out
    assert referral(org, cases["recent"].id).person_name == "辰野 新しい"


def test_erase_of_an_unknown_number_or_reason(
    org, cases, db_url, encryption_key, monkeypatch, capsys
):
    code, out = erase(
        monkeypatch, capsys, db_url, encryption_key, "R8-9999", "U0COORD", "request", "--yes"
    )
    assert code == 1 and "見つかりませんでした" in out
    with pytest.raises(SystemExit) as exit_:
        erase(monkeypatch, capsys, db_url, encryption_key, "R8-0001", "U0COORD", "because", "--yes")
    assert exit_.value.code == 2
    assert audit_of(org) == []


def test_sqlite_keeps_no_copy_of_erased_values_in_its_files(org, cases, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite files only")
    tokens = [t for t in raw_referral(org, cases["old"].id) if t]
    assert len(tokens) == 6
    retention.run(org, now=START)
    path = Path(db_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    files = b"".join(p.read_bytes() for p in (path, wal) if p.exists())
    assert not [t for t in tokens if t.encode() in files]  # not in free pages, not in the WAL
