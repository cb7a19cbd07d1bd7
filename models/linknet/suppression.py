"""Which cells to hide: the small ones, and enough others that no hidden cell can be worked out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.linknet.cells import (
    TOTAL,
    Atom,
    Cell,
    Display,
    Relation,
    Schema,
    Shown,
    atoms_of,
    check_k,
    display_of,
    value_of,
)
from models.linknet.disclosure import Auditor, Witnesses, protected_cells


@dataclass
class Decision:
    shown: list[Shown]  # the new publication's cells, as they may be published
    withheld: set[str]  # sources left out of the new publication entirely
    inherited: list[Cell]  # disclosures the ledger alone already implied (not fixable now)
    rounds: int


def _holds(relation: Relation, truth: Mapping[Atom, int]) -> bool:
    return sum(truth.get(a, 0) * c for a, c in relation.terms) == 0


def suppress(
    schema: Schema,
    candidate: Sequence[Cell],
    *,
    ledger: Sequence[Shown],
    relations: Sequence[Relation],
    truth: Mapping[Atom, int],
    months: Iterable[int],
    k: int,
) -> Decision:
    """Decide how each candidate cell is shown so that no protected cell can be computed."""
    check_k(k)
    months = list(months)
    relations = [r for r in relations if _holds(r, truth)]
    known = {s.cell: s for s in ledger if s.display is Display.value}
    values = {c: value_of(schema, c, truth) for c in candidate}
    state: dict[Cell, Shown] = {}
    for cell in dict.fromkeys(candidate):
        if cell in known:
            state[cell] = Shown(cell, Display.value, known[cell].value, k)
        elif schema[cell.source].exact:
            state[cell] = Shown(cell, Display.value, values[cell], k)  # meetings: exact
        else:
            v = values[cell]
            state[cell] = Shown(cell, display_of(v, k), v if v == 0 or v >= k else None, k)
    withheld: set[str] = set()
    witnesses = Witnesses()
    inherited: set[Cell] | None = None

    def current() -> list[Shown]:
        return [s for s in state.values() if s.cell.source not in withheld]

    blame: dict[Cell, set[Cell]] = {}
    sizes: dict[Cell, int] = {}  # the value of each cell looked at, computed once

    def run() -> list[Cell]:
        nonlocal inherited
        shown = [*ledger, *current()]
        protect = protected_cells(schema, shown, truth, months=months, k=k, values=sizes)
        protect -= inherited or set()
        result = Auditor(schema, shown, relations, truth, witnesses=witnesses).audit(protect)
        blame.clear()
        blame.update(result.blame)
        if not result.disclosed:
            return []
        if inherited is None:  # what the ledger alone gives away is not ours to fix
            base = protected_cells(schema, ledger, truth, months=months, k=k, values=sizes)
            base |= protect
            found = Auditor(schema, list(ledger), relations, truth).audit(base)
            inherited = set(found.disclosed)
        return [c for c in result.disclosed if c not in inherited]

    # Atoms linked to each atom through an identity (one hop), to find cells worth hiding.
    linked: dict[Atom, set[Atom]] = {}
    for r in relations:
        atoms = {a for a, _ in r.terms}
        for a in atoms:
            linked.setdefault(a, set()).update(atoms)

    every = [s.cell for s in ledger] + list(state)
    footprint = {c: set(atoms_of(schema, c)) for c in every}

    def reach(cell: Cell) -> set[Atom]:
        """Atoms tied to the cell: through an identity, or a published cell overlapping it."""
        out = set(atoms_of(schema, cell))
        for a in list(out):
            out |= linked.get(a, set())
        for c in every:
            if not out.isdisjoint(footprint[c]):
                out |= footprint[c]
        return out

    def hideable(cell: Cell) -> bool:
        s = state[cell]
        return (
            cell.source not in withheld
            and not schema[cell.source].exact
            and s.display is Display.value
            and cell not in known
            and values[cell] >= k
        )

    rounds = 0
    secondary: list[Cell] = []
    while True:
        rounds += 1
        disclosed = run()
        if not disclosed:
            break
        picked = False
        for e in disclosed:
            # First choice: a number the proof of the disclosure rests on (the LP's duals).
            blamed = [c for c in blame.get(e, ()) if c in state and hideable(c)]
            if blamed:
                best = min(blamed, key=lambda c: (c.category == TOTAL, values[c], c))
                state[best] = Shown(best, Display.hidden, None, k)
                secondary.append(best)
                picked = True
                continue
            near = reach(e)
            options = [c for c in state if hideable(c) and not near.isdisjoint(atoms_of(schema, c))]
            if not options:
                continue
            best = min(
                options,
                key=lambda c: (
                    c.source != e.source,
                    (c.first, c.last) != (e.first, e.last),
                    c.category == TOTAL,
                    values[c],
                    c,
                ),
            )
            state[best] = Shown(best, Display.hidden, None, k)
            secondary.append(best)
            picked = True
        if picked:
            continue
        # Nothing left to hide: leave out the sources involved, then everything new.
        present = {c.source for c in state if not schema[c.source].exact} - withheld
        near = set().union(*(reach(e) for e in disclosed))
        involved = {
            c.source
            for c in state
            if c.source in present
            and not schema[c.source].exact
            and not near.isdisjoint(atoms_of(schema, c))
        }
        if involved:
            withheld |= involved
        elif present:
            withheld |= present
        else:
            break  # nothing new is published any more: only inherited disclosures remain

    # Show again what the proof does not need, largest first.
    for cell in sorted(secondary, key=lambda c: -values[c]):
        if cell.source in withheld or state[cell].display is not Display.hidden:
            continue
        state[cell] = Shown(cell, Display.value, values[cell], k)
        if run():
            state[cell] = Shown(cell, Display.hidden, None, k)
    return Decision(
        shown=current(), withheld=withheld, inherited=sorted(inherited or ()), rounds=rounds
    )
