"""The months before the demo week: memos the town has handled since the bot went live in April.

Only so that the Link-net figures and their chart have something to count. Every one of these
cases is synthetic ("合成 太郎 000123", 0266-00-0000, a narrative that says it is test data), was
taken within its deadline and is closed, so no one's desk is cluttered with them and no
reminder is due. They are written straight to the database (rows like the ones the bot writes),
before the week starts; nothing is sent to Slack for them.

Their receipt numbers come from a block of their own (R8-9001 …) and the year's counter is left
alone, so the week's memos start at R8-0001 — a reader of the demo page meets the first memo
of the story as the first number (the page says so: demo.page.intro_4). The figures count by
date, not by number, so they are the same either way.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from models.base.clock import TOKYO
from models.base.numbering import fiscal_year, format_number
from models.cases.concerns import domains_of, has_complex
from models.cases.lifecycle import CaseState, CloseReason
from models.cases.routing import RouteReason
from models.cases.tables import Case, CaseEvent, Referral
from models.org.tables import Agency, AgencyKind, Member
from reminders.deadlines import calendar_for
from sandbox.synthetic import person

CLOSE_REASONS = [
    (CloseReason.resolved, 5),
    (CloseReason.connected, 8),
    (CloseReason.moved_out, 1),
    (CloseReason.declined, 2),
    (CloseReason.unreachable, 1),
    (CloseReason.other, 1),
]
# Concerns the way a town's memos lean: mostly elderly care, then poverty and children.
CONCERN_WEIGHTS = {
    "kaigo": 10,
    "ninchisho": 6,
    "koreisha_seikatsu": 5,
    "shogai": 3,
    "seishin": 3,
    "kosodate": 4,
    "futoko": 3,
    "seikatsu_hi": 4,
    "keizai": 4,
    "saimu": 2,
    "hikikomori": 2,
    "hachimaru_gomaru": 1,
    "koritsu": 2,
}
FIRST_SEQ = 9001  # the history's numbers: apart from those the week's memos take (from 0001)
AGE_FOR = {
    "elderly": ["65-74", "75+", "75+"],
    "children": ["0-5", "6-12", "13-18"],
    "disability": ["19-39", "40-64"],
    "poverty": ["19-39", "40-64", "65-74"],
}


def _weighted(rng: random.Random, pairs):
    items, weights = zip(*pairs, strict=True)
    return rng.choices(items, weights=weights, k=1)[0]


def _route_reason(keys: list[str], domains: list[str]) -> str:
    if has_complex(keys):
        return RouteReason.complex_concern
    if not domains:
        return RouteReason.no_domain
    if len(domains) > 1:
        return RouteReason.multiple_domains
    return RouteReason.single_domain


def seed(session: Session, *, first: date, last: date, per_month: int = 24, rng_seed: int = 8):
    """Closed memos from `first` to `last` (business days, office hours); returns how many."""
    rng = random.Random(rng_seed)
    calendar = calendar_for(session)
    end = datetime.combine(last, time(17, 0), tzinfo=TOKYO)
    agencies = list(session.exec(select(Agency).where(Agency.active)))
    members = list(session.exec(select(Member).where(Member.active)))
    by_id = {a.id: a for a in agencies}
    windows = sorted((a for a in agencies if a.kind == AgencyKind.window), key=lambda a: a.position)
    first_window = {}
    for w in windows:
        first_window.setdefault(w.domain, w)
    coordinator = next(a for a in agencies if a.kind == AgencyKind.coordinator)
    senders = [
        m
        for m in members
        if by_id[m.agency_id].kind != AgencyKind.coordinator and "admin" not in m.roles
    ]
    staff = {w.id: [m for m in members if m.agency_id == w.id] for w in [*windows, coordinator]}

    days = []
    day = first
    while day <= last:
        if calendar.is_business_day(day):
            days.append(day)
        day += timedelta(days=1)
    months: dict[tuple[int, int], list[date]] = {}
    for d in days:
        months.setdefault((d.year, d.month), []).append(d)

    last_seq: dict[int, int] = {}  # fiscal year -> the last history sequence used
    made = 0
    for month_days in months.values():
        for _ in range(per_month + rng.randint(-4, 4)):
            day = rng.choice(month_days)
            at = datetime.combine(
                day, time(rng.randint(9, 16), rng.choice((0, 10, 20, 30, 40, 50))), tzinfo=TOKYO
            )
            keys = [
                _weighted(rng, CONCERN_WEIGHTS.items()) for _ in range(rng.choice((1, 1, 1, 2)))
            ]
            keys = list(dict.fromkeys(keys))
            domains = [d.value for d in domains_of(keys)]
            complex_ = has_complex(keys) or len(domains) != 1
            target = coordinator if complex_ else first_window[domains[0]]
            age = rng.choice(AGE_FOR.get(domains[0], ["40-64"])) if domains else "40-64"
            sender = rng.choice(senders)
            fy = fiscal_year(at.date())
            seq = last_seq[fy] = last_seq.get(fy, FIRST_SEQ - 1) + 1
            taker = rng.choice(staff[target.id] or [sender])
            taken = at + timedelta(minutes=rng.randint(20, 300))
            closed = min(taken + timedelta(days=rng.randint(7, 40)), max(end, taken))
            case = Case(
                number=format_number(fy, seq),
                fiscal_year=fy,
                seq=seq,
                state=CaseState.closed,
                domains=domains,
                urgency=rng.choice(("normal", "normal", "normal", "three_days", "urgent")),
                age_band=age,
                routed_agency_id=target.id,
                route_reason=_route_reason(keys, domains),
                referrer_id=sender.id,
                referrer_agency_id=sender.agency_id,
                created_at=at,
                acknowledged_at=taken,
                acknowledged_by_id=taker.id,
                state_since=closed,
            )
            session.add(case)
            session.flush()
            session.add(
                Referral(
                    case_id=case.id,
                    concerns=keys,
                    consent_to_share=rng.choice(("yes", "yes", "unknown")),
                    submitted_at=at,
                    **person(case.id),
                )
            )
            opened = CaseState.coordination if target is coordinator else CaseState.window
            reason = _weighted(rng, CLOSE_REASONS)
            session.add_all(
                [
                    CaseEvent(
                        case_id=case.id,
                        at=at,
                        actor_id=sender.id,
                        kind="received",
                        to_state=CaseState.received,
                    ),
                    CaseEvent(
                        case_id=case.id,
                        at=taken,
                        actor_id=taker.id,
                        kind="acknowledged",
                        from_state=CaseState.received,
                        to_state=opened,
                    ),
                    CaseEvent(
                        case_id=case.id,
                        at=closed,
                        actor_id=taker.id,
                        kind="closed",
                        from_state=opened,
                        to_state=CaseState.closed,
                        code=reason.value,
                    ),
                ]
            )
            made += 1
    return made
