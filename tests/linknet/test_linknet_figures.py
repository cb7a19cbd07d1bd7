"""The aggregation core against a real database (SQLite and PostgreSQL): SQL counts equal a
recount in Python, months follow Tatsuno time, the ledger freezes what was published, posts are
idempotent — and no personal string ever reaches a Link-net output."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from handlers.common.texts import _catalogue
from models.base.clock import TOKYO
from models.base.db import make_engine, transaction
from models.base.errors import DomainError
from models.cases import memo as intake
from models.cases.concerns import AGE_BANDS, Urgency
from models.cases.memo import MemoInput
from models.cases.tables import Case, CaseEvent
from models.linknet import acks, figures, ledger
from models.linknet.cells import TOTAL, Cell, Display
from models.linknet.periods import Month, Period, last_complete_month
from models.linknet.posting import post, report
from models.linknet.sources import SOURCES, STOCK_STATES
from models.org.orgfile import load_file
from models.org.tables import Agency, Member
from sandbox.synthetic import generate_cases
from tests.conftest import ORG_FILE, START
from tests.contracts.test_texts import _all_texts

OCTOBER = Month(2026, 10)


def jst(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def one_day(received_at, urgency):
    return received_at + timedelta(days=1)


def member(session, slack_id: str) -> Member:
    return session.exec(select(Member).where(Member.slack_id == slack_id)).one()


def memo(session, at: datetime, *, who="U0PARTNER1", **fields) -> Case:
    values = {
        "narrative": "試験用の相談内容です。",
        "concerns": ["kaigo"],
        "urgency": "normal",
        "consent_to_share": "yes",
        "age_band": "75+",
        "person_name": "辰野 試験子",
        "person_kana": "たつの しけんこ",
        "contact": "0266-00-0000",
    }
    values.update(fields)
    return intake.submit(
        session, memo=MemoInput(**values), referrer=member(session, who), view_id=None, at=at
    )


# --- counts ---------------------------------------------------------------------------------


def recount(session, months: list[int]) -> dict:
    """The same counts, the slow way: every case and event looked at in Python."""
    out: dict = {}
    kinds = {a.id: a.kind for a in session.exec(select(Agency))}

    def add(key):
        out[key] = out.get(key, 0) + 1

    deadlines = {d.case_id: d.due_at for d in session.exec(select(acks.CaseAckDeadline))}
    for case in session.exec(select(Case)):
        m = Month.of(case.created_at).index
        if m in months:
            domains = case.domains
            d = "none" if not domains else "multiple" if len(domains) > 1 else domains[0]
            add(("new_domain", d, m))
            add(("new_age", case.age_band, m))
            add(("new_urgency", case.urgency, m))
            add(("new_referrer", kinds[case.referrer_agency_id], m))
        if case.acknowledged_at and Month.of(case.acknowledged_at).index in months:
            due = deadlines.get(case.id)
            ok = due is not None and case.acknowledged_at <= due
            add(("ack", "within" if ok else "late", Month.of(case.acknowledged_at).index))
    events = list(session.exec(select(CaseEvent).order_by(CaseEvent.at, CaseEvent.id)))
    for event in events:
        m = Month.of(event.at).index
        if event.to_state == "closed" and m in months:
            add(("closed", event.code or "other", m))
    for m in months:
        end = Month.from_index(m).end
        state: dict[int, str] = {}
        for event in events:
            if event.at < end and event.to_state:
                state[event.case_id] = event.to_state
        for s in state.values():
            if s != "closed":
                add(("open_state", s, m))
    return out


def test_sql_counts_equal_a_recount(org):
    generate_cases(org, count=150, start=datetime(2025, 9, 1, tzinfo=UTC), days=420, seed=3)
    with transaction(org) as session:
        # A memo at 00:30 on 1 October in Tatsuno is still 30 September in UTC: October's.
        boundary = memo(session, jst(2026, 10, 1, 0, 30), age_band="0-5")
        assert boundary.created_at.astimezone(UTC).day == 30
        acks.record_ack_deadlines(session, deadline=one_day, until=START)
        months = list(range(Month(2025, 8).index, OCTOBER.index + 1))
        got = {a: v for a, v in figures.counts(session, months).items() if v and a[2] in months}
        expected = recount(session, months)
    assert got == expected
    assert got[("new_age", "0-5", OCTOBER.index)] >= 1


def test_every_category_of_every_source_has_a_label():
    from handlers.linknet.views import category_label, source_label

    for key, source in SOURCES.items():
        source_label(key)
        for category in (*source.categories, TOTAL):
            category_label(key, category)


# --- periods ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["2026-13", "26-10", "2026/10", "", "2026-10-01", "十月"])
def test_a_bad_month_is_refused(text):
    with pytest.raises(DomainError) as refused:
        Month.parse(text)
    assert refused.value.code == "linknet.bad_month"


def test_months_and_fiscal_years():
    assert Month.parse("2027-03").fiscal_year == 2026
    assert Period.fiscal_year_to_date(OCTOBER).first == Month(2026, 4)
    assert last_complete_month(START) == OCTOBER
    assert OCTOBER.start == datetime(2026, 9, 30, 15, tzinfo=UTC)


def test_a_month_that_is_not_over_has_no_figures(org):
    with transaction(org) as session, pytest.raises(DomainError) as refused:
        figures.make_draft(session, figures.post_layout(Month(2026, 11)), k=10, now=START)
    assert refused.value.code == "linknet.month_not_over"


def test_k_comes_from_the_org_settings_and_is_never_below_three(org):
    from models.org.tables import OrgSetting

    with transaction(org) as session:
        assert figures.linknet_k(session) == 10
        session.merge(OrgSetting(key="linknet", value={"k": 5}))
    with transaction(org) as session:
        assert figures.linknet_k(session) == 5
        session.get(OrgSetting, "linknet").value = {"k": 2}
        with pytest.raises(DomainError):
            figures.linknet_k(session)


# --- the ledger -------------------------------------------------------------------------------


def october(org, n=14, taken=12):
    """n memos in October 2026, the first `taken` taken by the window 3 hours later."""
    with transaction(org) as session:
        cases = [memo(session, jst(2026, 10, 1 + i, 10)) for i in range(n)]
        window = member(session, "U0WIN1")
        for case in cases[:taken]:
            intake.acknowledge(
                session, case_id=case.id, member=window, at=case.created_at + timedelta(hours=3)
            )
    return cases


def test_publishing_freezes_the_counts_of_the_months_it_used(org):
    cases = october(org)
    with transaction(org) as session:
        first = post(session, month=OCTOBER, now=START, deadline=one_day)
        shown = figures.published(session, first.publication_id)
        cell = Cell("new_age", "75+", OCTOBER.index, OCTOBER.index)
        assert shown.get(cell).value == 14
        # The data changes afterwards (a memo of October edited) …
        case = session.get(Case, cases[0].id)
        case.age_band = "40-64"
        session.add(case)
    with transaction(org) as session:
        again = post(session, month=OCTOBER, now=START, deadline=one_day, again=True)
        shown = figures.published(session, again.publication_id)
    # … the month stays as it was published: a revision would reveal the one case that changed.
    assert shown.get(cell).value == 14
    assert shown.get(Cell("new_age", "40-64", OCTOBER.index, OCTOBER.index)).value == 0


def test_posting_a_month_twice_does_nothing_unless_again(org):
    october(org)
    with transaction(org) as session:
        first = post(session, month=OCTOBER, now=START, deadline=one_day)
        second = post(session, month=OCTOBER, now=START, deadline=one_day)
        third = post(session, month=OCTOBER, now=START, deadline=one_day, again=True)
        keys = [p.key for p in session.exec(select(ledger.LinknetPublication))]
    assert first.created and not second.created and third.created
    assert second.publication_id == first.publication_id
    assert keys == ["post:2026-10", "post:2026-10:again:1"]


def test_no_channel_no_post(engine):
    with transaction(engine) as session, pytest.raises(DomainError) as refused:
        post(session, month=OCTOBER, now=START, deadline=one_day)
    assert refused.value.code == "linknet.no_channel"


def test_the_report_is_recorded_once_per_period_and_controlled(org):
    october(org, n=9)
    with transaction(org) as session:
        first = report(session, fy=2026, now=START, deadline=one_day)
        second = report(session, fy=2026, now=START, deadline=one_day)
        shown = figures.published(session, first)
    assert first == second
    total = shown.get(Cell("new_domain", TOTAL, Month(2026, 4).index, OCTOBER.index))
    assert total.display is Display.below_k  # 9 memos: fewer than k


def test_the_report_of_a_year_not_begun_is_refused(org):
    with transaction(org) as session, pytest.raises(DomainError) as refused:
        report(session, fy=2027, now=START, deadline=one_day)
    assert refused.value.code == "linknet.year_not_started"


def test_the_stock_of_open_cases_follows_the_events(org):
    october(org)
    with transaction(org) as session:
        months = [Month(2026, 9).index, OCTOBER.index]
        truth = figures.counts(session, months)
    assert truth[("open_state", "received", OCTOBER.index)] == 2
    assert truth[("open_state", "window", OCTOBER.index)] == 12
    assert sum(truth[("open_state", s, Month(2026, 9).index)] for s in STOCK_STATES) == 0


# --- no personal string reaches a Link-net output ---------------------------------------------

PERSONAL_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P")), min_size=3, max_size=20
)


STRUCTURE = {"type", "block_id", "action_id", "style"}  # Block Kit's own words, e.g. "mrkdwn"


def shown_strings(value) -> list[str]:
    """Every string a reader could see in blocks or rows (not Block Kit's structural values)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in STRUCTURE for s in shown_strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in shown_strings(v)]
    if hasattr(value, "to_dict"):
        return shown_strings(value.to_dict())
    if hasattr(value, "__dict__"):
        return shown_strings(vars(value))
    return [str(value)]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    people=st.lists(
        st.tuples(PERSONAL_TEXT, PERSONAL_TEXT, st.sampled_from(AGE_BANDS), st.integers(1, 28)),
        min_size=1,
        max_size=12,
    )
)
def test_no_personal_string_reaches_any_linknet_output(sqlite_template, tmp_path_factory, people):
    from handlers.linknet.views import alt_text, post_message, preview_blocks, report_rows

    path = tmp_path_factory.mktemp("personal") / "tsunagi.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    personal = set()
    try:
        with transaction(engine) as session:
            load_file(session, ORG_FILE)
            for name, narrative, age, day in people:
                case = memo(
                    session,
                    jst(2026, 10, day, 11),
                    person_name=name,
                    narrative=narrative,
                    household=narrative,
                    age_band=age,
                    urgency=Urgency.urgent,
                )
                personal |= {name, narrative, case.number}
        with transaction(engine) as session:
            pid = post(session, month=OCTOBER, now=START, deadline=one_day).publication_id
            pub = figures.published(session, pid)
            rid = report(session, fy=2026, now=START, deadline=one_day)
            rep = figures.published(session, rid)
    finally:
        engine.dispose()
    text, blocks = post_message(pub)
    outputs = [
        text,
        *shown_strings(blocks),
        alt_text(pub),
        *shown_strings(preview_blocks(pub, channel="C0", already=False)),
        *shown_strings([[str(c) for c in row] for row in report_rows(rep, over=False)]),
    ]
    everything = "\n".join(outputs)
    numbers_only = set("0123456789 、。,.-/:（）()")  # a figure may spell like a tiny "name"
    vocabulary = "\n".join(text for _, text in _all_texts(_catalogue()))
    for value in personal:
        if set(value) <= numbers_only or value in vocabulary:
            continue  # the generated "name" is a number or a word the bot uses anyway
        assert value not in everything
    assert not re.search(r"R\d+-\d{4}", everything)  # no receipt number
    assert not re.search(r"\d{1,2}月\d{1,2}日|\d{4}-\d{2}-\d{2}", everything)  # no day, ever


def test_meetings_plans_reviews_and_outreach_are_counted_by_month(org):
    from datetime import date

    from models.meetings.tables import Meeting
    from models.outreach.tables import Contact, OutreachTarget
    from models.plans.tables import Plan

    cases = october(org, n=2)
    with transaction(org) as session:
        coord = member(session, "U0COORD")
        for day, kind, state in [
            (5, "saponet", "scheduled"),
            (12, "saponet", "held"),
            (19, "marugoto", "cancelled"),  # not held
            (26, "linknet", "scheduled"),
        ]:
            at = jst(2026, 10, day, 13, 30)
            session.add(
                Meeting(kind=kind, starts_at=at, state=state, created_by_id=coord.id, created_at=at)
            )
        plan = Plan(
            case_id=cases[0].id,
            version=1,
            goals=["試験用の目標"],
            review_on=date(2027, 1, 10),
            created_by_id=coord.id,
            created_at=jst(2026, 10, 20, 15),
            evaluation="partly",
            evaluated_at=jst(2026, 10, 31, 23, 30),  # still October in Tatsuno
        )
        session.add(plan)
        target = OutreachTarget(
            label="O-0001",
            person={"name": "辰野 試験子"},
            reason_kind="hikikomori",
            next_contact_on=date(2026, 11, 30),
            created_by_id=coord.id,
            created_at=jst(2026, 10, 2, 9),
        )
        session.add(target)
        session.flush()
        for day, outcome in [(3, "absent"), (10, "building"), (24, "consented")]:
            session.add(
                Contact(
                    target_id=target.id,
                    at=jst(2026, 10, day, 10),
                    method="visit",
                    outcome=outcome,
                    by_id=coord.id,
                )
            )
    with transaction(org) as session:
        truth = figures.counts(session, [OCTOBER.index])
    m = OCTOBER.index
    assert truth[("meetings", "saponet", m)] == 2
    assert truth[("meetings", "marugoto", m)] == 0
    assert truth[("meetings", "linknet", m)] == 1
    assert truth[("plans", "made", m)] == 1
    assert truth[("reviews", "partly", m)] == 1
    assert truth[("outreach_contacts", "consented", m)] == 1
    assert sum(truth[("outreach_contacts", o, m)] for o in ("absent", "building")) == 2
    assert truth[("resources", "used", m)] == 0


def test_the_org_file_sets_k_and_the_posting_time(engine):
    from models.org.orgfile import OrgFileError, load, parse
    from reminders.linknet_job import post_time

    text = ORG_FILE.read_text(encoding="utf-8") + '\n[linknet]\nk = 5\npost_time = "08:45"\n'
    with transaction(engine) as session:
        load(session, parse(text))
    with transaction(engine) as session:
        assert figures.linknet_k(session) == 5
        assert post_time(session).strftime("%H:%M") == "08:45"
    for bad, code in [
        ("k = 2", "linknet_k_invalid"),
        ('post_time = "25:00"', "linknet_post_time_invalid"),
    ]:
        with pytest.raises(OrgFileError) as refused:
            parse(ORG_FILE.read_text(encoding="utf-8") + f"\n[linknet]\n{bad}\n")
        [problem] = refused.value.problems
        assert problem.code == code and problem.line is not None
