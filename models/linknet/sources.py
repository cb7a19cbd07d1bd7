"""Where the Link-net figures come from: a registry of sources, each counted in SQL by month.

A source is one kind of count, split into categories:
- a *flow* counts things that happened in a month (memos received, cases closed …);
- a *stock* counts what stood at the end of a month (open cases by state).
`count(session, first, last)` returns {(category, month index): n} for the months first..last
(month indexes of periods.Month), counted in the database — never by looping over rows in
Python. Missing keys mean 0. Two ways, both over a small table of month bounds
(sql.month_table), so a month is a range of an indexed time and no month is computed per row:
- `count_each`: categories with known values (urgency, age band, states …) — one COUNT per
  (value, month), each a range of an index on (category, time) (migration 0002); nothing is
  sorted, which is what a GROUP BY over 100,000 rows spends its time on;
- `count_by_month`: any category expression — a join on the month bounds, GROUP BY.

Adding a source (meetings held by type, plans made, reviews done, outreach, participation
resources …) is one `register(Source(...))` in a module that owns the data, plus its labels in
handlers/common/locale/ja/linknet.toml (`linknet.source.<key>`, `linknet.category.<key>.<cat>`) and
its place in SECTIONS (which sources a post or the yearly report shows, in order). A source
whose data does not exist yet is simply not registered: the figures never show a count that is
not backed by data. If the new source is tied to others by an identity everybody knows (a total
shared with another source, a stock moved by flows), add it to `relations` so the disclosure
audit (disclosure.py) gives the attacker that knowledge too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import String, cast, func, literal, true
from sqlmodel import Session, select

from models.cases.concerns import AGE_BANDS, Urgency
from models.cases.lifecycle import CaseState, CloseReason
from models.cases.tables import Case, CaseEvent
from models.linknet.acks import CaseAckDeadline
from models.linknet.cells import Relation, Shape
from models.linknet.periods import Month
from models.linknet.sql import hours_between, in_month, month_table, value_table
from models.org.tables import Agency, AgencyKind, Domain

Counts = dict[tuple[str, int], int]
Counter = Callable[[Session, int, int], Counts]


@dataclass(frozen=True)
class Source:
    key: str
    categories: tuple[str, ...]
    count: Counter
    stock: bool = False
    population: str | None = None  # sources counting the same things have the same total
    # What one count is: a case (実人数 — each case counted once in a period, as one person) or
    # an event (延べ件数 — a meeting, a plan, a contact; the same case may come back).
    unit: str = "persons"
    # Meetings are not people: their counts are shown exactly, never "k未満" nor "秘匿".
    exact: bool = False

    @property
    def shape(self) -> Shape:
        return Shape(self.categories, self.stock, self.exact)


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    if source.key in SOURCES:
        raise ValueError(f"two Link-net sources named {source.key}")
    SOURCES[source.key] = source
    return source


def _bounds(first: int, last: int):
    return Month.from_index(first).start, Month.from_index(last).end


def count_by_month(
    session: Session, first: int, last: int, category, when, *conditions, table=Case, joins=()
) -> Counts:
    """SELECT month, category, COUNT(*) … WHERE `when` in the months first..last GROUP BY both."""
    months = month_table(first, last)
    query = select(months.c.m, category, func.count()).select_from(months)
    query = query.join(table, in_month(months, when))
    for target, on, *outer in joins:
        query = query.join(target, on, isouter=bool(outer))
    query = query.where(*conditions).group_by(months.c.m, category)
    return {(str(c), int(m)): int(n) for m, c, n in session.exec(query)}


def count_each(
    session: Session, first: int, last: int, column, values, when, *conditions, table=Case
) -> Counts:
    """{(value, month): n} for every value of `column` and month first..last: one COUNT for each
    pair, a range of the index on (column, when) — for categories whose values are known."""
    if not values:
        return {}
    months = month_table(first, last)
    vals = value_table(values, column.type)
    n = (
        select(func.count())
        .select_from(table)
        .where(column == vals.c.v, in_month(months, when), *conditions)
        .correlate(months, vals)
        .scalar_subquery()
    )
    query = select(months.c.m, vals.c.v, n).select_from(months).join(vals, true())
    return {(str(v), int(m)): int(c) for m, v, c in session.exec(query) if c}


# --- new memos (つなぎメモ) in the month: four breakdowns of one population ------------------

DOMAIN_CATEGORIES = (*[d.value for d in Domain], "multiple", "none")


def _domain_category(stored: str) -> str:
    domains = json.loads(stored)
    if not domains:
        return "none"
    return "multiple" if len(domains) > 1 else str(domains[0])


def _new_by_domain(session: Session, first: int, last: int) -> Counts:
    """Grouped by the stored list of domains as it is (a handful of distinct lists), each list
    then named once here: cheaper than reading the JSON of every memo in SQL."""
    grouped = count_by_month(session, first, last, cast(Case.domains, String), Case.created_at)
    out: Counts = {}
    for (stored, m), n in grouped.items():
        key = (_domain_category(stored), m)
        out[key] = out.get(key, 0) + n
    return out


register(
    Source(
        "new_domain",
        DOMAIN_CATEGORIES,
        _new_by_domain,
        population="new",
    )
)


def _new_by_referrer(session: Session, first: int, last: int) -> Counts:
    """Counted per referring agency (an index range each), then summed by the agencies' kind."""
    kinds = dict(session.exec(select(Agency.id, Agency.kind)).all())
    by_agency = count_each(
        session, first, last, Case.referrer_agency_id, list(kinds), Case.created_at
    )
    out: Counts = {}
    for (agency, m), n in by_agency.items():
        key = (str(kinds[int(agency)]), m)
        out[key] = out.get(key, 0) + n
    return out


register(
    Source("new_referrer", tuple(k.value for k in AgencyKind), _new_by_referrer, population="new")
)
register(
    Source(
        "new_age",
        AGE_BANDS,
        lambda s, a, b: count_each(s, a, b, Case.age_band, AGE_BANDS, Case.created_at),
        population="new",
    )
)
URGENCIES = tuple(u.value for u in Urgency)
register(
    Source(
        "new_urgency",
        URGENCIES,
        lambda s, a, b: count_each(s, a, b, Case.urgency, URGENCIES, Case.created_at),
        population="new",
    )
)


# --- acknowledgements (受付) in the month, within the deadline or not --------------------------


def _acks(session: Session, first: int, last: int) -> Counts:
    """Per month: every acknowledgement (an index range), and those within the recorded
    deadline; the rest (late, or no deadline recorded) are late."""
    months = month_table(first, last)
    acknowledged = in_month(months, Case.acknowledged_at)
    every = select(func.count()).select_from(Case).where(acknowledged)
    within = (
        select(func.count())
        .select_from(Case)
        .join(CaseAckDeadline, CaseAckDeadline.case_id == Case.id)
        .where(acknowledged, Case.acknowledged_at <= CaseAckDeadline.due_at)
    )
    query = select(
        months.c.m,
        every.correlate(months).scalar_subquery(),
        within.correlate(months).scalar_subquery(),
    )
    out: Counts = {}
    for m, n, ok in session.exec(query):
        for category, count in (("within", ok), ("late", n - ok)):
            if count:
                out[(category, int(m))] = int(count)
    return out


register(Source("ack", ("within", "late"), _acks))


# --- closures in the month, by reason -----------------------------------------------------------


def _closures(session: Session, first: int, last: int) -> Counts:
    reason = func.coalesce(CaseEvent.code, literal(CloseReason.other.value))
    closed = CaseEvent.to_state == CaseState.closed
    return count_by_month(session, first, last, reason, CaseEvent.at, closed, table=CaseEvent)


register(Source("closed", tuple(r.value for r in CloseReason), _closures))


# --- cases by state at the end of the month (closed cases are counted as closures) --------------

STOCK_STATES = tuple(s.value for s in CaseState if s is not CaseState.closed)


def _states_at_month_ends(session: Session, first: int, last: int) -> Counts:
    """Replay every state change up to the end of `last`: for each state and month, the changes
    into it and out of it (two index-range counts); a month's stock is their running sum since
    the first event."""
    earliest = session.exec(select(func.min(CaseEvent.at))).one()
    if earliest is None:
        return {}
    start = min(Month.of(earliest).index, first)
    into = count_each(
        session, start, last, CaseEvent.to_state, STOCK_STATES, CaseEvent.at, table=CaseEvent
    )
    out_of = count_each(
        session, start, last, CaseEvent.from_state, STOCK_STATES, CaseEvent.at, table=CaseEvent
    )
    running = dict.fromkeys(STOCK_STATES, 0)
    out: Counts = {}
    for m in range(start, last + 1):
        for state in STOCK_STATES:
            running[state] += into.get((state, m), 0) - out_of.get((state, m), 0)
        if m >= first:
            out.update({(s, m): n for s, n in running.items() if n})
    return out


register(Source("open_state", STOCK_STATES, _states_at_month_ends, stock=True))


# --- identities everybody knows (the disclosure audit gives them to the attacker) ------------


def relations(sources: dict[str, Source], months: list[int]) -> list[Relation]:
    """Exact links between sources, for every month of the window.

    - sources of the same population have the same total each month;
    - open cases at a month's end = open a month before + new memos − closures (closed is final);
    - memos waiting at a month's end = waiting a month before + new − acknowledged (holds when
      no memo was handed back to waiting that month; the audit keeps it only when it holds).
    The month before the window is the system's start: nothing was open then.
    """
    out: list[Relation] = []
    groups: dict[str, list[Source]] = {}
    for s in sources.values():
        if s.population:
            groups.setdefault(s.population, []).append(s)

    def total(source: Source, m: int, sign: int) -> list:
        return [((source.key, c, m), sign) for c in source.categories]

    for name, members in groups.items():
        for a, b in pairwise(members):
            for m in months:
                out.append(
                    Relation(f"{name}:{a.key}={b.key}:{m}", (*total(a, m, 1), *total(b, m, -1)))
                )
    new = next((s for s in sources.values() if s.population == "new"), None)
    stock, closed, ack = (sources.get(k) for k in ("open_state", "closed", "ack"))
    if stock and new and closed and months:
        start = months[0] - 1
        for state in stock.categories:
            out.append(Relation(f"start:{state}", (((stock.key, state, start), 1),)))
        for m in months:
            terms = [
                *total(stock, m, 1),
                *total(stock, m - 1, -1),
                *total(new, m, -1),
                *total(closed, m, 1),
            ]
            out.append(Relation(f"open_flow:{m}", tuple(terms)))
            if ack and CaseState.received.value in stock.categories:
                waiting = [
                    ((stock.key, CaseState.received.value, m), 1),
                    ((stock.key, CaseState.received.value, m - 1), -1),
                    *total(new, m, -1),
                    *total(ack, m, 1),
                ]
                out.append(Relation(f"waiting_flow:{m}", tuple(waiting)))
    return out


def first_month(session: Session) -> int | None:
    """The month of the first memo: the system's start (the window's first month)."""
    first = session.exec(select(func.min(Case.created_at))).one()
    return Month.of(first).index if first else None


def median_ack_hours(session: Session, first: int, last: int) -> tuple[int, float | None]:
    """How many memos were acknowledged in the months, and the median hours it took (in SQL)."""
    start, end = _bounds(first, last)
    where = (Case.acknowledged_at >= start, Case.acknowledged_at < end)
    n = session.exec(select(func.count()).select_from(Case).where(*where)).one()
    if not n:
        return 0, None

    hours = hours_between(Case.created_at, Case.acknowledged_at)
    query = select(hours).where(*where).order_by(hours).limit(2 - n % 2).offset((n - 1) // 2)
    values = [float(v) for v in session.exec(query)]
    return int(n), sum(values) / len(values)
