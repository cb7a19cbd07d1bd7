"""Where the Link-net figures come from: a registry of sources, each counted in SQL by month.

A source is one kind of count, split into categories:
- a *flow* counts things that happened in a month (memos received, cases closed …);
- a *stock* counts what stood at the end of a month (open cases by state).
`count(session, first, last)` returns {(category, month index): n} for the months first..last
(month indexes of periods.Month), computed with GROUP BY in the database — never by looping
over rows in Python. Missing keys mean 0.

Adding a source (meetings held by type, plans made, reviews done, outreach, participation
resources …) is one `register(Source(...))` in a module that owns the data, plus its labels in
handlers/locale/ja/linknet.toml (`linknet.source.<key>` and `linknet.category.<key>.<cat>`) and
its place in SECTIONS (which sources a post or the yearly report shows, in order). A source
whose data does not exist yet is simply not registered: the figures never show a count that is
not backed by data. If the new source is tied to others by an identity everybody knows (a total
shared with another source, a stock moved by flows), add it to `relations` so the disclosure
audit (disclosure.py) gives the attacker that knowledge too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import and_, case, func, literal
from sqlmodel import Session, select

from models.cases import Case, CaseEvent
from models.concerns import AGE_BANDS, Urgency
from models.lifecycle import CaseState, CloseReason
from models.linknet.acks import CaseAckDeadline
from models.linknet.disclosure import Relation, Shape
from models.linknet.periods import Month
from models.linknet.sql import month_index
from models.org import Agency, AgencyKind, Domain

Counts = dict[tuple[str, int], int]
Counter = Callable[[Session, int, int], Counts]


@dataclass(frozen=True)
class Source:
    key: str
    categories: tuple[str, ...]
    count: Counter
    stock: bool = False
    population: str | None = None  # sources counting the same things have the same total

    @property
    def shape(self) -> Shape:
        return Shape(self.categories, self.stock)


SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    if source.key in SOURCES:
        raise ValueError(f"two Link-net sources named {source.key}")
    SOURCES[source.key] = source
    return source


def _bounds(first: int, last: int):
    return Month.from_index(first).start, Month.from_index(last).end


def _grouped(session: Session, category, when, *conditions, joins=()) -> Counts:
    """SELECT category, month, COUNT(*) … WHERE when in [first, last] GROUP BY both."""
    month = month_index(when)
    query = select(category, month, func.count()).select_from(Case)
    for target, on in joins:
        query = query.join(target, on)
    query = query.where(*conditions).group_by(category, month)
    return {(str(c), int(m)): int(n) for c, m, n in session.exec(query)}


# --- new memos (つなぎメモ) in the month: four breakdowns of one population ------------------

DOMAIN_CATEGORIES = (*[d.value for d in Domain], "multiple", "none")


def _new(session: Session, first: int, last: int, category, joins=()) -> Counts:
    start, end = _bounds(first, last)
    return _grouped(
        session,
        category,
        Case.created_at,
        Case.created_at >= start,
        Case.created_at < end,
        joins=joins,
    )


def _domain_category():
    n = func.json_array_length(Case.domains)
    return case(
        (n == 0, literal("none")),
        (n > 1, literal("multiple")),
        else_=Case.domains[0].as_string(),
    )


register(
    Source(
        "new_domain",
        DOMAIN_CATEGORIES,
        lambda s, a, b: _new(s, a, b, _domain_category()),
        population="new",
    )
)
register(
    Source(
        "new_referrer",
        tuple(k.value for k in AgencyKind),
        lambda s, a, b: _new(
            s, a, b, Agency.kind, joins=[(Agency, Agency.id == Case.referrer_agency_id)]
        ),
        population="new",
    )
)
register(
    Source("new_age", AGE_BANDS, lambda s, a, b: _new(s, a, b, Case.age_band), population="new")
)
register(
    Source(
        "new_urgency",
        tuple(u.value for u in Urgency),
        lambda s, a, b: _new(s, a, b, Case.urgency),
        population="new",
    )
)


# --- acknowledgements (受付) in the month, within the deadline or not --------------------------


def _acks(session: Session, first: int, last: int) -> Counts:
    start, end = _bounds(first, last)
    within = case(
        (
            and_(
                CaseAckDeadline.due_at.is_not(None),
                Case.acknowledged_at <= CaseAckDeadline.due_at,
            ),
            literal("within"),
        ),
        else_=literal("late"),
    )
    month = month_index(Case.acknowledged_at)
    query = (
        select(within, month, func.count())
        .select_from(Case)
        .outerjoin(CaseAckDeadline, CaseAckDeadline.case_id == Case.id)
        .where(Case.acknowledged_at >= start, Case.acknowledged_at < end)
        .group_by(within, month)
    )
    return {(str(c), int(m)): int(n) for c, m, n in session.exec(query)}


register(Source("ack", ("within", "late"), _acks))


# --- closures in the month, by reason -----------------------------------------------------------


def _closures(session: Session, first: int, last: int) -> Counts:
    start, end = _bounds(first, last)
    reason = func.coalesce(CaseEvent.code, literal(CloseReason.other.value))
    month = month_index(CaseEvent.at)
    query = (
        select(reason, month, func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.to_state == CaseState.closed, CaseEvent.at >= start, CaseEvent.at < end)
        .group_by(reason, month)
    )
    return {(str(c), int(m)): int(n) for c, m, n in session.exec(query)}


register(Source("closed", tuple(r.value for r in CloseReason), _closures))


# --- cases by state at the end of the month (closed cases are counted as closures) --------------

STOCK_STATES = tuple(s.value for s in CaseState if s is not CaseState.closed)


def _states_at_month_ends(session: Session, first: int, last: int) -> Counts:
    """Replay every state change up to the end of `last`, grouped by month, in two queries:
    entries into a state and exits from it per month; a month's stock is their running sum."""
    _, end = _bounds(first, last)
    month = month_index(CaseEvent.at)
    moves: dict[int, dict[str, int]] = {}
    for column, sign in ((CaseEvent.to_state, 1), (CaseEvent.from_state, -1)):
        query = (
            select(column, month, func.count())
            .where(column.is_not(None), CaseEvent.at < end)
            .group_by(column, month)
        )
        for state, m, n in session.exec(query):
            moves.setdefault(int(m), {}).setdefault(str(state), 0)
            moves[int(m)][str(state)] += sign * int(n)
    running = dict.fromkeys(STOCK_STATES, 0)
    out: Counts = {}
    months = sorted(moves)
    for m in range(min([*months, first]), last + 1):
        for state, delta in moves.get(m, {}).items():
            if state in running:
                running[state] += delta
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
    from models.linknet.sql import hours_between

    hours = hours_between(Case.created_at, Case.acknowledged_at)
    query = select(hours).where(*where).order_by(hours).limit(2 - n % 2).offset((n - 1) // 2)
    values = [float(v) for v in session.exec(query)]
    return int(n), sum(values) / len(values)


# Sources from the work after intake (meetings, plans, outreach …) register themselves there.
from models.linknet import activity  # noqa: E402, F401
