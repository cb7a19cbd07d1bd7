"""Disclosure control, checked by attackers that do not share the production code.

Case sets are generated (hypothesis) as synthetic micro-data; a series of monthly posts and a
yearly report are decided one after the other against the growing ledger, exactly as in
production (disclosure.suppress with the production identities of sources.relations). Then two
independent attackers try to compute every protected count from everything published:
- `subtraction`: any linear combination of published numbers and identities (row space test);
- `squeeze`: interval propagation — "k未満" and "秘匿" bounds, non-negative counts, identities.
Neither may succeed; and every published label must tell the truth about the hidden count.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.linknet.cells import (
    MIN_K,
    TOTAL,
    Atom,
    Cell,
    Display,
    Shape,
    Shown,
    check_k,
    display_of,
)
from models.linknet.figures import Layout
from models.linknet.periods import Month, Period
from models.linknet.sources import Source, relations
from models.linknet.suppression import suppress

# A small copy of the production structure: two breakdowns of new memos sharing their total,
# acknowledgements, closures, and a stock of open cases by state at each month's end.
SOURCES = {
    "new_domain": Source("new_domain", ("a", "b", "c"), None, population="new"),
    "new_age": Source("new_age", ("young", "old"), None, population="new"),
    "ack": Source("ack", ("within", "late"), None),
    "closed": Source("closed", ("r1", "r2"), None),
    "open_state": Source("open_state", ("received", "open", "suspended"), None, stock=True),
}
SCHEMA = {k: s.shape for k, s in SOURCES.items()}
START = Month(2026, 2)  # the scenario's first month: posts cross the fiscal year (April)


def micro_cases():
    """A case: month received, domain, age, months to acknowledgement, within deadline, and
    whether/when it closes (reason) or is suspended."""
    return st.tuples(
        st.integers(0, 5),  # month received (offset from START)
        st.sampled_from(("a", "b", "c")),
        st.sampled_from(("young", "old")),
        st.one_of(st.none(), st.integers(0, 2)),  # months until acknowledged
        st.booleans(),  # within the deadline
        st.one_of(st.none(), st.tuples(st.integers(0, 3), st.sampled_from(("r1", "r2")))),
        st.booleans(),  # suspended (when open)
    )


def truth_of(cases, months: list[int]) -> dict[Atom, int]:
    """The monthly counts of the micro-data: every identity holds by construction."""
    truth: dict[Atom, int] = {}

    def add(source, category, month, n=1):
        truth[(source, category, month)] = truth.get((source, category, month), 0) + n

    for key, source in SOURCES.items():
        for m in [months[0] - 1, *months]:
            for c in source.categories:
                truth.setdefault((key, c, m), 0)
    for received, domain, age, ack_after, within, closing, suspended in cases:
        m0 = START.index + received
        add("new_domain", domain, m0)
        add("new_age", age, m0)
        acked = None if ack_after is None else m0 + ack_after
        closed = None
        if acked is not None:
            add("ack", "within" if within else "late", acked)
            if closing is not None:
                closed = acked + closing[0]
                add("closed", closing[1], closed)
        for m in months:
            if m < m0 or (closed is not None and m >= closed):
                continue
            if acked is None or m < acked:
                add("open_state", "received", m)
            else:
                add("open_state", "suspended" if suspended else "open", m)
    return {a: v for a, v in truth.items() if months[0] - 1 <= a[2] <= months[-1]}


def post(month: Month) -> Layout:
    return Layout(
        kind="post",
        period=Period.month(month),
        columns=(
            Period.month(month),
            Period.month(month.plus(-1)),
            Period.fiscal_year_to_date(month),
        ),
        trend=tuple(month.plus(-i) for i in range(2, -1, -1)),
    )


def report(last: Month) -> Layout:
    year = Period(Month(last.fiscal_year, 4), last)
    return Layout(kind="report", period=year, columns=(year, year.previous()))


def publish_series(cases, k: int) -> tuple[list[Shown], dict[Atom, int], list[int], list]:
    """Monthly posts for the scenario's months, then the yearly report, each one checked
    against everything published before it."""
    months = list(range(START.index - 2, START.index + 6))
    truth = truth_of(cases, months)
    identities = relations(SOURCES, months)
    ledger: list[Shown] = []
    for offset in range(2, 6):
        layout = post(START.plus(offset))
        decision = suppress(
            SCHEMA,
            layout.cells(SCHEMA),
            ledger=ledger,
            relations=identities,
            truth=truth,
            months=months,
            k=k,
        )
        ledger += decision.shown
    layout = report(START.plus(5))
    decision = suppress(
        SCHEMA,
        layout.cells(SCHEMA),
        ledger=ledger,
        relations=identities,
        truth=truth,
        months=months,
        k=k,
    )
    ledger += decision.shown
    return ledger, truth, months, identities


# --- the independent attackers ----------------------------------------------------------------


def atoms(cell: Cell) -> list[Atom]:
    shape = SCHEMA[cell.source]
    cats = shape.categories if cell.category == TOTAL else (cell.category,)
    return [(cell.source, c, m) for c in cats for m in range(cell.first, cell.last + 1)]


def value(cell: Cell, truth) -> int:
    return sum(truth.get(a, 0) for a in atoms(cell))


def must_stay_hidden(ledger, truth, months, k) -> set[Cell]:
    """Small counts: published as "k未満", and every one-month count never published as a
    number (a difference of two published figures may not reveal it either)."""
    exact = {s.cell for s in ledger if s.display is Display.value}
    every_month = {
        Cell(source, c, m, m)
        for source, shape in SCHEMA.items()
        for c in (*shape.categories, TOTAL)
        for m in months
    }
    cells = {s.cell for s in ledger} | every_month
    return {c for c in cells if c not in exact and 1 <= value(c, truth) < k}


def equations(ledger, identities) -> tuple[list[Atom], np.ndarray]:
    rows: list[dict[Atom, int]] = [dict(r.terms) for r in identities]
    rows += [dict.fromkeys(atoms(s.cell), 1) for s in ledger if s.display is Display.value]
    index = sorted({a for r in rows for a in r})
    position = {a: i for i, a in enumerate(index)}
    matrix = np.zeros((len(rows), len(index)))
    for i, r in enumerate(rows):
        for a, c in r.items():
            matrix[i, position[a]] += c
    return index, matrix


def subtraction(ledger, truth, months, identities, k) -> list[Cell]:
    """Cells that are a linear combination of published numbers and identities."""
    held = [r for r in identities if sum(truth.get(a, 0) * c for a, c in r.terms) == 0]
    index, matrix = equations(ledger, held)
    position = {a: i for i, a in enumerate(index)}
    rank = np.linalg.matrix_rank(matrix) if len(matrix) else 0
    found = []
    for cell in must_stay_hidden(ledger, truth, months, k):
        if any(a not in position for a in atoms(cell)):
            continue  # an atom in no equation: free
        row = np.zeros(len(index))
        for a in atoms(cell):
            row[position[a]] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, row])) == rank:
            found.append(cell)
    return found


def squeeze(ledger, truth, months, identities, k) -> list[Cell]:
    """Interval propagation over the atoms, from every published bound and identity."""
    held = [r for r in identities if sum(truth.get(a, 0) * c for a, c in r.terms) == 0]
    big = 10**6
    constraints = [(dict(r.terms), 0, 0) for r in held]
    for s in ledger:
        vec = dict.fromkeys(atoms(s.cell), 1)
        if s.display is Display.value:
            constraints.append((vec, s.value, s.value))
        elif s.display is Display.below_k:
            constraints.append((vec, 1, s.k - 1))
        else:
            constraints.append((vec, s.k, big))
    lo: dict[Atom, float] = {}
    hi: dict[Atom, float] = {}
    for vec, _, _ in constraints:
        for a in vec:
            lo.setdefault(a, 0)
            hi.setdefault(a, big)
    for _ in range(60):
        changed = False
        for vec, low, high in constraints:
            mins = {a: min(c * lo[a], c * hi[a]) for a, c in vec.items()}
            maxs = {a: max(c * lo[a], c * hi[a]) for a, c in vec.items()}
            total_min, total_max = sum(mins.values()), sum(maxs.values())
            for a, c in vec.items():
                rest_min, rest_max = total_min - mins[a], total_max - maxs[a]
                a_lo, a_hi = (low - rest_max) / c, (high - rest_min) / c
                if c < 0:
                    a_lo, a_hi = a_hi, a_lo
                new_lo, new_hi = max(lo[a], np.ceil(a_lo - 1e-9)), min(hi[a], np.floor(a_hi + 1e-9))
                if new_lo > lo[a] or new_hi < hi[a]:
                    lo[a], hi[a] = new_lo, new_hi
                    changed = True
        if not changed:
            break
    found = []
    for cell in must_stay_hidden(ledger, truth, months, k):
        cell_atoms = atoms(cell)
        if all(a in lo for a in cell_atoms):
            low = sum(lo[a] for a in cell_atoms)
            high = sum(hi[a] for a in cell_atoms)
            if low == high:
                found.append(cell)
    return found


# --- properties ---------------------------------------------------------------------------------

SETTINGS = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETTINGS
@given(cases=st.lists(micro_cases(), max_size=70), k=st.sampled_from((3, 5, 10)))
def test_no_published_cell_is_a_small_number(cases, k):
    ledger, truth, _, _ = publish_series(cases, k)
    for s in ledger:
        v = value(s.cell, truth)
        if s.display is Display.value:
            assert s.value == v, s  # a number shown is the true count …
            assert v == 0 or v >= k, s  # … and never 1 … k-1
        elif s.display is Display.below_k:
            assert 1 <= v < k, s  # "k未満" tells the truth
        else:
            assert v >= k, s  # "秘匿" is only ever a count of k or more


@SETTINGS
@given(cases=st.lists(micro_cases(), max_size=70), k=st.sampled_from((3, 5, 10)))
def test_no_hidden_count_follows_by_subtraction_or_bounds(cases, k):
    ledger, truth, months, identities = publish_series(cases, k)
    assert subtraction(ledger, truth, months, identities, k) == []
    assert squeeze(ledger, truth, months, identities, k) == []


# --- the attackers do find what an unprotected publication gives away ---------------------------


def test_the_checkers_catch_a_naive_publication():
    """Without secondary suppression, FYTD(May) − FYTD(April) gives May's hidden count away."""
    cases = [(2, "a", "old", 0, True, None, False)] * 12 + [(3, "a", "old", 0, True, None, False)]
    months = list(range(START.index - 2, START.index + 6))
    truth = truth_of(cases, months)
    naive = []
    for layout in (post(START.plus(2)), post(START.plus(3))):
        for cell in layout.cells(SCHEMA):
            v = value(cell, truth)
            display = display_of(v, 10)
            naive.append(Shown(cell, display, v if display is Display.value else None, 10))
    identities = relations(SOURCES, months)
    may = Cell("new_domain", "a", START.plus(3).index, START.plus(3).index)
    assert may in subtraction(naive, truth, months, identities, 10)
    assert may in squeeze(naive, truth, months, identities, 10)


def test_two_small_cells_that_sum_to_two_are_caught():
    """p + q = 2 with both "k未満" means both are 1: the squeeze attacker sees it."""
    schema_cells = [Cell("new_age", c, START.index, START.index) for c in ("young", "old", TOTAL)]
    ledger = [
        Shown(schema_cells[0], Display.below_k, None, 10),
        Shown(schema_cells[1], Display.below_k, None, 10),
        Shown(schema_cells[2], Display.value, 2, 10),
    ]
    truth = {("new_age", "young", START.index): 1, ("new_age", "old", START.index): 1}
    assert set(squeeze(ledger, truth, [START.index], [], 10)) >= set(schema_cells[:2])


def test_suppress_protects_that_case():
    truth = {("new_age", "young", START.index): 1, ("new_age", "old", START.index): 1}
    for c in ("a", "b", "c"):
        truth[("new_domain", c, START.index)] = 0
    truth[("new_domain", "a", START.index)] = 2
    cells = [Cell("new_age", c, START.index, START.index) for c in ("young", "old", TOTAL)]
    decision = suppress(
        {"new_age": SCHEMA["new_age"]},
        cells,
        ledger=[],
        relations=[],
        truth=truth,
        months=[START.index],
        k=10,
    )
    shown = {s.cell.category: s.display for s in decision.shown}
    assert shown == {"young": Display.below_k, "old": Display.below_k, TOTAL: Display.below_k}


@pytest.mark.parametrize("k", [0, 1, 2, -5, 2.5, "10"])
def test_k_below_three_is_refused(k):
    with pytest.raises(ValueError):
        check_k(k)
    assert MIN_K == 3


def test_a_stock_cell_covers_one_month_only():
    from models.linknet.cells import atoms_of

    with pytest.raises(ValueError):
        atoms_of({"s": Shape(("x",), stock=True)}, Cell("s", "x", 1, 2))
