"""The one aggregation core behind the Link-net post, its preview and the yearly report.

    layout  = post_layout(month)  |  report_layout(fy, now=…)       what is shown, per period
    draft   = make_draft(session, layout, k=…, now=…)              counts (SQL) + disclosure control
    publication = publish(session, draft, key=…, at=…, by_id=…)    into the ledger (then render it)

A draft computes every monthly count of the window (the first memo's month up to the layout's
last month) with GROUP BY in the database, replaces counts already frozen in the ledger by their
frozen values, and lets disclosure.suppress decide how each cell may be shown, against the whole
ledger. Rendering (handlers/linknet/views.py) reads the ledger, never the counts: what was
published is exactly what is shown — the chart included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from models.base import offload
from models.base.errors import DomainError
from models.linknet import (
    activity,  # noqa: F401  (registers the sources after intake)
    ledger,
)
from models.linknet.cells import (
    DEFAULT_K,
    MIN_K,
    TOTAL,
    Atom,
    Cell,
    Display,
    Schema,
    Shown,
    value_of,
)
from models.linknet.periods import Month, Period, last_complete_month, require_complete
from models.linknet.sources import SOURCES, first_month, median_ack_hours, relations
from models.linknet.suppression import Decision, suppress
from models.org.roster import setting

TREND_MONTHS = 12
TREND_SOURCE = "new_domain"


def linknet_k(session: Session) -> int:
    """k from the org file's [linknet] section (k = …), default 10, never below 3."""
    configured = (setting(session, "linknet", {}) or {}).get("k", DEFAULT_K)
    if not isinstance(configured, int) or configured < MIN_K:
        raise DomainError("linknet.bad_k", minimum=MIN_K)
    return configured


@dataclass(frozen=True)
class Layout:
    kind: str  # post | report
    period: Period  # what the publication is about (a month; a fiscal year to date)
    columns: tuple[Period, ...]  # shown side by side
    trend: tuple[Month, ...] = ()  # the chart's months (posts)

    def cells(self, schema: Schema) -> list[Cell]:
        out: list[Cell] = []
        for source, shape in schema.items():
            for column in self.columns:
                if shape.stock and column.length != 1:
                    continue  # a stock is a month's end: the fiscal-year column does not apply
                for category in (*shape.categories, TOTAL):
                    out.append(Cell(source, category, column.first.index, column.last.index))
        if TREND_SOURCE in schema:
            for m in self.trend:
                for category in (*schema[TREND_SOURCE].categories, TOTAL):
                    out.append(Cell(TREND_SOURCE, category, m.index, m.index))
        return list(dict.fromkeys(out))

    @property
    def months(self) -> list[int]:
        indexes = [m.index for p in self.columns for m in (p.first, p.last)]
        return indexes + [m.index for m in self.trend]


def post_layout(month: Month) -> Layout:
    """The monthly post: the month, the month before, the fiscal year to date; 12-month trend."""
    return Layout(
        kind="post",
        period=Period.month(month),
        columns=(
            Period.month(month),
            Period.month(month.plus(-1)),
            Period.fiscal_year_to_date(month),
        ),
        trend=tuple(month.plus(-i) for i in range(TREND_MONTHS - 1, -1, -1)),
    )


def report_layout(fy: int, *, now: datetime) -> Layout:
    """The yearly report: the fiscal year (up to the last month over) and the year before."""
    year = Period.fiscal_year(fy)
    latest = last_complete_month(now)
    if year.first > latest:
        raise DomainError("linknet.year_not_started", fy=fy)
    current = Period(year.first, min(year.last, latest))
    before = Period.fiscal_year(fy - 1)
    return Layout(kind="report", period=current, columns=(current, before))


def schema() -> Schema:
    return {key: source.shape for key, source in SOURCES.items()}


@dataclass
class Draft:
    layout: Layout
    k: int
    cells: dict[Cell, Shown]
    withheld: set[str]
    measures: dict[tuple[str, int, int], float]
    truth: dict[Atom, int] = field(repr=False)  # internal: frozen into the ledger on publish
    inherited: list[Cell] = field(default_factory=list)
    ledger_head: int = 0  # the ledger it was decided against (ledger.head)
    start: int | None = None  # the month of the first memo (before it: no figure, not 0)

    def get(self, cell: Cell) -> Shown | None:
        return self.cells.get(cell)


def window(session: Session, layout: Layout, shown: list[Shown]) -> list[int]:
    """Every month from the system's start to the latest month shown (ledger included)."""
    months = layout.months + [m for s in shown for m in (s.cell.first, s.cell.last)]
    start = first_month(session)
    first = min([*months, start] if start is not None else months)
    return list(range(first, max(months) + 1))


def counts(session: Session, months: list[int]) -> dict[Atom, int]:
    """Every atom of the window (and the month before it), from the data; then the frozen ones.

    A month whose atoms are all frozen already is not counted again: its frozen values win
    anyway. So a post counts the months not published yet, not the whole history again; a stock
    (a month's end, replayed from the start) is counted unless every month of it is frozen."""
    first, last = months[0] - 1, months[-1]
    frozen = ledger.frozen_atoms(session)
    truth: dict[Atom, int] = {}
    for source in SOURCES.values():
        for m in range(first, last + 1):
            for c in source.categories:
                truth[(source.key, c, m)] = 0
        todo = [
            m
            for m in range(first, last + 1)
            if any((source.key, c, m) not in frozen for c in source.categories)
        ]
        if not todo:
            continue
        span = (first, last) if source.stock else (todo[0], todo[-1])
        for (category, m), n in source.count(session, *span).items():
            if category in source.categories:  # an unknown code is not published
                truth[(source.key, category, m)] = n
    truth.update({a: v for a, v in frozen.items() if a[0] in SOURCES})
    return truth


def make_draft(session: Session, layout: Layout, *, k: int, now: datetime) -> Draft:
    require_complete(layout.period, now)
    for column in layout.columns:
        if column.last > layout.period.last:
            raise DomainError("linknet.month_not_over", month=str(column.last))
    sch = schema()
    head = ledger.head(session)
    published = [s for s in ledger.shown_cells(session) if s.cell.source in sch]
    months = window(session, layout, published)
    truth = counts(session, months)
    # In a child process when the bot runs: numpy and scipy then never stay in its memory.
    decision: Decision = offload.run(
        suppress,
        sch,
        layout.cells(sch),
        ledger=published,
        relations=relations(SOURCES, months),
        truth=truth,
        months=months,
        k=k,
    )
    cells = {s.cell: s for s in decision.shown}
    measures: dict[tuple[str, int, int], float] = {}
    if "ack" in SOURCES:
        for column in layout.columns:
            total = cells.get(Cell("ack", TOTAL, column.first.index, column.last.index))
            if total is None or total.display is not Display.value or total.value < k:
                continue  # a median of fewer than k is not shown
            n, hours = median_ack_hours(session, column.first.index, column.last.index)
            if hours is not None and n == total.value:
                measures[("ack_median_hours", column.first.index, column.last.index)] = hours
    return Draft(
        layout=layout,
        k=k,
        cells=cells,
        withheld=decision.withheld,
        measures=measures,
        truth={a: v for a, v in truth.items() if months[0] - 1 <= a[2] <= months[-1]},
        inherited=decision.inherited,
        ledger_head=head,
        start=first_month(session),
    )


def publish(
    session: Session, draft: Draft, *, key: str, at: datetime, by_id: int | None
) -> ledger.LinknetPublication:
    """Record the draft as published (cells as shown, frozen counts) in this transaction."""
    ledger.freeze(session, draft.truth, at=at)
    return ledger.record(
        session,
        key=key,
        kind=draft.layout.kind,
        first=draft.layout.period.first.index,
        last=draft.layout.period.last.index,
        k=draft.k,
        cells=list(draft.cells.values()),
        measures=draft.measures,
        withheld=draft.withheld,
        at=at,
        by_id=by_id,
    )


@dataclass(frozen=True)
class Published:
    """A publication as recorded: what the renderers and the report writer read."""

    kind: str
    period: Period
    k: int
    cells: dict[Cell, Shown]
    measures: dict[tuple[str, int, int], float]
    withheld: frozenset[str]
    created_at: datetime | None = None
    # The month index of the first memo: months before it are shown as "—", never as 0.
    start: int | None = None

    def before_start(self, period: Period) -> bool:
        """The whole period lies before the system's first record (nothing to count there)."""
        return self.start is None or period.last.index < self.start

    def from_start(self, period: Period) -> Period:
        """The part of the period from the system's first record on (the period itself when
        it began earlier or nothing was recorded)."""
        if self.start is None or period.first.index >= self.start or self.before_start(period):
            return period
        return Period(Month.from_index(self.start), period.last)

    def get(self, cell: Cell) -> Shown | None:
        return self.cells.get(cell)

    @property
    def layout(self) -> Layout:
        if self.kind == "post":
            return post_layout(self.period.last)
        before = Period.fiscal_year(self.period.first.fiscal_year - 1)
        return Layout(kind=self.kind, period=self.period, columns=(self.period, before))


def published(session: Session, publication_id: int) -> Published:
    row = session.get(ledger.LinknetPublication, publication_id)
    if row is None:
        raise DomainError("linknet.not_found")
    cells = {s.cell: s for s in ledger.shown_cells(session, publication_id=publication_id)}
    return Published(
        kind=row.kind,
        period=Period(Month.from_index(row.first), Month.from_index(row.last)),
        k=row.k,
        cells=cells,
        measures=ledger.measures_of(session, publication_id),
        withheld=frozenset(w for w in row.withheld.split(",") if w),
        created_at=row.created_at,
        start=first_month(session),
    )


def exact(session: Session, layout: Layout, *, now: datetime) -> Published:
    """Every cell of the layout as its exact count, for internal use only: not recorded in the
    ledger, never posted (the report's --internal, given by an admin)."""
    require_complete(layout.period, now)
    sch = schema()
    months = window(session, layout, [])
    truth = counts(session, months)
    cells = {c: Shown(c, Display.value, value_of(sch, c, truth), 0) for c in layout.cells(sch)}
    return Published(
        kind=layout.kind,
        period=layout.period,
        k=0,
        cells=cells,
        measures={},
        withheld=frozenset(),
        start=first_month(session),
    )


def as_published(draft: Draft) -> Published:
    """A draft seen as it would be published (the preview)."""
    return Published(
        kind=draft.layout.kind,
        period=draft.layout.period,
        k=draft.k,
        cells=dict(draft.cells),
        measures=dict(draft.measures),
        withheld=frozenset(draft.withheld),
        start=draft.start,
    )
