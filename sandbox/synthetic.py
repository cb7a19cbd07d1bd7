"""Synthetic cases for tests (small) and the benchmark (100,000): obviously not real people.

Every person is "合成 太郎 000123" with the phone 0266-00-0000 and a narrative that says it is
test data; every other free text says 合成データ; nothing here can be mistaken for a resident.

`generate_cases` writes memos and the life of their cases: each case walks the lifecycle
(models/cases/lifecycle.TRANSITIONS) from receipt towards a final state drawn from STATE_MIX, one
recorded event per step, the steps spread over the weeks after the memo arrived and never past
the end of the period (a case whose next step would come later stays where it is). So the
Link-net figures — memos received, acknowledgements, closures by reason, cases by state at each
month's end — have something in every month. With `activity=True` it also writes what the work
after intake leaves behind: support plans (tasks, participation resources, evaluations), the
monthly meetings, outreach targets with their contacts and state changes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, select, text

from models.base.clock import TOKYO
from models.base.db import transaction
from models.base.numbering import ReceiptCounter, fiscal_year, format_number
from models.cases.concerns import AGE_BANDS, CONCERNS, ConsentToShare, Urgency, domains_of
from models.cases.lifecycle import CaseState, CloseReason
from models.cases.tables import Case, CaseEvent, Referral
from models.meetings.tables import Meeting, MeetingKind, MeetingState
from models.org.tables import Agency, Member
from models.outreach.tables import (
    Contact,
    ContactOutcome,
    Method,
    OutreachEvent,
    OutreachTarget,
    ReasonKind,
    TargetState,
)
from models.plans.tables import Evaluation, Plan, PlanTask, Resource, ResourceKind, TaskState

S = CaseState
STATE_MIX = [
    (S.received, 3),
    (S.window, 30),
    (S.coordination, 8),
    (S.assessment, 5),
    (S.saponet, 4),
    (S.marugoto, 4),
    (S.support, 16),
    (S.evaluation, 3),
    (S.closed, 25),
    (S.suspended, 2),
]
CLOSE_REASONS = [
    (CloseReason.resolved, 6),
    (CloseReason.connected, 8),
    (CloseReason.moved_out, 1),
    (CloseReason.declined, 2),
    (CloseReason.unreachable, 1),
    (CloseReason.deceased, 1),
    (CloseReason.duplicate, 1),
    (CloseReason.other, 1),
]
# The coordinator's stages after intake, in order (a case closes or pauses after any of them).
STAGE_PATHS = {
    S.coordination: [],
    S.assessment: [S.assessment],
    S.saponet: [S.assessment, S.saponet],
    S.marugoto: [S.assessment, S.marugoto],
    S.support: [S.assessment, S.marugoto, S.support],
    S.evaluation: [S.assessment, S.marugoto, S.support, S.evaluation],
}
EVENT_KIND = {
    S.coordination: "escalated",
    S.assessment: "assessment_started",
    S.closed: "closed",
    S.suspended: "suspended",
}
STEP_DAYS = (3, 40)  # days between two steps after the memo was taken
SYNTHETIC_TEXT = "合成データ（試験用）"
TABLES_WITH_IDS = ("case", "plan", "outreachtarget")  # ids given here, so rows can refer to them


def person(i: int) -> dict:
    return {
        "person_name": f"合成 太郎 {i:06d}",
        "person_kana": "ごうせい たろう",
        "contact": "0266-00-0000",
        "household": "合成データの世帯（試験用）",
        "narrative": f"これは試験用の合成データです（{i}）。",
    }


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


def path_to(rng: random.Random, final: CaseState, *, to_window: bool) -> list[CaseState]:
    """The states a case passes through after `received` to reach `final` (a valid walk)."""
    while final is S.window and not to_window:  # a memo for the coordinator is not a window's
        final = _weighted(rng, STATE_MIX)
    if final is S.received:
        return []
    start = [S.window] if to_window else []
    if final is S.window:
        return start
    if final in (S.closed, S.suspended):
        if to_window and rng.random() < 0.7:
            return [*start, final]  # most one-domain memos end at the window
        # A case with a plan ends through its evaluation (the plan is evaluated then).
        stage = rng.choice((S.coordination, S.assessment, S.saponet, S.evaluation))
        return [*path_to(rng, stage, to_window=to_window), final]
    stages = list(STAGE_PATHS[final])
    if final is S.marugoto and rng.random() < 0.3:
        stages.insert(1, S.saponet)  # discussed without consent first, then consent came
    return [*start, S.coordination, *stages]


def _timed(
    rng: random.Random, at: datetime, end: datetime, states: list[CaseState]
) -> list[tuple[CaseState, datetime]]:
    """Each state with when it was reached; the walk stops where the next step passes `end`."""
    out = []
    when = at + timedelta(hours=rng.randint(1, 60))  # taken within hours (some late)
    for state in states:
        if when >= end:
            break
        out.append((state, when))
        when += timedelta(days=rng.randint(*STEP_DAYS), hours=rng.randint(0, 23))
    return out


def _day(at: datetime) -> date:
    return at.astimezone(TOKYO).date()


@dataclass
class _Rows:
    """Rows to insert, by table, collected while the cases are made."""

    by_table: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, table: str, row: dict) -> int:
        """Add a row; returns its position in its table (an id before the base is added)."""
        rows = self.by_table.setdefault(table, [])
        rows.append(row)
        return len(rows) - 1


@dataclass
class _World:
    rng: random.Random
    end: datetime
    windows: list[Agency]
    coordinator: Agency
    staff: dict[int, list[Member]]
    members: list[Member]
    resources: list[int]


def generate_cases(
    engine: Engine,
    *,
    count: int,
    start: datetime,
    days: int = 730,
    seed: int = 8,
    batch: int = 2000,
    activity: bool = False,
) -> int:
    """Insert `count` memos received over `days` from `start`, each with its case's walk through
    the lifecycle up to the end of the period; with `activity`, plans, meetings and outreach
    too. Returns `count`."""
    rng = random.Random(seed)
    with transaction(engine) as session:
        agencies = list(session.exec(select(Agency)).scalars())
        members = list(session.exec(select(Member)).scalars())
        base = {
            name: session.execute(text(f'SELECT COALESCE(MAX(id), 0) FROM "{name}"')).scalar()
            for name in TABLES_WITH_IDS
        }
        counters = session.exec(select(ReceiptCounter)).scalars()
        sequences = {row.fiscal_year: row.last for row in counters}
    world = _World(
        rng=rng,
        end=start + timedelta(days=days),
        windows=[a for a in agencies if a.kind == "window"],
        coordinator=next(a for a in agencies if a.kind == "coordinator"),
        staff={a.id: [m for m in members if m.agency_id == a.id] for a in agencies},
        members=members,
        resources=_resources(engine) if activity else [],
    )
    stamps = sorted(start + timedelta(seconds=rng.randrange(days * 86400)) for _ in range(count))
    later = _Rows()  # the work after intake: written once every case exists
    made = 0
    while made < count:
        rows = _Rows()
        for at in stamps[made : made + batch]:
            fy = fiscal_year(at.date())
            sequences[fy] = sequences.get(fy, 0) + 1
            case_id = base["case"] + made + len(rows.by_table.get("case", [])) + 1
            walk, taker = _case(world, rows, case_id, at, fy, sequences[fy])
            if activity:
                _plan(world, later, case_id, walk, taker)
                _outreach(world, later, case_id, walk, taker)
        _insert(engine, rows, {})
        made += len(rows.by_table["case"])
    if activity:
        _meetings(world, later, start)
        _insert(engine, later, base)
    with transaction(engine) as session:
        for fy, last in sequences.items():
            row = session.get(ReceiptCounter, fy) or ReceiptCounter(fiscal_year=fy)
            row.last = last
            session.add(row)
        if engine.dialect.name == "postgresql":
            for name in TABLES_WITH_IDS:
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                        f'(SELECT COALESCE(MAX(id), 1) FROM "{name}"))'
                    )
                )
    return count


def _case(world: _World, rows: _Rows, case_id: int, at: datetime, fy: int, seq: int):
    """A memo, its case as it stands at the end of the period, and one event per step."""
    rng = world.rng
    concerns = rng.sample([c.key for c in CONCERNS], k=rng.choice((1, 1, 1, 2, 3)))
    domains = [d.value for d in domains_of(concerns)]
    target = world.coordinator if len(domains) != 1 else rng.choice(world.windows)
    referrer = rng.choice(world.members)
    taker = rng.choice(world.staff[target.id] or [referrer])
    to_window = target is not world.coordinator
    walk = _timed(rng, at, world.end, path_to(rng, _weighted(rng, STATE_MIX), to_window=to_window))
    state = walk[-1][0] if walk else S.received
    reached = {s for s, _ in walk}
    rows.add(
        "case",
        {
            "id": case_id,
            "number": format_number(fy, seq),
            "fiscal_year": fy,
            "seq": seq,
            "state": state.value,
            "domains": domains,
            "urgency": rng.choice(list(Urgency)).value,
            "age_band": rng.choice(AGE_BANDS),
            "routed_agency_id": target.id,
            "route_reason": "single_domain" if to_window else "no_domain",
            "lead_agency_id": (
                rng.choice([*world.windows, world.coordinator]).id
                if reached & {S.saponet, S.marugoto}
                else None
            ),
            "referrer_id": referrer.id,
            "referrer_agency_id": referrer.agency_id,
            "created_at": at,
            "acknowledged_at": walk[0][1] if walk else None,
            "acknowledged_by_id": taker.id if walk else None,
            "state_since": walk[-1][1] if walk else None,
            "suspended_from": walk[-2][0].value if state is S.suspended else None,
            "version": 1 + len(walk),
        },
    )
    rows.add(
        "referral",
        {
            "case_id": case_id,
            "source_view_id": None,
            "concerns": concerns,
            "consent_to_share": rng.choice(list(ConsentToShare)).value,
            "destination": None,
            "district": None,
            "submitted_at": at,
            **person(case_id),
        },
    )
    rows.add("caseevent", _event(case_id, at, "received", None, S.received, referrer.id))
    before = S.received
    for i, (after, when) in enumerate(walk):
        kind = "acknowledged" if i == 0 else EVENT_KIND.get(after, "advanced")
        code = _weighted(rng, CLOSE_REASONS).value if after is S.closed else None
        rows.add("caseevent", _event(case_id, when, kind, before, after, taker.id, code))
        before = after
    return walk, taker


def _event(case_id, at, kind, before, after, actor_id, code=None) -> dict:
    return {
        "case_id": case_id,
        "at": at,
        "actor_id": actor_id,
        "kind": kind,
        "from_state": before.value if before else None,
        "to_state": after.value if after else None,
        "code": code,
        "agency_id": None,
        "reason": None,
    }


# --- the work after intake (activity=True) ------------------------------------------------------


def _resources(engine: Engine) -> list[int]:
    """The participation resources tasks may use: the town's, or three synthetic ones."""

    with transaction(engine) as session:
        found = list(session.exec(select(Resource.id)).scalars())
        if not found:
            for kind in (ResourceKind.ibasho, ResourceKind.work, ResourceKind.salon):
                session.add(Resource(key=f"synthetic-{kind.value}", name=SYNTHETIC_TEXT, kind=kind))
            session.flush()
            found = list(session.exec(select(Resource.id)).scalars())
    return found


def _plan(world: _World, rows: _Rows, case_id: int, walk, taker: Member) -> None:
    """A support plan when the case reached support, evaluated when it reached evaluation.
    Tasks are done within weeks, mostly; a running plan keeps a few open (some late); a plan
    that ended had its open tasks cancelled. Reviews of running plans are ahead, mostly."""

    rng, end, reached = world.rng, world.end, dict(walk)
    if S.support not in reached:
        return
    made, evaluated = reached[S.support], reached.get(S.evaluation)
    running = walk[-1][0] in (S.support, S.evaluation)
    review = made + timedelta(days=90)
    if running and not evaluated:
        late = rng.random() < 0.03
        review = end + timedelta(days=rng.randint(-20, 0) if late else rng.randint(1, 120))
    plan = rows.add(
        "plan",
        {
            "id": len(rows.by_table.get("plan", [])) + 1,  # the base is added when written
            "case_id": case_id,
            "version": 1,
            "goals": [SYNTHETIC_TEXT],
            "review_on": _day(review),
            "meeting_id": None,
            "created_by_id": taker.id,
            "created_at": made,
            "current": True,
            "evaluation": rng.choice(list(Evaluation)).value if evaluated else None,
            "evaluation_note": None,
            "evaluated_at": evaluated,
            "decision": None,
        },
    )
    for _ in range(rng.choice((1, 2, 2, 3))):
        done_at = made + timedelta(days=rng.randint(5, 60))
        state, due = TaskState.done, done_at
        if done_at >= end or (running and rng.random() < 0.3):
            state, done_at = TaskState.open, None
            late = rng.random() < 0.1
            due = end + timedelta(days=rng.randint(-20, 0) if late else rng.randint(1, 90))
        elif not running and rng.random() < 0.2:
            state, done_at = TaskState.cancelled, None
        resource = rng.choice(world.resources) if rng.random() < 0.3 else None
        rows.add(
            "plantask",
            {
                "plan_id": plan + 1,  # the base is added when written
                "outcome_id": None,
                "case_id": case_id,
                "agency_id": rng.choice(world.windows).id,
                "what": SYNTHETIC_TEXT,
                "due_on": _day(due),
                "state": state.value,
                "progress": [],
                "progress_count": 0,
                "resource_id": resource,
                "created_at": made,
                "done_at": done_at,
                "done_by_id": taker.id if done_at else None,
            },
        )


def _outreach(world: _World, rows: _Rows, case_id: int, walk, taker: Member) -> None:
    """For some cases discussed without consent: an outreach target, visited or called every one
    to four weeks; later paused, closed or consented, or still active at the end."""

    rng, end, reached = world.rng, world.end, dict(walk)
    if S.saponet not in reached or rng.random() >= 0.15:
        return
    began = reached[S.saponet]
    contacts = []
    when = began + timedelta(days=rng.randint(1, 10))
    while when < end and len(contacts) < 24:
        contacts.append(when)
        when += timedelta(days=rng.choice((7, 14, 28)))
    changed = (contacts[-1] if contacts else began) + timedelta(days=1)
    final = rng.choice((TargetState.active,) * 2 + tuple(TargetState)[1:])
    if changed >= end:
        final = TargetState.active
    target = rows.add(
        "outreachtarget",
        {
            "id": len(rows.by_table.get("outreachtarget", [])) + 1,  # plus the base
            "label": "",  # OT-<id>, once the id is known
            "case_id": case_id,
            "person": {},  # a target made from a case: the case holds the person
            "age_band": "unknown",
            "reason_kind": rng.choice(list(ReasonKind)).value,
            "reason": None,
            "cadence_days": 14,
            "next_contact_on": _day(end + timedelta(days=rng.randint(-7, 21))),
            "state": final.value,
            "state_reason": None,
            "created_by_id": taker.id,
            "created_at": began,
            "version": 1,
        },
    )
    moves = [("created", began, None, TargetState.active)]
    if final is not TargetState.active:
        moves.append((final.value, changed, TargetState.active, final))
    for kind, at, before, after in moves:
        rows.add(
            "outreachevent",
            {
                "target_id": target + 1,
                "at": at,
                "actor_id": taker.id,
                "kind": kind,
                "from_state": before.value if before else None,
                "to_state": after.value,
                "reason": None,
            },
        )
    usual = [o for o in ContactOutcome if o is not ContactOutcome.consented]
    for i, at in enumerate(contacts):
        consented = final is TargetState.consented and i == len(contacts) - 1
        outcome = ContactOutcome.consented if consented else rng.choice(usual)
        rows.add(
            "contact",
            {
                "target_id": target + 1,
                "at": at,
                "method": rng.choice(list(Method)).value,
                "outcome": outcome.value,
                "note": None,
                "by_id": taker.id,
            },
        )


def _meetings(world: _World, rows: _Rows, start: datetime) -> None:
    """The monthly さぽネット and たつのまるごと meetings, and a quarterly リンクネット (a few
    cancelled), held over the period."""

    chair = next(
        (m for m in world.members if m.agency_id == world.coordinator.id), world.members[0]
    )
    month = date(start.year, start.month, 1)
    while datetime.combine(month, time(), tzinfo=TOKYO) < world.end:
        plan = [(MeetingKind.saponet, 10, time(13, 30)), (MeetingKind.marugoto, 20, time(13, 30))]
        if month.month % 3 == 0:
            plan.append((MeetingKind.linknet, 25, time(10, 0)))
        for kind, day, hour in plan:
            at = datetime.combine(month.replace(day=day), hour, tzinfo=TOKYO)
            if not start <= at < world.end:
                continue
            cancelled = world.rng.random() < 0.05
            rows.add(
                "meeting",
                {
                    "kind": kind.value,
                    "starts_at": at,
                    "minutes_long": 60,
                    "place": SYNTHETIC_TEXT,
                    "state": (MeetingState.cancelled if cancelled else MeetingState.held).value,
                    "series_id": None,
                    "series_month": None,
                    "remind_before": 60,
                    "created_by_id": chair.id,
                    "created_at": at - timedelta(days=14),
                    "held_at": None if cancelled else at + timedelta(hours=1),
                    "version": 1,
                },
            )
        month = (month + timedelta(days=32)).replace(day=1)


def _insert(engine: Engine, rows: _Rows, base: dict[str, int]) -> None:
    """Write the rows, in an order that satisfies their foreign keys; ids of TABLES_WITH_IDS
    (and the references to them) are shifted by `base` first."""

    shift = {
        "plan": [("id", "plan")],
        "plantask": [("plan_id", "plan")],
        "outreachtarget": [("id", "outreachtarget")],
        "outreachevent": [("target_id", "outreachtarget")],
        "contact": [("target_id", "outreachtarget")],
    }
    for table, columns in shift.items():
        for row in rows.by_table.get(table, []):
            for column, owner in columns:
                row[column] += base.get(owner, 0)
    for row in rows.by_table.get("outreachtarget", []):
        row["label"] = f"OT-{row['id']:04d}"
    order = [
        ("case", Case),
        ("referral", Referral),
        ("caseevent", CaseEvent),
        ("meeting", Meeting),
        ("plan", Plan),
        ("plantask", PlanTask),
        ("outreachtarget", OutreachTarget),
        ("outreachevent", OutreachEvent),
        ("contact", Contact),
    ]
    with transaction(engine) as session:
        for name, table in order:
            data = rows.by_table.get(name, [])
            for i in range(0, len(data), 5000):
                session.execute(table.__table__.insert(), data[i : i + 5000])
