"""Disclosure control for the Link-net figures: which counts may be shown, and a proof for the rest.

Data model
    An *atom* is one internal count: (source, category, month) — e.g. new memos of the elderly
    domain received in 2026-10. Atoms are frozen in the ledger the first time a publication
    uses them, so a month's figures never change between posts (a revision would itself reveal
    the few cases that changed). A *cell* is what a table shows: the sum of a source's atoms
    over one category (or all: the total, `TOTAL`) and a run of whole months (a month, the fiscal
    year to date, a fiscal year); a stock source (cases by state at a month's end) has cells of
    one month only. Counts only: no other kind of figure enters this module.

Display rule (a function of the value alone, so the label tells nothing else)
    0 → "0";  1 … k-1 → "k未満" (primary suppression);  ≥ k → the number, or "秘匿" when the
    cell is chosen for secondary suppression. Hence, publicly: "k未満" ⇒ 1 ≤ x ≤ k-1 and
    "秘匿" ⇒ x ≥ k. k is at least 3 (MIN_K), by default 10. A source of events that are not
    people (meetings: `Shape.exact`) is shown exactly: its cells are never protected nor hidden
    (it shares no identity with the sources about people, so it tells nothing about them).

The attacker
    knows every cell ever published (the ledger: every earlier post and report, plus the one
    being prepared), the display rule above, that counts are non-negative integers, and the
    structural identities between sources (`Relation`s: e.g. the four breakdowns of new memos
    have the same total; open cases at the end of a month = open cases a month before + new −
    closed). A count is *disclosed* when every integer data set consistent with all of that gives
    it the same value.

Protected cells
    Every published cell with a value 1 … k-1, and every one-month cell (each source, each
    category and the total, each month of the window) with such a value even if it was never
    published itself — so FYTD(October) − FYTD(September), or a report's year total minus the
    posts' months, cannot reveal a suppressed month. Cells that were already shown as a number
    (say under a smaller k) are lost already and are not counted again.

Audit (`audit`) — the proof
    The attacker's knowledge is an integer linear system: equalities for numbers shown and for
    identities, bounds for "k未満" / "秘匿", x ≥ 0. A protected cell with true value v is safe
    iff some feasible integer data set gives it a value ≠ v. The true data is one feasible point;
    the audit keeps a pool of feasible integer points (witnesses) and, for each protected cell
    not already moved by a witness, solves two small MILPs (HiGHS via scipy): max and min of the
    cell. Either a witness with value ≠ v is found — a certificate that the cell cannot be
    computed from what was published — or the cell is disclosed. Witnesses stay valid when
    more cells are hidden (hiding only removes constraints), so they are reused across rounds.

Suppression (`suppress`)
    1. Primary: cells with 1 … k-1 become "k未満"; cells known from the ledger stay as they were.
    2. Audit. For each disclosed cell, hide (secondary, "秘匿") one number ≥ k of the new
       publication: first among the numbers its disclosure rests on (the rows with non-zero
       duals in the LP that pinned it), else among the cells linked to it (sharing an atom,
       directly, through an identity or through a published cell), preferring its own table and
       period and the smallest value. Repeat until the audit passes.
    3. If nothing hideable is left, withhold whole sources from the new publication (they are
       then not shown at all), and finally everything new. A publication that adds nothing is
       as safe as the ledger was, so the loop always ends safe. Disclosures that the ledger
       alone already implies (k raised later, or data imported) cannot be undone: they are
       reported, not blamed on the new publication.
    4. Finally each secondary cell is tried back, largest first, and shown again if the audit
       still passes — so no more is hidden than the proof needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import import_module

from models.linknet.cells import (
    Atom,
    Cell,
    Display,
    Relation,
    Schema,
    Shown,
    atoms_of,
    monthly_cells,
    value_of,
)


class _OnFirstUse:
    """A module imported when first used: numpy and scipy only load when figures are audited,
    so the bot starts fast and small (most requests never touch Link-net)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(import_module(self._name), attr)


np = _OnFirstUse("numpy")
optimize = _OnFirstUse("scipy.optimize")
sparse = _OnFirstUse("scipy.sparse")
csgraph = _OnFirstUse("scipy.sparse.csgraph")


# --------------------------------------------------------------------------------------------
# The attacker's linear system


@dataclass
class _System:
    index: dict[Atom, int]
    rows: list[dict[int, int]] = field(default_factory=list)
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    origin: list[Cell | None] = field(default_factory=list)  # the shown cell behind a row

    def var(self, atom: Atom) -> int:
        if atom not in self.index:
            self.index[atom] = len(self.index)
        return self.index[atom]

    def add(self, coeffs: dict[int, int], lo: float, hi: float, origin: Cell | None) -> None:
        self.rows.append(coeffs)
        self.lower.append(lo)
        self.upper.append(hi)
        self.origin.append(origin)

    def vector(self, schema: Schema, cell: Cell) -> dict[int, int]:
        return {self.var(a): 1 for a in atoms_of(schema, cell)}


def _build(schema: Schema, shown: Sequence[Shown], relations: Sequence[Relation]) -> _System:
    system = _System(index={})
    for relation in relations:
        coeffs: dict[int, int] = {}
        for atom, coefficient in relation.terms:
            j = system.var(atom)
            coeffs[j] = coeffs.get(j, 0) + coefficient
        system.add({j: c for j, c in coeffs.items() if c}, 0, 0, None)
    for s in shown:
        vec = system.vector(schema, s.cell)
        if s.display is Display.value:
            system.add(vec, s.value, s.value, s.cell)
        elif s.display is Display.below_k:
            system.add(vec, 1, s.k - 1, s.cell)
        else:
            system.add(vec, s.k, np.inf, s.cell)
    return system


@dataclass
class AuditResult:
    disclosed: list[Cell]  # protected cells whose value follows from what was published
    checked: int  # protected cells examined
    solves: int  # integer programs solved (the rest were settled by earlier certificates)
    # For a disclosed cell: the shown numbers its value follows from (the LP's binding rows).
    blame: dict[Cell, set[Cell]] = field(default_factory=dict)


@dataclass
class _Block:
    """Independent blocks of the system, as one LP: global indexes of their atoms and rows."""

    cols: np.ndarray
    rows_eq: np.ndarray  # the LP's equality rows, as rows of the system
    rows_ub: np.ndarray  # its inequality rows (upper bounds, then lower bounds negated)
    matrix: object  # the blocks' rows × atoms (for the MILP)
    lower: np.ndarray
    upper: np.ndarray
    lp: dict


class Witnesses:
    """Feasible integer data sets found so far (certificates), kept across audit rounds."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self.items: list[tuple[tuple[Atom, ...], np.ndarray]] = []

    def add(self, atoms: tuple[Atom, ...], x: np.ndarray) -> None:
        self.items.append((atoms, x))
        del self.items[: -self.limit]

    def as_rows(self, atoms: tuple[Atom, ...], fill: np.ndarray) -> list[np.ndarray]:
        """Every witness as a vector over `atoms`; atoms it does not know keep `fill`."""
        out = []
        position = None
        for their_atoms, x in self.items:
            if their_atoms == atoms:
                out.append(x)
                continue
            if position is None:
                position = {a: j for j, a in enumerate(atoms)}
            y = fill.copy()
            for i, a in enumerate(their_atoms):
                j = position.get(a)
                if j is not None:
                    y[j] = x[i]
            out.append(y)
        return out


class Auditor:
    """Answers "can this cell be computed from what was published?" with certificates."""

    def __init__(
        self,
        schema: Schema,
        shown: Sequence[Shown],
        relations: Sequence[Relation],
        truth: Mapping[Atom, int],
        *,
        witnesses: Witnesses | None = None,
    ) -> None:
        self.schema = schema
        self.truth = truth
        self.system = _build(schema, shown, relations)
        self.witnesses = witnesses if witnesses is not None else Witnesses()

    def _prepare(self, cells: Sequence[Cell]) -> None:
        for cell in cells:
            self.system.vector(self.schema, cell)  # make sure every atom has a variable
        n = len(self.system.index)
        atoms: list[Atom] = [("", "", 0)] * n
        for atom, j in self.system.index.items():
            atoms[j] = atom
        self.atoms = tuple(atoms)
        self.x_true = np.array([self.truth.get(a, 0) for a in self.atoms], dtype=float)
        rows, cols, vals = [], [], []
        for i, coeffs in enumerate(self.system.rows):
            for j, c in coeffs.items():
                rows.append(i)
                cols.append(j)
                vals.append(c)
        m = len(self.system.rows)
        self.lower = np.array(self.system.lower, dtype=float)
        self.upper = np.array(self.system.upper, dtype=float)
        self._matrix = sparse.csr_array((vals, (rows, cols)), shape=(m, n)) if m else None
        if not self._feasible(self.x_true):
            raise ValueError("the true data contradicts what was published (ledger mismatch)")
        if self._matrix is not None:
            # Atoms tied by no row, directly or through others, do not constrain each other:
            # the system splits into independent blocks (a source, or the sources an identity
            # links). A cell is decided within its block(s), the other atoms staying at their
            # true values — smaller programs, and integral far more often.
            pattern = sparse.csr_array(abs(self._matrix) > 0, dtype=float)
            _, self._labels = csgraph.connected_components(pattern.T @ pattern, directed=False)
            first_atom = pattern.argmax(axis=1)
            has_atom = np.asarray(pattern.sum(axis=1)).ravel() > 0
            self._row_labels = np.where(has_atom, self._labels[first_atom], -1)
        self._blocks: dict[tuple[int, ...], _Block] = {}
        big = max(10_000.0, 10.0 * float(self.x_true.sum()) + 10.0)
        self.bounds = optimize.Bounds(np.zeros(n), np.full(n, big))
        # Witnesses of an earlier round stay certificates only if they fit today's constraints
        # (showing a cell again adds one).
        self.pool = [
            w for w in self.witnesses.as_rows(self.atoms, self.x_true) if self._feasible(w)
        ]

    def _feasible(self, x: np.ndarray) -> bool:
        if self._matrix is None:
            return True
        got = self._matrix @ x
        return bool(np.all(got >= self.lower - 1e-6) and np.all(got <= self.upper + 1e-6))

    def _block(self, objective: np.ndarray) -> _Block:
        """The atoms and rows of the blocks the objective touches, with their LP."""
        labels = tuple(np.unique(self._labels[np.flatnonzero(objective)]))
        if labels in self._blocks:
            return self._blocks[labels]
        cols = np.flatnonzero(np.isin(self._labels, labels))
        rows = np.flatnonzero(np.isin(self._row_labels, labels))
        matrix = self._matrix[rows][:, cols]
        lower, upper = self.lower[rows], self.upper[rows]
        eq = lower == upper
        up = ~eq & np.isfinite(upper)
        low = ~eq & np.isfinite(lower)
        block = _Block(
            cols=cols,
            rows_eq=rows[eq],
            rows_ub=np.concatenate([rows[up], rows[low]]),
            matrix=matrix,
            lower=lower,
            upper=upper,
            lp={
                "A_eq": matrix[eq] if eq.any() else None,
                "b_eq": lower[eq] if eq.any() else None,
                "A_ub": sparse.vstack([matrix[up], -matrix[low]])
                if up.any() or low.any()
                else None,
                "b_ub": np.concatenate([upper[up], -lower[low]]) if up.any() or low.any() else None,
            },
        )
        self._blocks[labels] = block
        return block

    def _solve(self, objective: np.ndarray, *, exact: bool = True) -> np.ndarray | None:
        """An optimal integer point: the LP's vertex when it is integral (the usual case: the
        tables' constraint matrices are close to totally unimodular), else the MILP's — or,
        when not `exact`, None (a seed only looks for certificates; it proves nothing)."""
        if self._matrix is None:
            cols, bounds, constraints = np.arange(len(objective)), self.bounds, []
        else:
            block = self._block(objective)
            cols = block.cols
            lb, ub = self.bounds.lb[cols], self.bounds.ub[cols]
            lp = optimize.linprog(
                objective[cols],
                bounds=np.column_stack([lb, ub]),
                method="highs-ds",
                **block.lp,
            )
            self.last_lp = (lp, block) if lp.status == 0 else None
            if lp.status == 0 and np.all(np.abs(lp.x - np.round(lp.x)) < 1e-7):
                x = self.x_true.copy()
                x[cols] = np.round(lp.x)
                if self._feasible(x):
                    self.witnesses.add(self.atoms, x)
                    return x
            bounds = optimize.Bounds(lb, ub)
            constraints = (
                [optimize.LinearConstraint(block.matrix, block.lower, block.upper)]
                if len(block.lower)
                else []
            )
        if not exact:
            return None
        result = optimize.milp(
            objective[cols],
            constraints=constraints,
            integrality=np.ones(len(cols)),
            bounds=bounds,
            options={"presolve": True, "time_limit": 60},
        )
        if result.x is None:
            raise RuntimeError(f"disclosure audit: the solver gave no answer ({result.message})")
        x = self.x_true.copy()
        x[cols] = np.round(result.x)
        self.witnesses.add(self.atoms, x)
        return x

    def audit(self, protect: Iterable[Cell]) -> AuditResult:
        protect = sorted(set(protect))
        self._prepare(protect)
        if not protect:
            return AuditResult([], 0, 0)
        self.last_lp = None
        rows, cols = [], []
        for i, cell in enumerate(protect):
            for a in atoms_of(self.schema, cell):
                rows.append(i)
                cols.append(self.system.index[a])
        d = sparse.csr_array(
            (np.ones(len(rows)), (rows, cols)), shape=(len(protect), len(self.atoms))
        )
        v = d @ self.x_true
        moved = np.zeros(len(protect), dtype=bool)
        solves = 0

        def take(x: np.ndarray | None) -> None:
            nonlocal moved
            if x is not None:
                moved |= np.abs(d @ x - v) >= 0.5

        for w in self.pool:
            take(w)
        # Seed with points far from the truth that move many cells at once.
        rng = np.random.default_rng(7)
        for _ in range(4):
            pending = np.flatnonzero(~moved)
            if len(pending) <= 4:
                break
            weights = np.zeros(len(protect))
            signs = rng.choice((-1, 1), len(pending))
            weights[pending] = rng.uniform(0.5, 1.5, len(pending)) * signs
            take(self._solve(weights @ d, exact=False))
            solves += 1
        disclosed = []
        blames: dict[Cell, set[Cell]] = {}
        for i, cell in enumerate(protect):
            if moved[i]:
                continue
            direction = d[[i], :].toarray().ravel()
            take(self._solve(-direction))  # maximise
            solves += 1
            if moved[i]:
                continue
            blame = self._binding()
            take(self._solve(direction))  # minimise
            solves += 1
            if not moved[i]:
                disclosed.append(cell)
                blames[cell] = blame | self._binding()
        return AuditResult(disclosed, len(protect), solves, blames)

    def _binding(self) -> set[Cell]:
        """The shown cells whose rows carry the last LP's optimality proof (nonzero duals)."""
        last = getattr(self, "last_lp", None)
        if last is None or self._matrix is None:
            return set()
        lp, block = last
        out: set[Cell] = set()
        for rows, marginals in (
            (block.rows_eq, getattr(lp.eqlin, "marginals", None) if lp.eqlin else None),
            (block.rows_ub, getattr(lp.ineqlin, "marginals", None) if lp.ineqlin else None),
        ):
            if marginals is None:
                continue
            for r, y in zip(rows, marginals, strict=False):
                if abs(y) > 1e-9 and self.system.origin[r] is not None:
                    out.add(self.system.origin[r])
        return out


def protected_cells(
    schema: Schema,
    shown: Sequence[Shown],
    truth: Mapping[Atom, int],
    *,
    months: Iterable[int],
    k: int,
    values: dict[Cell, int] | None = None,
) -> set[Cell]:
    """The cells that must not be computable: small published cells and small months.
    (`values`: the cells' values known already, filled as they are computed.)"""
    exact = {s.cell for s in shown if s.display is Display.value}
    candidates = {s.cell for s in shown} | set(monthly_cells(schema, months))
    known = {} if values is None else values
    small = set()
    for c in candidates - exact:
        if schema[c.source].exact:
            continue  # meetings are not people: their counts protect nobody
        if c not in known:
            known[c] = value_of(schema, c, truth)
        if 1 <= known[c] <= k - 1:
            small.add(c)
    return small


def audit(
    schema: Schema,
    shown: Sequence[Shown],
    relations: Sequence[Relation],
    truth: Mapping[Atom, int],
    *,
    months: Iterable[int],
    k: int,
) -> AuditResult:
    """Is any protected cell computable from `shown` (ledger and new) and the identities?"""
    protect = protected_cells(schema, shown, truth, months=months, k=k)
    return Auditor(schema, shown, relations, truth).audit(protect)


# --------------------------------------------------------------------------------------------
# Choosing what to hide
