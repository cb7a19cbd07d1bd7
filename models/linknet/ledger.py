"""The ledger: everything ever published to Link-net or in a yearly report, cell by cell.

- `LinknetPublication`: one post or report (its period, k, when, by whom).
- `LinknetCell`: each cell as it was shown — a number, "k未満" or "秘匿" (never the hidden value).
- `LinknetAtom`: the internal monthly counts a publication was computed from, frozen the first
  time they are used, so a month's figures never change from one post to the next (a revision
  would itself reveal the few cases that changed). Internal only: never shown.
- `LinknetMeasure`: figures that are not counts (the median acknowledgement time), shown only
  when the count behind them is at least k.

New publications are checked against all of it (disclosure.suppress / audit).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint, func, insert
from sqlmodel import Field, Session, SQLModel, select

from models.base.db import UTCDateTime
from models.linknet.cells import Atom, Cell, Display, Shown


class LinknetPublication(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=64)  # e.g. post:2026-10 / post:2026-10:again:1
    kind: str = Field(max_length=12)  # post | report
    first: int  # month index of the period's first month
    last: int  # … and last month
    k: int
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    withheld: str = Field(default="", max_length=400)  # sources left out, comma-separated


class LinknetCell(SQLModel, table=True):
    __table_args__ = (Index("ix_linknetcell_key", "source", "category", "first", "last"),)

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="linknetpublication.id", index=True)
    source: str = Field(max_length=32)
    category: str = Field(max_length=32)
    first: int
    last: int
    display: str = Field(max_length=10)
    value: int | None = None  # only when shown as a number
    k: int


class LinknetAtom(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("source", "category", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=32)
    category: str = Field(max_length=32)
    month: int = Field(index=True)
    value: int
    frozen_at: datetime = Field(sa_type=UTCDateTime)


class LinknetMeasure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="linknetpublication.id", index=True)
    name: str = Field(max_length=32)
    first: int
    last: int
    value: float


def shown_cells(session: Session, *, publication_id: int | None = None) -> list[Shown]:
    """Every cell published (all publications, or one)."""
    query = select(LinknetCell)
    if publication_id is not None:
        query = query.where(LinknetCell.publication_id == publication_id)
    return [
        Shown(
            Cell(row.source, row.category, row.first, row.last),
            Display(row.display),
            row.value,
            row.k,
        )
        for row in session.exec(query.order_by(LinknetCell.id))
    ]


def frozen_atoms(session: Session) -> dict[Atom, int]:
    rows = session.exec(
        select(LinknetAtom.source, LinknetAtom.category, LinknetAtom.month, LinknetAtom.value)
    )
    return {(s, c, m): v for s, c, m, v in rows}


def freeze(session: Session, atoms: dict[Atom, int], *, at: datetime) -> int:
    """Store the atoms not stored yet; the first stored value of an atom stays."""
    have = set(frozen_atoms(session))
    rows = [
        {"source": source, "category": category, "month": month, "value": value, "frozen_at": at}
        for (source, category, month), value in atoms.items()
        if (source, category, month) not in have
    ]
    if rows:  # one statement: a first post freezes every month since the start (thousands)
        session.execute(insert(LinknetAtom), rows)
    return len(rows)


def record(
    session: Session,
    *,
    key: str,
    kind: str,
    first: int,
    last: int,
    k: int,
    cells: list[Shown],
    measures: dict[tuple[str, int, int], float],
    withheld: set[str],
    at: datetime,
    by_id: int | None,
) -> LinknetPublication:
    publication = LinknetPublication(
        key=key,
        kind=kind,
        first=first,
        last=last,
        k=k,
        created_at=at,
        created_by_id=by_id,
        withheld=",".join(sorted(withheld)),
    )
    session.add(publication)
    session.flush()
    if cells:
        session.execute(
            insert(LinknetCell),
            [
                {
                    "publication_id": publication.id,
                    "source": s.cell.source,
                    "category": s.cell.category,
                    "first": s.cell.first,
                    "last": s.cell.last,
                    "display": s.display.value,
                    "value": s.value if s.display is Display.value else None,
                    "k": s.k,
                }
                for s in cells
            ],
        )
    if measures:
        session.execute(
            insert(LinknetMeasure),
            [
                {"publication_id": publication.id, "name": n, "first": a, "last": b, "value": v}
                for (n, a, b), v in measures.items()
            ],
        )
    return publication


def head(session: Session) -> int:
    """The newest publication's id (0 before the first): a draft is valid while it is unchanged."""
    return session.exec(select(func.max(LinknetPublication.id))).one() or 0


def publication_by_key(session: Session, key: str) -> LinknetPublication | None:
    return session.exec(select(LinknetPublication).where(LinknetPublication.key == key)).first()


def publications_for(
    session: Session, *, kind: str, first: int, last: int
) -> list[LinknetPublication]:
    return list(
        session.exec(
            select(LinknetPublication)
            .where(
                LinknetPublication.kind == kind,
                LinknetPublication.first == first,
                LinknetPublication.last == last,
            )
            .order_by(LinknetPublication.id)
        )
    )


def measures_of(session: Session, publication_id: int) -> dict[tuple[str, int, int], float]:
    rows = session.exec(
        select(LinknetMeasure).where(LinknetMeasure.publication_id == publication_id)
    )
    return {(m.name, m.first, m.last): m.value for m in rows}
